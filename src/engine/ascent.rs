//! The dream itself: gradient ascent on the chosen layers' activations, octave by octave.
//!
//! The canonical algorithm (the 2015 notebook, `deepdream_ref.py`): an image pyramid `octave_scale`
//! apart, smallest first; on each level `iterations` steps on `sum over layers of mean(act^2)`,
//! each under a random roll of up to `jitter` pixels, the gradient divided by its mean absolute
//! value times `step`, pixels clamped to [0, 1]; the detail added on a level is carried up.
use crate::engine::cuda_graph::GraphCache;
use crate::engine::fourier::Prior;
use crate::engine::objective::{MIN_SIDE, Objective, blur_prior, check_size};
use crate::engine::tiles::{TILE_BATCH_PIXELS_CPU, TILE_BATCH_PIXELS_CUDA, tile_plan};
use crate::engine::visualize::{Canvas, Start, VisualParams, visualize};
use crate::error::{Error, Result};
use crate::frame::mask::Mask;
use crate::frame::transform::resize;
use crate::model::layers::LayerId;
use crate::model::network::Network;
use rand::{Rng, SeedableRng};
// ChaCha8 rather than StdRng: its output is fixed by its specification, while StdRng's algorithm
// may change in any rand release, which would change every seeded render.
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use tch::{Kind, Tensor};

/// What [`Dreamer::dream_watched`] calls: the octave (from 0), how many there are, and that
/// octave's picture when it is finished (none between steps).
pub type OctaveWatch<'a> = dyn FnMut(usize, usize, Option<&Tensor>) -> Result<()> + 'a;

/// The settings of one dream, already checked.
#[derive(Clone, Debug, PartialEq)]
pub struct DreamParams {
    pub layers: Vec<LayerId>,
    pub octaves: u32,
    pub octave_scale: f64,
    pub iterations: u32,
    pub step: f64,
    pub jitter: u32,
    /// Ascend in tiles of at most this many pixels a side (bounds memory on big frames).
    pub tile: Option<u32>,
    /// What the ascent maximises (`Objective::Layers(layers)` unless channels, classes or a guide).
    pub objective: Objective,
    /// Share of a 3x3 blur mixed into the image after each step (the image prior; 0 for none).
    pub blur: f64,
    /// Pixel octaves, or the Fourier prior with Adam ([`visualize`]): for a dream of an image, and
    /// for one from noise; then the Fourier prior's settings.
    pub prior: Prior,
    pub noise_prior: Prior,
    pub visual: VisualParams,
    /// Where to dream: the mask's grey weights each step (black keeps the input).
    pub mask: Option<Mask>,
}

impl DreamParams {
    /// What a value built by hand (not through the settings, which check every range with the
    /// option's name) must still hold for the ascent to run at all.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::setting("layers", "name at least one layer"));
        }
        Ok(())
    }
}

// In `objective`, where the Fourier prior's loop finds it too.
pub use crate::engine::objective::FP16_LOSS_SCALE;

/// `sum over layers of mean(activation^2)` for `image` (N x 3 x H x W in [0, 1]): the classic
/// objective, as [`Objective::Layers`] computes it.
pub fn objective(network: &Network, image: &Tensor, layers: &[LayerId]) -> Result<Tensor> {
    Objective::Layers(layers.to_vec()).value(network, image)
}

/// The objective as a number, without building a graph.
pub fn objective_value(network: &Network, image: &Tensor, layers: &[LayerId]) -> Result<f64> {
    Objective::Layers(layers.to_vec()).value_of(network, image)
}

/// How a frame that starts from the previous dream (a zoom's frame after the first, footage's
/// frame carried along the flow) is dreamed: that frame already holds the dream's structures, so
/// it needs less ascent than the first (Ruder et al. 2016 found the same for video style
/// transfer). A frame alone (the first, the first after a cut) always gets the full dream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarrySchedule {
    /// Every octave, every iteration: each frame dreamed as the first.
    Full,
    /// Half the iterations on every octave.
    Half,
    /// The lowest octave left out (the carried frame holds its coarse structure), half the
    /// iterations on the others.
    SkipLowest,
    /// A third of the iterations on every octave.
    Third,
    /// Half the iterations at twice the step: the same distance in half the strides.
    LongStrides,
    /// Half the iterations where the flow carries the picture, more as the share of new pixels
    /// (occluded or revealed) grows: all of them when nothing is followed.
    Flow,
}

