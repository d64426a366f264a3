//! CUDA graphs and the caching allocator's statistics, through the C++ shim `csrc/cuda_graph.cpp`
//! (tch 0.24 exposes neither). On CUDA one ascent step per octave shape is captured once and then
//! replayed: the step is launch-bound (12-15 ms eager whatever the size on an H200, 3-9 ms as a
//! graph), so replaying pays from the second frame of a video.
//!
//! Without CUDA, or with a libtorch or headers the shim was not built against, every call returns
//! [`GraphError`], and the dream runs eagerly: the callers treat any failure as "use eager".
use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use tch::{Device, Tensor};

unsafe extern "C" {
    fn dreamreel_cuda_shim_compiled() -> c_int;
    fn dreamreel_cuda_device_count() -> c_int;
    fn dreamreel_graph_new(device: c_int, out: *mut *mut c_void, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_graph_free(graph: *mut c_void);
    fn dreamreel_graph_stream(graph: *mut c_void, enter: c_int, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_graph_capture_begin(graph: *mut c_void, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_graph_capture_end(graph: *mut c_void, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_graph_replay(graph: *mut c_void, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_cuda_memory(
        device: c_int,
        peak_allocated: *mut i64,
        peak_reserved: *mut i64,
        error: *mut c_char,
        len: usize,
    ) -> c_int;
    fn dreamreel_cuda_reset_peak(device: c_int, error: *mut c_char, len: usize) -> c_int;
    fn dreamreel_cuda_device_name(
        device: c_int,
        name: *mut c_char,
        len: usize,
        error: *mut c_char,
        elen: usize,
    ) -> c_int;
}

/// Why a graph could not be made or run (the message of the C++ exception, or "unavailable").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("CUDA graph: {0}")]
pub struct GraphError(pub String);

/// Calls a shim function that reports failure as -1 and a message.
fn call(f: impl FnOnce(*mut c_char, usize) -> c_int) -> Result<(), GraphError> {
    let mut message = [0 as c_char; 512];
    if f(message.as_mut_ptr(), message.len()) == 0 {
        return Ok(());
    }
    // SAFETY: the shim always writes a NUL-terminated string into the buffer on failure.
    let text = unsafe { CStr::from_ptr(message.as_ptr()) }.to_string_lossy().into_owned();
    Err(GraphError(text))
}

/// True when the shim was compiled against CUDA (not the stub); says nothing about a GPU being here.
pub(crate) fn shim_compiled() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { dreamreel_cuda_shim_compiled() == 1 }
}

/// CUDA GPUs the shim sees (0 with the stub).
pub fn device_count() -> usize {
    // SAFETY: no arguments; the shim catches every exception.
    unsafe { dreamreel_cuda_device_count() }.max(0) as usize
}

fn cuda_index(device: Device) -> Result<c_int, GraphError> {
    match device {
        Device::Cuda(index) if shim_compiled() => Ok(index as c_int),
        Device::Cuda(_) => Err(GraphError("unavailable: dreamreel was built without the CUDA headers".into())),
        other => Err(GraphError(format!("unavailable on {other:?}"))),
    }
}

/// The GPU's name, e.g. "NVIDIA H100 80GB HBM3".
pub(crate) fn device_name(device: Device) -> Result<String, GraphError> {
    let index = cuda_index(device)?;
    let mut name = [0 as c_char; 256];
    // SAFETY: both buffers outlive the call and their lengths are passed with them.
    call(|error, len| unsafe { dreamreel_cuda_device_name(index, name.as_mut_ptr(), name.len(), error, len) })?;
    // SAFETY: written NUL-terminated by the shim on success.
    Ok(unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned())
}

/// Peak bytes (allocated, reserved) of torch's CUDA caching allocator since the last reset.
pub(crate) fn peak_memory(device: Device) -> Result<(u64, u64), GraphError> {
    let index = cuda_index(device)?;
    let (mut allocated, mut reserved) = (0i64, 0i64);
    // SAFETY: the outputs are plain integers that outlive the call.
    call(|error, len| unsafe { dreamreel_cuda_memory(index, &mut allocated, &mut reserved, error, len) })?;
    Ok((allocated.max(0) as u64, reserved.max(0) as u64))
}

/// Starts the allocator's peak counts afresh.
pub(crate) fn reset_peak_memory(device: Device) -> Result<(), GraphError> {
    let index = cuda_index(device)?;
    // SAFETY: plain integer argument; the shim catches every exception.
    call(|error, len| unsafe { dreamreel_cuda_reset_peak(index, error, len) })
}

/// A step as a graph runs it: the static inputs in, one output tensor out.
pub type Step<'a> = Box<dyn FnMut(&[Tensor]) -> crate::Result<Tensor> + 'a>;

/// One captured computation with its static inputs and output: replaying it reads `inputs` and
/// overwrites `output` in place. Everything else the step used (scalars, shapes) is frozen into
/// the graph at capture: a value that changes between replays must be one of the inputs.
pub(crate) struct Graph {
    raw: *mut c_void,
    pub inputs: Vec<Tensor>,
    pub output: Tensor,
}

impl Graph {
    /// Captures `step(inputs) -> output` on the inputs' device after `warmup` eager runs, all on
    /// a side stream (capture is refused on the default stream; the warm-up lets cuDNN and the
    /// allocator settle before capture). `inputs` must not be reallocated afterwards.
    pub fn capture(
        inputs: Vec<Tensor>,
        warmup: usize,
        step: &mut dyn FnMut(&[Tensor]) -> crate::Result<Tensor>,
    ) -> Result<Graph, GraphError> {
        let device = inputs.first().map_or(Device::Cpu, Tensor::device);
        let index = cuda_index(device)?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: `raw` receives a new object that Graph owns and frees in Drop.
        call(|error, len| unsafe { dreamreel_graph_new(index, &mut raw, error, len) })?;
        let mut graph = Graph { raw, inputs, output: Tensor::new() };
        graph.stream(true)?;
        let captured = graph.warm_up_and_capture(warmup, step);
        let restored = graph.stream(false);
        graph.output = captured?;
        restored?;
        Ok(graph)
    }

    fn warm_up_and_capture(
        &mut self,
        warmup: usize,
        step: &mut dyn FnMut(&[Tensor]) -> crate::Result<Tensor>,
    ) -> Result<Tensor, GraphError> {
        let failed = |e: crate::Error| GraphError(e.to_string());
        for _ in 0..warmup {
            let _ = step(&self.inputs).map_err(failed)?;
        }
        let raw = self.raw;
        // SAFETY: `raw` is live for self's lifetime.
        call(|error, len| unsafe { dreamreel_graph_capture_begin(raw, error, len) })?;
        let output = step(&self.inputs);
        // End the capture whatever happened, so the stream is usable again.
        // SAFETY: as above.
        let ended = call(|error, len| unsafe { dreamreel_graph_capture_end(raw, error, len) });
        let output = output.map_err(failed)?;
        ended?;
        Ok(output)
    }

    fn stream(&self, enter: bool) -> Result<(), GraphError> {
        let raw = self.raw;
        // SAFETY: `raw` is live for self's lifetime.
        call(|error, len| unsafe { dreamreel_graph_stream(raw, c_int::from(enter), error, len) })
    }

    /// Copies `inputs` into the static inputs, replays, and returns the static output (valid
    /// until the next replay).
    pub fn run(&self, inputs: &[&Tensor]) -> Result<&Tensor, GraphError> {
        copy_into(&self.inputs, inputs)?;
        let raw = self.raw;
        // SAFETY: `raw` is live for self's lifetime.
        call(|error, len| unsafe { dreamreel_graph_replay(raw, error, len) })?;
        Ok(&self.output)
    }
}

fn copy_into(targets: &[Tensor], inputs: &[&Tensor]) -> Result<(), GraphError> {
    for (target, input) in targets.iter().zip(inputs) {
        target.shallow_clone().f_copy_(input).map_err(|e| GraphError(e.to_string()))?;
    }
    Ok(())
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: `raw` came from dreamreel_graph_new and is freed once; null is accepted.
        unsafe { dreamreel_graph_free(self.raw) }
    }
}

/// A graph's stand-in off CUDA, for tests: "capture" keeps the step and static copies of its
/// inputs, "replay" copies the new inputs in and runs the kept step on the static ones. Like a
/// real graph it never sees a later call's step, so a value not passed as an input stays as it
/// was at capture: the same mistakes show, on the CPU.
struct Emulated<'a> {
    inputs: Vec<Tensor>,
    step: Step<'a>,
}

enum Captured<'a> {
    Graph(Graph),
    Emulated(Emulated<'a>),
}

/// Graphs by input shapes and a key of what else the step froze (each octave has its own shape;
/// a changed prior has its own key), captured on first use. A capture that failed is remembered
/// and stays eager, so a failure costs one try, not one per step.
#[derive(Default)]
pub struct GraphCache<'a> {
    graphs: HashMap<(Vec<Vec<i64>>, u64), Option<Captured<'a>>>,
    /// Capture as [`Emulated`] stand-ins instead of CUDA graphs (tests on the CPU).
    emulate: bool,
    /// The first failure, for `bench` and the tests to report.
    pub first_error: Option<GraphError>,
    /// Steps that replayed a graph, and steps that ran eagerly.
    pub replays: u64,
    pub eager_steps: u64,
    /// Graphs captured (emulated ones too).
    pub captures: u64,
}

impl<'a> GraphCache<'a> {
    /// A cache whose "graphs" are CPU stand-ins with a graph's semantics (see [`Emulated`]).
    pub(crate) fn emulated() -> GraphCache<'a> {
        GraphCache { emulate: true, ..Default::default() }
    }

    pub(crate) fn is_emulated(&self) -> bool {
        self.emulate
    }

    /// Runs `step` on `inputs` through the graph for their shapes and `frozen` (capturing it
    /// first), else eagerly. `frozen` must change whenever the step would compute differently
    /// from the same inputs; everything that changes from call to call must be an input.
    pub fn run(
        &mut self,
        frozen: u64,
        inputs: &[&Tensor],
        mut step: impl FnMut(&[Tensor]) -> crate::Result<Tensor> + 'a,
    ) -> crate::Result<Tensor> {
        let key = (inputs.iter().map(|t| t.size()).collect::<Vec<_>>(), frozen);
        if !self.graphs.contains_key(&key) {
            let copies: Result<Vec<Tensor>, GraphError> =
                inputs.iter().map(|t| t.f_detach_copy().map_err(|e| GraphError(e.to_string()))).collect();
            if self.emulate {
                let copies = copies.map_err(|e| crate::Error::internal(e.0))?;
                self.graphs
                    .insert(key.clone(), Some(Captured::Emulated(Emulated { inputs: copies, step: Box::new(step) })));
                self.captures += 1;
                // The stand-in holds the step now; its failures are the step's own.
                return self.replay(&key, inputs).map_err(|e| crate::Error::internal(e.0));
            }
            let captured = copies.and_then(|copies| Graph::capture(copies, 2, &mut step)).map(Captured::Graph);
            let captured = captured.map_err(|e| self.first_error.get_or_insert(e).clone()).ok();
            self.captures += u64::from(captured.is_some());
            self.graphs.insert(key.clone(), captured);
        }
        self.replay_or(&key, inputs, step)
    }

    fn replay_or(
        &mut self,
        key: &(Vec<Vec<i64>>, u64),
        inputs: &[&Tensor],
        mut step: impl FnMut(&[Tensor]) -> crate::Result<Tensor>,
    ) -> crate::Result<Tensor> {
        if let Some(Some(_)) = self.graphs.get(key) {
            match self.replay(key, inputs) {
                Ok(output) => return Ok(output),
                Err(error) => {
                    self.first_error.get_or_insert(error);
                    self.graphs.insert(key.clone(), None);
                }
            }
        }
        self.eager_steps += 1;
        step(&inputs.iter().map(|t| t.shallow_clone()).collect::<Vec<_>>())
    }

    fn replay(&mut self, key: &(Vec<Vec<i64>>, u64), inputs: &[&Tensor]) -> Result<Tensor, GraphError> {
        let failed = |e: &dyn std::fmt::Display| GraphError(e.to_string());
        let output = match self.graphs.get_mut(key) {
            Some(Some(Captured::Graph(graph))) => graph.run(inputs)?.f_detach_copy().map_err(|e| failed(&e))?,
            Some(Some(Captured::Emulated(emulated))) => {
                copy_into(&emulated.inputs, inputs)?;
                let output = (emulated.step)(&emulated.inputs).map_err(|e| failed(&e))?;
                output.f_detach_copy().map_err(|e| failed(&e))?
            }
            _ => return Err(GraphError("no graph".into())),
        };
        self.replays += 1;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shim_is_the_one_build_rs_chose() {
        // The C++ side (DREAMREEL_CUDA defined or not) agrees with the cfg build.rs set for Rust.
        assert_eq!(shim_compiled(), cfg!(dreamreel_cuda_shim));
        if !shim_compiled() {
            assert_eq!(device_count(), 0);
        }
    }

    #[test]
    fn on_the_cpu_every_call_reports_unavailable_and_the_cache_runs_eagerly() {
        assert!(device_name(Device::Cpu).unwrap_err().0.contains("unavailable"));
        assert!(peak_memory(Device::Cpu).is_err());
        let mut cache = GraphCache::default();
        let x = Tensor::from_slice(&[1.0f32, 2.0]);
        let doubled = cache.run(0, &[&x], |t| Ok(t[0].f_mul_scalar(2.0)?)).unwrap();
        let again = cache.run(0, &[&x], |t| Ok(t[0].f_mul_scalar(2.0)?)).unwrap();
        assert_eq!(Vec::<f32>::try_from(&doubled).unwrap(), vec![2.0, 4.0]);
        assert_eq!(Vec::<f32>::try_from(&again).unwrap(), vec![2.0, 4.0]);
        assert_eq!((cache.replays, cache.eager_steps), (0, 2));
        assert!(cache.first_error.unwrap().0.contains("unavailable"));
    }

    #[test]
    fn an_emulated_graph_replays_its_inputs_and_freezes_everything_else() {
        let mut cache = GraphCache::emulated();
        let x = Tensor::from_slice(&[1.0f32, 2.0]);
        let factor = Tensor::from_slice(&[3.0f32]);
        let mut constant = 2.0;
        let run = |cache: &mut GraphCache, factor: &Tensor, constant: f64| {
            let out = cache.run(0, &[&x, factor], move |t| Ok(t[0].f_mul(&t[1])?.f_add_scalar(constant)?)).unwrap();
            Vec::<f32>::try_from(&out).unwrap()
        };
        assert_eq!(run(&mut cache, &factor, constant), vec![5.0, 8.0]);
        // A new input value reaches the replay ...
        assert_eq!(run(&mut cache, &Tensor::from_slice(&[10.0f32]), constant), vec![12.0, 22.0]);
        // ... a value baked into the step does not: it replays as captured, as a CUDA graph would.
        constant = 100.0;
        assert_eq!(run(&mut cache, &factor, constant), vec![5.0, 8.0]);
        assert_eq!((cache.captures, cache.replays, cache.eager_steps), (1, 3, 0));
        // A new frozen key captures afresh.
        let out = cache.run(1, &[&x, &factor], move |t| Ok(t[0].f_mul(&t[1])?.f_add_scalar(constant)?)).unwrap();
        assert_eq!(Vec::<f32>::try_from(&out).unwrap(), vec![103.0, 106.0]);
        assert_eq!(cache.captures, 2);
    }
}
