//! The dream engine set up for a job: the network of its [`DreamSpec`] loaded on its device in its
//! precision, and each frame's dream parameters built from the spec and that frame's row of the
//! plan (layers, channels and class checked against the network, one objective per distinct
//! choice of them).
use crate::engine::ascent::{DreamParams, Dreamer};
use crate::engine::objective::{DEFAULT_CLASS_BLUR, GUIDE_WIDTH, Objective, parse_channels};
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image};
use crate::frame::mask::Mask;
use crate::job::dream::DreamSpec;
use crate::job::plan::{FramePlan, FrameValues};
use crate::model::device::resolve_device;
use crate::model::imagenet::parse_classes;
use crate::model::layers::{LayerId, NetworkOptions};
use crate::model::network::Network;
use std::cell::RefCell;
use tch::Device;

/// The network on its device, ready to dream a job's frames.
pub struct DreamSetup {
    network: Network,
    spec: DreamSpec,
    /// The mask, loaded once.
    mask: Option<Mask>,
    /// Dream parameters by objective key (layers, channels, class): built once each.
    objectives: RefCell<Vec<(ObjectiveKey, DreamParams)>>,
}

/// What decides a frame's objective: its layers, channels and class.
type ObjectiveKey = (String, Vec<String>, Option<String>);

impl DreamSetup {
    /// Resolves the device, sets torch's threads and seed, loads the weights and the mask.
    pub fn load(spec: &DreamSpec) -> Result<DreamSetup> {
        let device = resolve_device(spec.device())?;
        if spec.threads() > 0 {
            tch::set_num_threads(spec.threads() as i32);
        }
        tch::manual_seed(spec.seed() as i64);
        if device.is_cuda() {
            // Off unless asked: autotuning costs 12-27 s on an H200 for each new shape (every
            // octave, forward and backward), far more than it saves on a still or a short clip.
            tch::Cuda::cudnn_set_benchmark(spec.cudnn_benchmark());
        }
        let mut network = load_network_on(spec, device)?;
        network.set_precision(spec.precision().kind_on(device))?;
        DreamSetup::with_network(spec, network)
    }

    /// The setup over a network already loaded (the batch pre-check's, on the CPU).
    pub fn with_network(spec: &DreamSpec, network: Network) -> Result<DreamSetup> {
        let mask = spec.mask().map(|(path, invert)| Mask::load(path, invert)).transpose()?;
        Ok(DreamSetup { network, spec: spec.clone(), mask, objectives: RefCell::new(Vec::new()) })
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The network back, for the next job that uses it.
    pub fn into_network(self) -> Network {
        self.network
    }

    pub fn spec(&self) -> &DreamSpec {
        &self.spec
    }

    /// The dream parameters of a frame whose values are `row`.
    pub fn params(&self, row: &FrameValues) -> Result<DreamParams> {
        let (layers, channels, class) = row.objective_key();
        let cached = self.objectives.borrow().iter().find_map(|((l, ch, c), params)| {
            (l == layers && ch.as_slice() == channels && c.as_deref() == class).then(|| params.clone())
        });
        let objective = match cached {
            Some(params) => params,
            None => {
                let made = objective_params(&self.network, &self.spec, self.mask.as_ref(), row)?;
                let key = (layers.to_string(), channels.to_vec(), class.map(str::to_string));
                self.objectives.borrow_mut().push((key, made.clone()));
                made
            }
        };
        with_numbers(objective, row)
    }

    /// A dreamer with `params` (a frame's, or the render's constants).
    pub fn dreamer(&self, params: DreamParams) -> Result<Dreamer<'_>> {
        let mut dreamer = Dreamer::new(&self.network, params, self.spec.seed())?;
        dreamer.use_cuda_graphs(self.spec.cuda_graphs() && self.network.device().is_cuda());
        Ok(dreamer)
    }
}

