//! `dreamreel bench`: dreams a short zoom in memory (no video I/O, so it runs in a build without
//! FFmpeg, e.g. on a GPU machine) and reports seconds per frame, frames per second and peak memory.
//! From noise, the first frame starts as a zoom from noise starts (the Fourier prior unless
//! `--prior pixel`), so `bench --class C --frames 1` times an object from noise.
use crate::engine::cuda_graph::GraphCache;
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image};
use crate::frame::transform::{Motion, noise};
use crate::job::bench::BenchOptions;
use crate::run::dream_setup::DreamSetup;
use serde::Serialize;
use std::time::Instant;
use tch::{Device, Kind};

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub device: String,
    /// The GPU's name on CUDA (None on the CPU).
    pub gpu: Option<String>,
    /// The network's number format: fp32, bf16 or fp16.
    pub precision: String,
    pub model: String,
    pub width: i64,
    pub height: i64,
    pub frames: u32,
    /// Median over the frames after the first (a warm-up), as the reference counts.
    pub seconds_per_frame: f64,
    pub frames_per_second: f64,
    pub first_frame_seconds: f64,
    /// Peak resident memory of the process.
    pub peak_rss_bytes: Option<u64>,
    /// Peak bytes allocated by torch's CUDA caching allocator (tensors), and reserved by it
    /// (what the process holds on the card), over the frames; None on the CPU.
    pub peak_gpu_allocated_bytes: Option<u64>,
    pub peak_gpu_reserved_bytes: Option<u64>,
    /// How the first frame was dreamed: "fourier" (an object grown from noise by Adam) or
    /// "pixel" (the octave ascent, as every later frame unless `--prior fourier`).
    pub first_frame_prior: String,
    /// CUDA graphs: "off", "replayed N of M steps", or why they fell back to eager.
    pub cuda_graphs: String,
    /// The dream's own objective (layers, channels, classes or guide) of the last frame.
    pub objective: f64,
}

pub fn run_bench(options: &BenchOptions) -> Result<BenchReport> {
    if options.frames == 0 {
        return Err(Error::setting("frames", "must be at least 1"));
    }
    let spec = options.dream();
    let setup = DreamSetup::load(spec)?;
    let device = setup.network().device();
    // Peak memory from here on (weights included, start-up probing not); errors mean "no CUDA".
    let _ = crate::engine::cuda_graph::reset_peak_memory(device);
    let mut x = match &options.input {
        Some(path) => image_to_tensor(&load_image(path, Some(options.width))?, device)?,
        None => noise(options.height as i64, options.width as i64, spec.seed(), device)?,
    };
    let motion = Motion { zoom: options.zoom, ..Motion::NONE };
    let from_noise = options.input.is_none();
    // The prior the dreamer takes for the first frame: from noise or from the input.
    let first_frame_prior = if from_noise { spec.noise_prior() } else { spec.image_prior() };
    // Scheduled dream settings (`--step "0:(0.01), 11:(0.04)"`) change per frame as in a render.
    let plan = crate::job::plan::FramePlan::new(options.per_frame(), options.fps, u64::from(options.frames), None)?;
    let params = setup.params(plan.frame(0))?;
    let objective = params.objective.clone();
    let mut dreamer = setup.dreamer(params)?;
    let mut times = Vec::with_capacity(options.frames as usize);
    for index in 0..options.frames {
        let started = Instant::now();
        if index > 0 && plan.frame(u64::from(index)) != plan.frame(u64::from(index - 1)) {
            dreamer.set_params(setup.params(plan.frame(u64::from(index)))?)?;
        }
        dreamer.start_frame(index as u64);
        if index > 0 {
            x = motion.apply(&x)?;
        }
        x = match index == 0 && from_noise {
            true => dreamer.dream_from_noise(&x)?,
            false => dreamer.dream(&x)?,
        };
        synchronize(device);
        times.push(started.elapsed().as_secs_f64());
    }
    let counted = if times.len() > 1 { &times[1..] } else { &times[..] };
    let seconds_per_frame = median(counted);
    let size = x.size();
    let gpu_memory = crate::engine::cuda_graph::peak_memory(device).ok();
    Ok(BenchReport {
        device: crate::model::device::device_name(device),
        gpu: crate::engine::cuda_graph::device_name(device).ok(),
        precision: precision_name(setup.network().precision()).into(),
        model: spec.model().name().into(),
        width: size[3],
        height: size[2],
        frames: options.frames,
        seconds_per_frame,
        frames_per_second: 1.0 / seconds_per_frame,
        first_frame_seconds: times[0],
        peak_rss_bytes: peak_rss_bytes(),
        peak_gpu_allocated_bytes: gpu_memory.map(|(allocated, _)| allocated),
        peak_gpu_reserved_bytes: gpu_memory.map(|(_, reserved)| reserved),
        first_frame_prior: first_frame_prior.name().into(),
        cuda_graphs: graphs_summary(dreamer.cuda_graphs()),
        objective: objective.value_of(setup.network(), &x)?,
    })
}

fn precision_name(kind: Kind) -> &'static str {
    match kind {
        Kind::BFloat16 => "bf16",
        Kind::Half => "fp16",
        _ => "fp32",
    }
}

fn graphs_summary(graphs: Option<&GraphCache>) -> String {
    match graphs {
        None => "off".into(),
        Some(g) => match &g.first_error {
            Some(error) if g.replays == 0 => format!("eager ({error})"),
            _ => format!("replayed {} of {} steps", g.replays, g.replays + g.eager_steps),
        },
    }
}

fn synchronize(device: Device) {
    if let Device::Cuda(index) = device {
        tch::Cuda::synchronize(index as i64);
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[middle - 1] + sorted[middle]) / 2.0 } else { sorted[middle] }
}

/// VmHWM from /proc (Linux); None elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
