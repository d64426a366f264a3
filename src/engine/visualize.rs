//! Feature visualisation: objects grown from noise (Olah et al. 2017; tensorflow/lucid). Adam
//! raises the objective of an image parameterised by [`FourierPrior`], each step seen through
//! lucid's transformation robustness (pad, jitter, random scale and rotation, jitter), so that
//! only features that survive small moves grow: whole objects rather than adversarial patterns.
use crate::engine::fourier::FourierPrior;
use crate::engine::objective::{FP16_LOSS_SCALE, Objective};
use crate::engine::tiles::{TILE_BATCH_PIXELS_CPU, TILE_BATCH_PIXELS_CUDA, tile_plan};
use crate::error::Result;
use crate::frame::mask;
use crate::model::network::Network;
use rand::Rng;
use tch::{Kind, Tensor};

/// The settings of a visualisation, already checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VisualParams {
    /// Adam steps from noise.
    pub steps: u32,
    /// Adam steps when the visualisation starts from an image (each zoom frame after the first).
    pub image_steps: u32,
    pub learning_rate: f64,
    /// The spectrum's fall-off, `1/f^decay`.
    pub decay: f64,
    /// lucid's transformation robustness each step.
    pub transforms: bool,
}

/// What a visualisation starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// lucid's small random spectrum (from torch's seed): a grey picture with faint noise.
    Noise,
    /// The spectrum of the input itself, so the visualisation grows what is there (a zoom's frame).
    Image,
}

/// The picture a visualisation works on: the input frame, where it starts, and where it may
/// change (`mask`, 1 x 1 x H x W: where it is 0 the input stays).
pub(crate) struct Canvas<'a> {
    pub input: &'a Tensor,
    pub start: Start,
    pub mask: Option<&'a Tensor>,
}

/// Raises `objective` for `params.steps` (from noise) or `params.image_steps` (from the image)
/// Adam steps on the spectrum of a picture the size of the canvas' input; returns the picture (1 x
/// 3 x H x W in [0, 1]), mixed with the input by the mask. With `tile`, a larger frame is seen
/// crop by crop at its own resolution ([`tiled_value`]); else whole, at the network's input size
/// ([`network_view`]).
pub(crate) fn visualize(
    network: &Network,
    objective: &Objective,
    params: &VisualParams,
    canvas: Canvas,
    tile: Option<u32>,
    rng: &mut impl Rng,
) -> Result<Tensor> {
    let Canvas { input, start, mask } = canvas;
    let size = input.size();
    let prior = FourierPrior::new(size[2], size[3], params.decay, input.device())?;
    let (mut spectrum, steps) = match start {
        Start::Noise => (prior.random_spectrum()?, params.steps),
        Start::Image => (prior.spectrum_of(input)?, params.image_steps),
    };
    let picture = |spectrum: &Tensor| -> Result<Tensor> {
        let image = prior.image(spectrum)?;
        match mask {
            Some(mask) => mask::apply(mask, input, &image),
            None => Ok(image),
        }
    };
    let mut adam = Adam::new(&spectrum, params.learning_rate)?;
    for _ in 0..steps {
        let leaf = spectrum.f_detach()?.f_set_requires_grad(true)?;
        let image = picture(&leaf)?;
        let seen = if params.transforms { robustness(&image, rng)? } else { image };
        let value = match tile.map(i64::from) {
            Some(tile) if size[2] > tile || size[3] > tile => tiled_value(network, objective, &seen, tile, rng)?,
            _ => loss_scaled(network, objective.value(network, &network_view(network, &seen)?)?)?,
        };
        let gradient = Tensor::f_run_backward(&[value], &[&leaf], false, false)?.remove(0);
        spectrum = adam.ascend(&spectrum, &gradient)?;
    }
    let _guard = tch::no_grad_guard();
    picture(&spectrum)
}