/// The ascent one frame runs: iterations on each octave, the lowest octaves left out, the step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OctaveSchedule {
    pub iterations: u32,
    /// Octaves left out from the smallest (of those the network can see; the largest always runs).
    pub skip_lowest: usize,
    pub step: f64,
}

impl OctaveSchedule {
    /// `iterations` on every octave at `step`: the full dream.
    pub fn full(iterations: u32, step: f64) -> OctaveSchedule {
        OctaveSchedule { iterations, skip_lowest: 0, step }
    }
}

impl CarrySchedule {
    pub const ALL: [CarrySchedule; 6] = [
        CarrySchedule::Full,
        CarrySchedule::Half,
        CarrySchedule::SkipLowest,
        CarrySchedule::Third,
        CarrySchedule::LongStrides,
        CarrySchedule::Flow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CarrySchedule::Full => "full",
            CarrySchedule::Half => "half",
            CarrySchedule::SkipLowest => "skip-lowest",
            CarrySchedule::Third => "third",
            CarrySchedule::LongStrides => "long-strides",
            CarrySchedule::Flow => "flow",
        }
    }

    /// The ascent of a carried frame whose full dream is `iterations` per octave at `step`;
    /// `new_share` is the share of the frame's pixels that carry nothing (0 for a zoom).
    pub fn carried(self, iterations: u32, step: f64, new_share: f64) -> OctaveSchedule {
        let share = |numerator: u32, denominator: u32| (iterations * numerator).div_ceil(denominator).max(1);
        let half = OctaveSchedule::full(share(1, 2), step);
        match self {
            CarrySchedule::Full => OctaveSchedule::full(iterations, step),
            CarrySchedule::Half => half,
            CarrySchedule::Third => OctaveSchedule::full(share(1, 3), step),
            CarrySchedule::SkipLowest => OctaveSchedule { skip_lowest: 1, ..half },
            CarrySchedule::LongStrides => {
                OctaveSchedule { step: step * iterations as f64 / half.iterations as f64, ..half }
            }
            CarrySchedule::Flow => {
                let extra = iterations.saturating_sub(half.iterations) as f64 * new_share.clamp(0.0, 1.0);
                OctaveSchedule::full(half.iterations + extra.round() as u32, step)
            }
        }
    }
}

/// Runs dreams with one random stream, so a seeded sequence of frames is repeatable.
pub struct Dreamer<'a> {
    network: &'a Network,
    params: DreamParams,
    seed: u64,
    rng: ChaCha8Rng,
    /// On CUDA, each octave shape's step captured as a CUDA graph (None: always eager).
    graphs: Option<GraphCache<'a>>,
    /// `params.step` as a tensor on the device: what a captured step reads, so a scheduled step
    /// reaches every replay (remade only when the step changes).
    step_size: Option<(f64, Tensor)>,
    /// The input shapes of the forward passes of the last dream, per octave.
    forward_shapes: Vec<BTreeSet<Vec<i64>>>,
    /// The ascent steps of the last dream.
    steps: u32,
}

impl<'a> Dreamer<'a> {
    pub fn new(network: &'a Network, params: DreamParams, seed: u64) -> Result<Self> {
        params.validate()?;
        let rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(Dreamer { network, params, seed, rng, graphs: None, step_size: None, forward_shapes: Vec::new(), steps: 0 })
    }

    /// Replays each untiled ascent step from a CUDA graph captured per octave shape, falling back
    /// to eager on any failure (off CUDA, capture fails at once and every step runs eagerly). The
    /// random roll stays outside the graph.
    pub fn use_cuda_graphs(&mut self, on: bool) {
        self.graphs = on.then(GraphCache::default);
    }

