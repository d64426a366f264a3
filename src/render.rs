//! The jobs a user runs, from checked settings to finished files.
use crate::dream::{DreamParams, Dreamer};
use crate::error::{Error, Result};
use crate::image_io::{image_to_tensor, load_image, save_image};
use crate::network::{Network, NetworkOptions};
use crate::output::check_output_path;
use crate::settings::Settings;
use std::path::Path;
use std::time::{Duration, Instant};

/// How the library tells the caller about progress; the binary draws it with indicatif.
pub trait Progress {
    /// Units of work in the job (frames, or ascent steps for a still), when known.
    fn start(&mut self, _total: Option<u64>) {}
    fn advance(&mut self, _done: u64) {}
    fn finish(&mut self) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// The network on its device, ready to dream with the settings' parameters.
pub struct Engine {
    pub network: Network,
    pub params: DreamParams,
    pub seed: u64,
    /// Replay ascent steps from CUDA graphs (CUDA only; see [`Dreamer::use_cuda_graphs`]).
    pub cuda_graphs: bool,
}

impl Engine {
    /// Resolves the device, sets torch's threads, loads the weights and checks the layers.
    pub fn load(settings: &Settings) -> Result<Engine> {
        let network = load_network(settings)?;
        let params = settings.dream_params(&network)?;
        Ok(Engine { network, params, seed: settings.seed, cuda_graphs: settings.cuda_graphs })
    }

    pub fn dreamer(&self) -> Result<Dreamer<'_>> {
        let mut dreamer = Dreamer::new(&self.network, self.params.clone(), self.seed)?;
        dreamer.use_cuda_graphs(self.cuda_graphs && self.network.device().is_cuda());
        Ok(dreamer)
    }
}

/// Resolves the device, sets torch's threads and loads the settings' network.
pub fn load_network(settings: &Settings) -> Result<Network> {
    let device = crate::device::resolve_device(&settings.device)?;
    if settings.threads > 0 {
        tch::set_num_threads(settings.threads as i32);
    }
    tch::manual_seed(settings.seed as i64);
    if device.is_cuda() {
        // Off unless asked: autotuning costs 12-27 s on an H200 for each new shape (every
        // octave, forward and backward), far more than it saves on a still or a short clip.
        tch::Cuda::cudnn_set_benchmark(settings.cudnn_benchmark);
    }
    let options = NetworkOptions::default();
    let mut network = match &settings.weights {
        Some(path) if !path.is_file() => return Err(Error::input(path, "weights file not found (--weights)")),
        Some(path) => Network::load(settings.model, path, device, options)?,
        None => Network::load_installed(settings.model, device, options)?,
    };
    network.set_precision(settings.precision.kind_on(device))?;
    Ok(network)
}

/// What a finished still render measured.
#[derive(Clone, Debug)]
pub struct StillReport {
    pub width: u32,
    pub height: u32,
    pub objective_before: f64,
    pub objective_after: f64,
    pub elapsed: Duration,
}

/// Dreams one still image into `output`.
pub fn render_still(
    input: &Path,
    output: &Path,
    settings: &Settings,
    progress: &mut dyn Progress,
) -> Result<StillReport> {
    let from_noise = input == Path::new(NOISE);
    let inputs: &[&Path] = if from_noise { &[] } else { &[input] };
    check_output_path(output, inputs)?;
    crate::image_io::output_image_format(output)?;
    let image = if from_noise { None } else { Some(load_image(input, settings.width)?) };
    let engine = Engine::load(settings)?;
    let started = Instant::now();
    progress.start(Some(1));
    let x = match &image {
        Some(image) => image_to_tensor(image, engine.network.device())?,
        None => noise_start(settings, engine.network.device())?,
    };
    let objective = &engine.params.objective;
    let objective_before = objective.value_of(&engine.network, &x)?;
    let dreamed = engine.dreamer()?.dream(&x)?;
    let objective_after = objective.value_of(&engine.network, &dreamed)?;
    save_image(&dreamed, output)?;
    progress.advance(1);
    progress.finish();
    let size = x.size();
    Ok(StillReport {
        width: size[3] as u32,
        height: size[2] as u32,
        objective_before,
        objective_after,
        elapsed: started.elapsed(),
    })
}

/// The input name that starts a still (or a zoom) from seeded noise instead of a file.
pub const NOISE: &str = "noise";

/// A still's noise start: `--width` x `--height` (square when only the width is given).
fn noise_start(settings: &Settings, device: tch::Device) -> Result<tch::Tensor> {
    let width = settings.width.ok_or_else(|| Error::setting("--width", "a still from noise needs --width"))?;
    let height = settings.height.unwrap_or(width);
    crate::transform::noise(height as i64, width as i64, settings.seed, device)
}