/// A stand-in for the objective of a frame seen in tiles: its gradient at `seen` summed crop by
/// crop (each crop at the frame's own resolution, so a big frame grows objects at its own scale;
/// one batch of crops at a time, so memory stays bounded), returned as `sum(seen * gradient)`,
/// whose gradient is that sum.
fn tiled_value(
    network: &Network,
    objective: &Objective,
    seen: &Tensor,
    tile: i64,
    rng: &mut impl Rng,
) -> Result<Tensor> {
    let size = seen.size();
    let plan = tile_plan(size[2], size[3], tile, rng);
    let budget = if seen.device().is_cuda() { TILE_BATCH_PIXELS_CUDA } else { TILE_BATCH_PIXELS_CPU };
    let per_batch = (budget / (plan.crop.0 * plan.crop.1)).max(1) as usize;
    let leaf = seen.f_detach()?.f_set_requires_grad(true)?;
    let mut gradient = leaf.f_zeros_like()?;
    for batch in plan.tiles.chunks(per_batch) {
        let crops: Vec<Tensor> = batch
            .iter()
            .map(|t| leaf.f_narrow(2, t.crop_y, plan.crop.0)?.f_narrow(3, t.crop_x, plan.crop.1))
            .collect::<std::result::Result<_, _>>()?;
        let crops = Tensor::f_cat(&crops, 0)?;
        let value = loss_scaled(network, objective.value(network, &crops)?)?;
        gradient = gradient.f_add(&Tensor::f_run_backward(&[value], &[&leaf], false, false)?.remove(0))?;
    }
    Ok(seen.f_mul(&gradient)?.f_sum(Kind::Float)?)
}

/// fp16 flushes small gradients to zero: its objective is scaled up (Adam does not mind the scale).
fn loss_scaled(network: &Network, value: Tensor) -> Result<Tensor> {
    if network.precision() == Kind::Half { Ok(value.f_mul_scalar(FP16_LOSS_SCALE)?) } else { Ok(value) }
}

/// Pixels of padding (grey) around the image before the random moves, cut off after them.
const PAD: i64 = 12;
/// Largest random shift before the scale and rotation, and after.
const JITTER_BEFORE: i64 = 8;
const JITTER_AFTER: i64 = 4;
/// lucid's random scales (0.90 to 1.10 in steps of 0.02) and angles (-10..10 degrees, 0 weighted up).
const SCALES: [f64; 11] = [0.90, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.10];
const EXTRA_ZERO_ANGLES: i64 = 5;
const MAX_ANGLE: i64 = 10;

/// Adam (Kingma and Ba), torch's defaults. Written out rather than tch's `nn::Adam`, whose
/// `step` panics on a torch error: here every step returns its error.
pub struct Adam {
    learning_rate: f64,
    first: Tensor,
    second: Tensor,
    steps: i32,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    pub fn new(parameter: &Tensor, learning_rate: f64) -> Result<Adam> {
        Ok(Adam { learning_rate, first: parameter.f_zeros_like()?, second: parameter.f_zeros_like()?, steps: 0 })
    }

    /// The parameter after one step up `gradient`.
    pub(crate) fn ascend(&mut self, parameter: &Tensor, gradient: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        self.first = self.first.f_mul_scalar(Self::BETA1)?.f_add(&gradient.f_mul_scalar(1.0 - Self::BETA1)?)?;
        self.second =
            self.second.f_mul_scalar(Self::BETA2)?.f_add(&gradient.f_square()?.f_mul_scalar(1.0 - Self::BETA2)?)?;
        let first = self.first.f_div_scalar(1.0 - Self::BETA1.powi(self.steps))?;
        let second = self.second.f_div_scalar(1.0 - Self::BETA2.powi(self.steps))?;
        let step = first.f_div(&second.f_sqrt()?.f_add_scalar(Self::EPSILON)?)?.f_mul_scalar(self.learning_rate)?;
        Ok(parameter.f_add(&step)?)
    }
}

/// lucid's `standard_transforms` on `image` (N x 3 x H x W), keeping its size: pad with grey,
/// jitter, random scale and rotation (reflecting at the edges), jitter, crop the padding off.
pub fn robustness(image: &Tensor, rng: &mut impl Rng) -> Result<Tensor> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    let padded = image.f_pad([PAD, PAD, PAD, PAD].as_slice(), "constant", 0.5)?;
    let rolled = roll(&padded, JITTER_BEFORE, rng)?;
    let scale = SCALES[rng.random_range(0..SCALES.len())];
    let pick = rng.random_range(0..2 * MAX_ANGLE + 1 + EXTRA_ZERO_ANGLES);
    let degrees = if pick <= 2 * MAX_ANGLE { (pick - MAX_ANGLE) as f64 } else { 0.0 };
    let moved = scale_and_rotate(&rolled, scale, degrees)?;
    let rolled = roll(&moved, JITTER_AFTER, rng)?;
    Ok(rolled.f_narrow(2, PAD, height)?.f_narrow(3, PAD, width)?)
}