    /// Replays steps from CPU stand-ins with a CUDA graph's semantics (tests: see
    /// [`GraphCache::emulated`]), so the graph path is tested without a GPU.
    pub fn use_emulated_graphs(&mut self) {
        self.graphs = Some(GraphCache::emulated());
    }

    /// The graphs' record (replays, eager steps, first failure), when they are in use.
    pub fn cuda_graphs(&self) -> Option<&GraphCache<'a>> {
        self.graphs.as_ref()
    }

    /// Dreams the next frames with `params` (a schedule's values for the frame). A new objective
    /// is a new computation: the captured graphs go, and are captured again on their next use.
    pub fn set_params(&mut self, params: DreamParams) -> Result<()> {
        params.validate()?;
        if params.objective != self.params.objective
            && let Some(graphs) = &mut self.graphs
        {
            *graphs = if graphs.is_emulated() { GraphCache::emulated() } else { GraphCache::default() };
        }
        self.params = params;
        Ok(())
    }

    /// `step` as a tensor on `device`.
    fn step_size(&mut self, step: f64, device: tch::Device) -> Result<Tensor> {
        match &self.step_size {
            Some((value, tensor)) if *value == step && tensor.device() == device => Ok(tensor.shallow_clone()),
            _ => {
                let tensor = Tensor::f_scalar_tensor(step, (Kind::Float, device))?;
                self.step_size = Some((step, tensor.shallow_clone()));
                Ok(tensor)
            }
        }
    }

    /// The input shapes (N, C, H, W) of the forward passes of the last dream, per octave: what
    /// cuDNN autotunes and CUDA graphs capture once each.
    pub fn forward_shapes(&self) -> &[BTreeSet<Vec<i64>>] {
        &self.forward_shapes
    }

    /// Gives frame `index` its own random stream, so a resumed render dreams exactly what an
    /// uninterrupted one would have.
    pub fn start_frame(&mut self, index: u64) {
        self.rng = frame_rng(self.seed, index);
    }

    pub fn params(&self) -> &DreamParams {
        &self.params
    }

    /// The ascent steps the last dream ran (on every octave together).
    pub fn steps(&self) -> u32 {
        self.steps
    }

    pub fn network(&self) -> &Network {
        self.network
    }

    /// Dreams from `noise` (a still's or zoom's seeded start): under the Fourier prior the picture
    /// grows from lucid's small random spectrum (seeded), else the noise is dreamed as an image.
    pub(crate) fn dream_from_noise(&mut self, noise: &Tensor) -> Result<Tensor> {
        if self.params.noise_prior == Prior::Fourier {
            check_size(noise)?;
            tch::manual_seed(self.seed as i64);
            return self.visualize(noise, Start::Noise);
        }
        self.dream(noise)
    }

    fn visualize(&mut self, image: &Tensor, start: Start) -> Result<Tensor> {
        let size = image.size();
        let mask = self.params.mask.as_ref().map(|m| m.at(size[2], size[3], image.device())).transpose()?;
        self.forward_shapes = vec![BTreeSet::new()];
        let params = &self.params;
        let canvas = Canvas { input: image, start, mask: mask.as_ref() };
        visualize(self.network, &params.objective, &params.visual, canvas, params.tile, &mut self.rng)
    }

    /// Dreams `image` (1 x 3 x H x W, float in [0, 1], on the network's device).
    pub fn dream(&mut self, image: &Tensor) -> Result<Tensor> {
        let full = OctaveSchedule::full(self.params.iterations, self.params.step);
        self.dream_scheduled(image, &full)
    }

    /// Dreams `image`, a frame that carries the previous dream, as `carry` says; `new_share`: the
    /// share of its pixels that carry nothing.
    pub fn dream_carried(&mut self, image: &Tensor, carry: CarrySchedule, new_share: f64) -> Result<Tensor> {
        let params = &self.params;
        let schedule = carry.carried(params.iterations, params.step, new_share);
        self.dream_scheduled(image, &schedule)
    }

    /// Dreams `image` with `schedule`'s octaves, iterations and step.
    pub fn dream_scheduled(&mut self, image: &Tensor, schedule: &OctaveSchedule) -> Result<Tensor> {
        self.dream_watched(image, schedule, &mut |_, _, _| Ok(()))
    }

    /// [`Dreamer::dream_scheduled`] that hands each octave's picture to `watch` (its number from
    /// 0, how many run, the picture at that octave's size) as it finishes: a preview shows the
    /// small octaves while the big ones dream. Between steps it is called with no picture, and
    /// an error it returns stops the dream there. The Fourier prior, which has no octaves, hands
    /// over its one picture at the end.
    pub fn dream_watched(
        &mut self,
        image: &Tensor,
        schedule: &OctaveSchedule,
        watch: &mut OctaveWatch<'_>,
    ) -> Result<Tensor> {
        let size = image.size();
        let (height, width) = (size[2], size[3]);
        check_size(image)?;
        self.steps = 0;
        if self.params.prior == Prior::Fourier {
            let dreamed = self.visualize(image, Start::Image)?;
            watch(0, 1, Some(&dreamed))?;
            return Ok(dreamed);
        }
        // Octaves smaller than the network can see are left out rather than failing; then those
        // the schedule leaves out.
        let mut sizes = octave_sizes(height, width, self.params.octaves, self.params.octave_scale);
        sizes.retain(|&(h, w)| h.min(w) >= MIN_SIDE);
        let skip = schedule.skip_lowest.min(sizes.len().saturating_sub(1));
        let mut detail: Option<Tensor> = None;
        let mut x = image.shallow_clone();
        self.forward_shapes.clear();
        let octaves = sizes.len() - skip;
        for (octave, &(h, w)) in sizes[skip..].iter().enumerate() {
            self.forward_shapes.push(BTreeSet::new());
            let base = resize(image, h, w)?;
            let mask = self.params.mask.as_ref().map(|m| m.at(h, w, image.device())).transpose()?;
            // The detail carried up is masked too, so black keeps the input exactly.
            x = match (&detail, &mask) {
                (Some(detail), Some(mask)) => base.f_add(&resize(detail, h, w)?.f_mul(mask)?)?,
                (Some(detail), None) => base.f_add(&resize(detail, h, w)?)?,
                (None, _) => base.shallow_clone(),
            };
            for _ in 0..schedule.iterations {
                watch(octave, octaves, None)?;
                x = self.ascent_step(&x, mask.as_ref(), schedule.step)?;
            }
            self.steps += schedule.iterations;
            detail = Some(x.f_sub(&base)?);
            watch(octave, octaves, Some(&x))?;
        }
        Ok(x)
    }

    /// One step: roll, gradient of the objective, normalised step, clamp, roll back; `mask`
    /// weights the step (outside any CUDA graph, which sees only the whole step).
    fn ascent_step(&mut self, x: &Tensor, mask: Option<&Tensor>, step: f64) -> Result<Tensor> {
        let jitter = self.params.jitter as i64;
        let (dy, dx) = (self.rng.random_range(-jitter..=jitter), self.rng.random_range(-jitter..=jitter));
        let rolled = x.f_roll([dy, dx], [2, 3])?;
        let size = rolled.size();
        let step_size = self.step_size(step, rolled.device())?;
        let blur = self.params.blur;
        let stepped = match self.params.tile.map(i64::from) {
            Some(tile) if size[2] > tile || size[3] > tile => {
                let grad = self.tiled_gradient(&rolled, tile)?;
                normalised_step(&rolled, &grad, &step_size, blur)?
            }
            _ => {
                self.log_shape(&size);
                let network = self.network;
                match &mut self.graphs {
                    Some(graphs) => {
                        // The step size is an input: it changes per frame under a schedule. The
                        // blur and the objective are frozen into the graph (the blur in its key;
                        // a new objective drops the graphs, see `set_params`).
                        let objective = self.params.objective.clone();
                        let step =
                            move |inputs: &[Tensor]| whole_step(network, &objective, blur, &inputs[0], &inputs[1]);
                        graphs.run(blur.to_bits(), &[&rolled, &step_size], step)?
                    }
                    None => whole_step(network, &self.params.objective, blur, &rolled, &step_size)?,
                }
            }
        };
        let stepped = match mask {
            Some(mask) => masked_step(&rolled, &stepped, &mask.f_roll([dy, dx], [2, 3])?)?,
            None => stepped,
        };
        Ok(stepped.f_roll([-dy, -dx], [2, 3])?)
    }

    fn log_shape(&mut self, shape: &[i64]) {
        if let Some(seen) = self.forward_shapes.last_mut() {
            seen.insert(shape.to_vec());
        }
    }

    /// The gradient tile by tile, bounding memory: each tile is dreamed with a margin of context
    /// that is then dropped, and the tile grid moves by a random shift each step so no seams
    /// settle in one place. Every crop has the same shape and each step the same number of crops
    /// (see [`tile_plan`]), batched up to [`TILE_BATCH_PIXELS_CUDA`] (or `_CPU`) pixels at a time,
    /// so an octave sees at most two input shapes (full batches and the rest): cuDNN and CUDA
    /// graphs meet few new shapes.
    fn tiled_gradient(&mut self, x: &Tensor, tile: i64) -> Result<Tensor> {
        let size = x.size();
        let plan = tile_plan(size[2], size[3], tile, &mut self.rng);
        let budget = if x.device().is_cuda() { TILE_BATCH_PIXELS_CUDA } else { TILE_BATCH_PIXELS_CPU };
        let per_batch = (budget / (plan.crop.0 * plan.crop.1)).max(1) as usize;
        let grad = x.f_zeros_like()?;
        for batch in plan.tiles.chunks(per_batch) {
            let crops: Vec<Tensor> = batch
                .iter()
                .map(|t| x.f_narrow(2, t.crop_y, plan.crop.0)?.f_narrow(3, t.crop_x, plan.crop.1))
                .collect::<std::result::Result<_, _>>()?;
            let crops = Tensor::f_cat(&crops, 0)?;
            self.log_shape(&crops.size());
            // The objective is the mean over the batch; every crop weighs the same, as whole.
            let crop_grads = crop_gradient(self.network, &self.params.objective, &crops)?;
            for (index, t) in batch.iter().enumerate() {
                let (height, width) = (t.cell_y.1 - t.cell_y.0, t.cell_x.1 - t.cell_x.0);
                let inner = crop_grads
                    .f_narrow(0, index as i64, 1)?
                    .f_narrow(2, t.cell_y.0 - t.crop_y, height)?
                    .f_narrow(3, t.cell_x.0 - t.crop_x, width)?;
                grad.f_narrow(2, t.cell_y.0, height)?.f_narrow(3, t.cell_x.0, width)?.f_copy_(&inner)?;
            }
        }
        Ok(grad)
    }
}