/// The parameters of `row`'s objective (its layers checked against the network), with the
/// objective's default blur.
fn objective_params(
    network: &Network,
    spec: &DreamSpec,
    mask: Option<&Mask>,
    row: &FrameValues,
) -> Result<DreamParams> {
    let mut layers = Vec::new();
    for name in row.layers.split(',').filter(|n| !n.trim().is_empty()) {
        let layer = network.parse_layer(name).ok_or_else(|| {
            Error::setting(
                "layers",
                format!("'{}' is not a layer of {}: {}", name.trim(), network.kind().name(), network.layer_hint()),
            )
        })?;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    let objective = objective(network, spec, row, &layers)?;
    let blur = if row.class.is_some() { DEFAULT_CLASS_BLUR } else { 0.0 };
    let numbers = &row.numbers;
    let params = DreamParams {
        objective,
        blur,
        prior: spec.image_prior(),
        noise_prior: spec.noise_prior(),
        visual: spec.visual(),
        mask: mask.cloned(),
        layers,
        octaves: spec.octaves(),
        octave_scale: numbers.octave_scale,
        iterations: numbers.iterations,
        step: numbers.step,
        jitter: numbers.jitter,
        tile: spec.tile(),
    };
    params.validate()?;
    Ok(params)
}

/// What the frame's dream maximises; `layers` are the checked layers, which a guide uses too.
fn objective(network: &Network, spec: &DreamSpec, row: &FrameValues, layers: &[LayerId]) -> Result<Objective> {
    if !row.channels.is_empty() {
        let sets = row.channels.iter().map(|text| parse_channels(network, text)).collect::<Result<_>>()?;
        return Ok(Objective::Channels(sets));
    }
    if let Some(classes) = &row.class {
        let class = Objective::Class(parse_classes(classes)?);
        return Ok(match spec.class_layers() {
            true => Objective::Sum(vec![class, Objective::Layers(layers.to_vec())]),
            false => class,
        });
    }
    if let Some(path) = spec.guide() {
        let image = load_image(path, Some(GUIDE_WIDTH)).map_err(|e| match e {
            // The guide is scaled to the guide's own width, not the render's.
            Error::Setting { message, .. } => Error::setting("guide", format!("{}: {message}", path.display())),
            other => other,
        })?;
        let guide = image_to_tensor(&image, network.device())?;
        return Objective::guide(network, &guide, layers);
    }
    Ok(Objective::Layers(layers.to_vec()))
}

/// A frame's numbers over its objective's parameters.
fn with_numbers(objective: DreamParams, row: &FrameValues) -> Result<DreamParams> {
    let numbers = &row.numbers;
    let params = DreamParams {
        octave_scale: numbers.octave_scale,
        iterations: numbers.iterations,
        step: numbers.step,
        jitter: numbers.jitter,
        blur: numbers.blur.unwrap_or(objective.blur),
        ..objective
    };
    params.validate()?;
    Ok(params)
}

/// Every frame's dream parameters of `plan` on `network` (a library caller's own network): what
/// a render builds frame by frame.
pub fn frame_params(spec: &DreamSpec, plan: &FramePlan, network: &Network) -> Result<Vec<DreamParams>> {
    let mask = spec.mask().map(|(path, invert)| Mask::load(path, invert)).transpose()?;
    let mut made: Vec<(&FrameValues, DreamParams)> = Vec::new();
    let mut params = Vec::with_capacity(plan.rows().len());
    for row in plan.rows() {
        let objective = match made.iter().find(|(other, _)| other.objective_key() == row.objective_key()) {
            Some((_, objective)) => objective.clone(),
            None => {
                let objective = objective_params(network, spec, mask.as_ref(), row)?;
                made.push((row, objective.clone()));
                objective
            }
        };
        params.push(with_numbers(objective, row)?);
    }
    Ok(params)
}

/// Checks what a render checks before its first frame: every distinct frame's layers, channels,
/// class and guide against the spec's network (loaded on the CPU), as `dreamreel plan` does.
pub fn check_plan(spec: &DreamSpec, plan: &FramePlan) -> Result<()> {
    let network = load_network_on(spec, Device::Cpu)?;
    let setup = DreamSetup::with_network(spec, network)?;
    let mut checked: Option<&FrameValues> = None;
    for row in plan.rows() {
        if checked != Some(row) {
            setup.params(row)?;
            checked = Some(row);
        }
    }
    Ok(())
}

/// The dream parameters of one frame whose values are `row`, on `network`.
pub fn dream_params(spec: &DreamSpec, row: &FrameValues, network: &Network) -> Result<DreamParams> {
    let mask = spec.mask().map(|(path, invert)| Mask::load(path, invert)).transpose()?;
    with_numbers(objective_params(network, spec, mask.as_ref(), row)?, row)
}

/// The spec's network (its installed weights or `--weights`) on `device`, in fp32, touching no
/// global state: what the batch pre-check checks layers and channels against.
pub(crate) fn load_network_on(spec: &DreamSpec, device: Device) -> Result<Network> {
    let options = NetworkOptions::default();
    match spec.weights() {
        Some(path) if !path.is_file() => {
            Err(Error::input(path, format!("weights file not found ({})", crate::error::mention("weights"))))
        }
        Some(path) => Network::load(spec.model(), path, device, options),
        None => Network::load_installed(spec.model(), device, options),
    }
}