fn roll(image: &Tensor, jitter: i64, rng: &mut impl Rng) -> Result<Tensor> {
    let (dy, dx) = (rng.random_range(-jitter..=jitter), rng.random_range(-jitter..=jitter));
    Ok(image.f_roll([dy, dx], [2, 3])?)
}

/// Scales about the centre by `scale` and turns by `degrees`, in pixel space (no shear on wide
/// frames), reflecting at the edges; bilinear, differentiable.
fn scale_and_rotate(image: &Tensor, scale: f64, degrees: f64) -> Result<Tensor> {
    if scale == 1.0 && degrees == 0.0 {
        return Ok(image.shallow_clone());
    }
    let size = image.size();
    let (height, width) = (size[2] as f64, size[3] as f64);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let theta = [cos / scale, -sin * height / (width * scale), 0.0, sin * width / (height * scale), cos / scale, 0.0]
        .map(|v| v as f32);
    let theta = Tensor::f_from_slice(&theta)?.f_view([1, 2, 3])?.f_to_device(image.device())?;
    let theta = theta.f_expand([size[0], 2, 3], false)?;
    let grid = Tensor::f_affine_grid_generator(&theta, size.as_slice(), false)?;
    // Bilinear (0) with reflection padding (2).
    Ok(image.f_grid_sampler_2d(&grid, 0, 2, false)?)
}

/// `image` with its shorter side at the network's nominal input size, as the networks were
/// trained to see objects; shrinking is antialiased, so every pixel gets its share of gradient.
pub(crate) fn network_view(network: &Network, image: &Tensor) -> Result<Tensor> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    let nominal = network.kind().nominal_size() as f64;
    let scale = nominal / height.min(width) as f64;
    let (h, w) = (((height as f64) * scale).round() as i64, ((width as f64) * scale).round() as i64);
    if (h, w) == (height, width) {
        return Ok(image.shallow_clone());
    }
    if scale < 1.0 {
        Ok(image.f_internal_upsample_bilinear2d_aa([h, w], false, None, None)?)
    } else {
        Ok(image.f_upsample_bilinear2d([h, w], false, None, None)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use tch::Device;

    #[test]
    fn adam_climbs_a_hill_like_torch() {
        // Ascend -(x - 3)^2 from 0: Adam's first step is lr * sign(gradient), whatever its size.
        let mut x = Tensor::zeros([1], (Kind::Float, Device::Cpu));
        let mut adam = Adam::new(&x, 0.1).unwrap();
        let gradient = |x: &Tensor| (x - 3.0) * -2.0;
        x = adam.ascend(&x, &gradient(&x)).unwrap();
        assert!((x.double_value(&[0]) - 0.1).abs() < 1e-6);
        for _ in 0..300 {
            x = adam.ascend(&x, &gradient(&x)).unwrap();
        }
        assert!((x.double_value(&[0]) - 3.0).abs() < 0.05, "{}", x.double_value(&[0]));
    }

    #[test]
    fn the_transforms_keep_the_size_and_move_the_picture() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let image = Tensor::rand([1, 3, 40, 56], (Kind::Float, Device::Cpu));
        let mut changed = 0;
        for _ in 0..8 {
            let moved = robustness(&image, &mut rng).unwrap();
            assert_eq!(moved.size(), image.size());
            let (low, high) = (moved.min().double_value(&[]), moved.max().double_value(&[]));
            assert!(low >= 0.0 && high <= 1.0, "resampling stays in range: {low}..{high}");
            changed += i32::from((moved - &image).abs().mean(Kind::Float).double_value(&[]) > 1e-3);
        }
        assert!(changed >= 6, "most steps see a moved picture: {changed} of 8");
    }
}