/// The step from `x` to `stepped` weighted by `mask`. The step was normalised by the mean
/// |gradient| of the whole frame; it is rescaled to that of the part the mask lets dream, so white
/// dreams as strongly as a dream without a mask.
fn masked_step(x: &Tensor, stepped: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let delta = stepped.f_sub(x)?;
    let weights = mask.f_expand_as(&delta)?;
    let whole = delta.f_abs()?.f_mean(Kind::Float)?;
    let inside =
        delta.f_abs()?.f_mul(&weights)?.f_sum(Kind::Float)?.f_div(&weights.f_sum(Kind::Float)?.f_add_scalar(1e-8)?)?;
    let factor = whole.f_div(&inside.f_add_scalar(1e-12)?)?;
    Ok(x.f_add(&delta.f_mul(&factor)?.f_mul(mask)?)?.f_clamp(0.0, 1.0)?)
}

/// One untiled step in rolled space: gradient, normalised step, clamp. It draws no random
/// numbers and syncs nothing to the host, so a CUDA graph can capture it.
fn whole_step(
    network: &Network,
    objective: &Objective,
    blur: f64,
    rolled: &Tensor,
    step_size: &Tensor,
) -> Result<Tensor> {
    let grad = crop_gradient(network, objective, rolled)?;
    normalised_step(rolled, &grad, step_size, blur)
}

