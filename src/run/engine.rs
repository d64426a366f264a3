//! The one adapter from settings to the dream engine: the network loaded on its device in its
//! precision, the layers and objective checked against it, the ascent's parameters.
use crate::config::settings::Settings;
use crate::engine::ascent::{DreamParams, Dreamer};
use crate::engine::fourier::Prior;
use crate::engine::objective::{DEFAULT_CLASS_BLUR, GUIDE_WIDTH, Objective, parse_channels};
use crate::engine::visualize::VisualParams;
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image};
use crate::frame::mask::Mask;
use crate::model::device::resolve_device;
use crate::model::imagenet::parse_classes;
use crate::model::layers::{LayerId, NetworkOptions};
use crate::model::network::Network;
use tch::Device;

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
        let params = dream_params(settings, &network)?;
        Ok(Engine { network, params, seed: settings.seed, cuda_graphs: settings.cuda_graphs })
    }

    pub fn dreamer(&self) -> Result<Dreamer<'_>> {
        let mut dreamer = Dreamer::new(&self.network, self.params.clone(), self.seed)?;
        dreamer.use_cuda_graphs(self.cuda_graphs && self.network.device().is_cuda());
        Ok(dreamer)
    }
}

/// Resolves the device, sets torch's threads and loads the settings' network in its precision.
pub fn load_network(settings: &Settings) -> Result<Network> {
    let device = resolve_device(&settings.device)?;
    if settings.threads > 0 {
        tch::set_num_threads(settings.threads as i32);
    }
    tch::manual_seed(settings.seed as i64);
    if device.is_cuda() {
        // Off unless asked: autotuning costs 12-27 s on an H200 for each new shape (every
        // octave, forward and backward), far more than it saves on a still or a short clip.
        tch::Cuda::cudnn_set_benchmark(settings.cudnn_benchmark);
    }
    let mut network = load_network_on(settings, device)?;
    network.set_precision(settings.precision.kind_on(device))?;
    Ok(network)
}

/// The settings' network (its installed weights or `--weights`) on `device`, in fp32, touching no
/// global state: what the batch pre-check checks layers and channels against.
pub(crate) fn load_network_on(settings: &Settings, device: Device) -> Result<Network> {
    let options = NetworkOptions::default();
    match &settings.weights {
        Some(path) if !path.is_file() => Err(Error::input(path, "weights file not found (--weights)")),
        Some(path) => Network::load(settings.model, path, device, options),
        None => Network::load_installed(settings.model, device, options),
    }
}

/// The dream's parameters, with layer names checked against `network`.
pub fn dream_params(settings: &Settings, network: &Network) -> Result<DreamParams> {
    let mut layers = Vec::new();
    for name in settings.layers.split(',').filter(|n| !n.trim().is_empty()) {
        let layer = network.parse_layer(name).ok_or_else(|| {
            Error::setting(
                "--layers",
                format!("'{}' is not a layer of {}: {}", name.trim(), network.kind().name(), network.layer_hint()),
            )
        })?;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    let (objective, blur) = objective_of(settings, network, &layers)?;
    let mask = settings.mask.as_deref().map(|path| Mask::load(path, settings.mask_invert)).transpose()?;
    let visual = VisualParams {
        steps: settings.steps,
        image_steps: settings.image_steps,
        learning_rate: settings.learning_rate,
        decay: settings.decay,
        transforms: settings.transforms,
    };
    let params = DreamParams {
        objective,
        blur,
        prior: settings.prior.unwrap_or(Prior::Pixel),
        noise_prior: settings.prior.unwrap_or(Prior::Fourier),
        visual,
        mask,
        layers,
        octaves: settings.octaves,
        octave_scale: settings.octave_scale,
        iterations: settings.iterations,
        step: settings.step,
        jitter: settings.jitter,
        tile: settings.tile,
    };
    params.validate()?;
    Ok(params)
}

/// The objective and image prior that `settings` ask for; `layers` are the checked `--layers`,
/// which a guide uses as its layers.
pub(crate) fn objective_of(settings: &Settings, network: &Network, layers: &[LayerId]) -> Result<(Objective, f64)> {
    let objective = if !settings.channels.is_empty() {
        let sets = settings.channels.iter().map(|text| parse_channels(network, text)).collect::<Result<_>>()?;
        Objective::Channels(sets)
    } else if let Some(classes) = &settings.class {
        let class = Objective::Class(parse_classes(classes)?);
        if settings.class_layers { Objective::Sum(vec![class, Objective::Layers(layers.to_vec())]) } else { class }
    } else if let Some(path) = &settings.guide {
        let image = load_image(path, Some(GUIDE_WIDTH)).map_err(|e| match e {
            Error::Setting { message, .. } => Error::input(path, format!("--guide: {message}")),
            other => other,
        })?;
        let guide = image_to_tensor(&image, network.device())?;
        Objective::guide(network, &guide, layers)?
    } else {
        Objective::Layers(layers.to_vec())
    };
    let default_blur = if settings.class.is_some() { DEFAULT_CLASS_BLUR } else { 0.0 };
    Ok((objective, settings.blur.unwrap_or(default_blur)))
}