/// `x + step * grad / mean|grad|`, clamped to [0, 1]. The mean |gradient| is the same rolled or
/// not, so the caller steps in rolled space and rolls back once.
/// `step_size` is a 0-dim float tensor on x's device: multiplying by it rounds as multiplying by
/// the number did, and a CUDA graph reads it at each replay.
fn normalised_step(x: &Tensor, grad: &Tensor, step_size: &Tensor, blur: f64) -> Result<Tensor> {
    let scale = grad.f_abs()?.f_mean(Kind::Float)?.f_add_scalar(1e-8)?.f_reciprocal()?;
    let stepped = x.f_add(&grad.f_mul(&scale)?.f_mul(step_size)?)?;
    Ok(blur_prior(&stepped, blur)?.f_clamp(0.0, 1.0)?)
}

/// Gradient of the objective at `crops` (fp32, any batch size), through the network in its own
/// precision; fp16 scales the objective first ([`FP16_LOSS_SCALE`]).
fn crop_gradient(network: &Network, objective: &Objective, crops: &Tensor) -> Result<Tensor> {
    let crops = crops.f_detach()?.f_set_requires_grad(true)?;
    let value = objective.value(network, &crops)?;
    let value = if network.precision() == Kind::Half { value.f_mul_scalar(FP16_LOSS_SCALE)? } else { value };
    Ok(Tensor::f_run_backward(&[value], &[&crops], false, false)?.remove(0))
}

/// The random stream of frame `index` of a render seeded with `seed`.
fn frame_rng(seed: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Pyramid sizes from smallest to full, each `scale` apart, rounded as Python's `round` does.
pub(crate) fn octave_sizes(height: i64, width: i64, octaves: u32, scale: f64) -> Vec<(i64, i64)> {
    let mut sizes = vec![(height, width)];
    for _ in 1..octaves {
        let (h, w) = sizes[sizes.len() - 1];
        let shrink = |v: i64| ((v as f64 / scale).round_ties_even() as i64).max(1);
        sizes.push((shrink(h), shrink(w)));
    }
    sizes.reverse();
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jitter_stream_of_a_seed_never_changes() {
        // Pinned: a different sequence here means every seeded render changes its bytes.
        let mut rng = frame_rng(0, 7);
        let rolls: Vec<i64> = (0..8).map(|_| rng.random_range(-16..=16)).collect();
        assert_eq!(rolls, [2, -10, -4, 12, 13, 15, 6, -11]);
    }

    #[test]
    fn a_carried_schedule_runs_less_than_the_full_dream() {
        let full = OctaveSchedule::full(10, 0.02);
        assert_eq!(CarrySchedule::Full.carried(10, 0.02, 0.3), full);
        assert_eq!(CarrySchedule::Half.carried(10, 0.02, 0.0), OctaveSchedule::full(5, 0.02));
        assert_eq!(CarrySchedule::Half.carried(3, 0.02, 0.0).iterations, 2);
        assert_eq!(CarrySchedule::Half.carried(1, 0.02, 0.0).iterations, 1, "never none");
        assert_eq!(CarrySchedule::Third.carried(10, 0.02, 0.0).iterations, 4);
        let skip = CarrySchedule::SkipLowest.carried(10, 0.02, 0.0);
        assert_eq!((skip.iterations, skip.skip_lowest), (5, 1));
        let strides = CarrySchedule::LongStrides.carried(10, 0.02, 0.0);
        assert_eq!(strides.iterations, 5);
        assert!((strides.step - 0.04).abs() < 1e-12, "the same distance: {}", strides.step);
        let flow = |new_share| CarrySchedule::Flow.carried(10, 0.02, new_share).iterations;
        assert_eq!((flow(0.0), flow(0.5), flow(1.0)), (5, 8, 10), "the new pixels' share adds back");
    }

    #[test]
    fn octave_sizes_shrink_like_the_reference() {
        assert_eq!(octave_sizes(100, 140, 3, 1.4), vec![(51, 71), (71, 100), (100, 140)]);
        assert_eq!(octave_sizes(10, 10, 1, 1.4), vec![(10, 10)]);
        assert_eq!(octave_sizes(2, 2, 4, 2.0), vec![(1, 1), (1, 1), (1, 1), (2, 2)]);
    }
}
