//! The dream itself: gradient ascent on the chosen layers' activations, octave by octave.
//!
//! The canonical algorithm (the 2015 notebook, `deepdream_ref.py`): an image pyramid `octave_scale`
//! apart, smallest first; on each level `iterations` steps on `sum over layers of mean(act^2)`,
//! each under a random roll of up to `jitter` pixels, the gradient divided by its mean absolute
//! value times `step`, pixels clamped to [0, 1]; the detail added on a level is carried up.
use crate::error::{Error, Result};
use crate::network::{LayerId, Network};
use crate::objective::{Objective, blur_prior};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{Kind, Tensor};

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
}

impl DreamParams {
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::setting("--layers", "name at least one layer"));
        }
        if self.octaves == 0 {
            return Err(Error::setting("--octaves", "must be at least 1"));
        }
        if !(self.octave_scale.is_finite() && self.octave_scale >= 1.0) {
            return Err(Error::setting("--octave-scale", format!("{} must be 1.0 or more", self.octave_scale)));
        }
        if !(self.step.is_finite() && self.step >= 0.0) {
            return Err(Error::setting("--step", format!("{} must be zero or positive", self.step)));
        }
        if !(self.blur.is_finite() && (0.0..=1.0).contains(&self.blur)) {
            return Err(Error::setting("--blur", format!("{} must be between 0 and 1", self.blur)));
        }
        if let Some(tile) = self.tile.filter(|&t| t < MIN_TILE) {
            return Err(Error::setting("--tile", format!("{tile} must be at least {MIN_TILE} pixels")));
        }
        Ok(())
    }
}

/// The smallest image side every layer can take (the deepest stride-2 stages need it).
pub const MIN_SIDE: i64 = 32;

/// The smallest tile worth its overlap.
pub const MIN_TILE: u32 = 64;

/// On CUDA the ascent runs under autocast (half precision); the objective is scaled up so small
/// gradients do not vanish in fp16. The step divides by the mean |gradient|, so the scale cancels.
const HALF_PRECISION_LOSS_SCALE: f64 = 1024.0;

/// `sum over layers of mean(activation^2)` for `image` (N x 3 x H x W in [0, 1]).
pub fn objective(network: &Network, image: &Tensor, layers: &[LayerId]) -> Result<Tensor> {
    check_size(image)?;
    let mut total: Option<Tensor> = None;
    for activation in network.activations(image, layers)? {
        let term = activation.f_to_kind(Kind::Float)?.f_square()?.f_mean(Kind::Float)?;
        total = Some(match total {
            Some(sum) => sum.f_add(&term)?,
            None => term,
        });
    }
    total.ok_or_else(|| Error::setting("--layers", "name at least one layer"))
}

/// Refuses a frame too small for the network, which torch would fail on deep inside.
pub fn check_size(image: &Tensor) -> Result<()> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    if height.min(width) < MIN_SIDE {
        return Err(Error::setting(
            "--width",
            format!("a {width}x{height} frame is too small to dream: it needs at least {MIN_SIDE} pixels a side"),
        ));
    }
    Ok(())
}

/// The objective as a number, without building a graph.
pub fn objective_value(network: &Network, image: &Tensor, layers: &[LayerId]) -> Result<f64> {
    let _guard = tch::no_grad_guard();
    Ok(objective(network, image, layers)?.f_double_value(&[])?)
}

/// Runs dreams with one random stream, so a seeded sequence of frames is repeatable.
pub struct Dreamer<'a> {
    network: &'a Network,
    params: DreamParams,
    seed: u64,
    rng: StdRng,
}

impl<'a> Dreamer<'a> {
    pub fn new(network: &'a Network, params: DreamParams, seed: u64) -> Result<Self> {
        params.validate()?;
        Ok(Dreamer { network, params, seed, rng: StdRng::seed_from_u64(seed) })
    }

    /// Gives frame `index` its own random stream, so a resumed render dreams exactly what an
    /// uninterrupted one would have.
    pub fn start_frame(&mut self, index: u64) {
        self.rng = StdRng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }

    pub fn params(&self) -> &DreamParams {
        &self.params
    }

    pub fn network(&self) -> &Network {
        self.network
    }

    /// Dreams `image` (1 x 3 x H x W, float in [0, 1], on the network's device).
    pub fn dream(&mut self, image: &Tensor) -> Result<Tensor> {
        let size = image.size();
        let (height, width) = (size[2], size[3]);
        check_size(image)?;
        // Octaves smaller than the network can see are left out rather than failing.
        let mut sizes = octave_sizes(height, width, self.params.octaves, self.params.octave_scale);
        sizes.retain(|&(h, w)| h.min(w) >= MIN_SIDE);
        let mut detail: Option<Tensor> = None;
        let mut x = image.shallow_clone();
        for &(h, w) in &sizes {
            let base = resize(image, h, w)?;
            x = match &detail {
                Some(detail) => base.f_add(&resize(detail, h, w)?)?,
                None => base.shallow_clone(),
            };
            for _ in 0..self.params.iterations {
                x = self.ascent_step(&x)?;
            }
            detail = Some(x.f_sub(&base)?);
        }
        Ok(x)
    }

    /// One step: roll, gradient of the objective, normalised step, clamp, roll back.
    fn ascent_step(&mut self, x: &Tensor) -> Result<Tensor> {
        let jitter = self.params.jitter as i64;
        let (dy, dx) = (self.rng.random_range(-jitter..=jitter), self.rng.random_range(-jitter..=jitter));
        let rolled = x.f_roll([dy, dx], [2, 3])?;
        let grad = self.gradient(&rolled)?;
        // The mean |gradient| is the same rolled or not, so step in rolled space and roll back once.
        let scale = grad.f_abs()?.f_mean(Kind::Float)?.f_add_scalar(1e-8)?.f_reciprocal()?;
        let stepped = rolled.f_add(&grad.f_mul(&scale)?.f_mul_scalar(self.params.step)?)?;
        let stepped = blur_prior(&stepped, self.params.blur)?;
        Ok(stepped.f_clamp(0.0, 1.0)?.f_roll([-dy, -dx], [2, 3])?)
    }

    /// Gradient of the objective at `x`, whole or tile by tile.
    fn gradient(&mut self, x: &Tensor) -> Result<Tensor> {
        let size = x.size();
        match self.params.tile.map(i64::from) {
            Some(tile) if size[2] > tile || size[3] > tile => self.tiled_gradient(x, tile),
            _ => self.crop_gradient(x, 1.0),
        }
    }

    /// Gradient of `weight` x the objective of `crop`, under autocast on CUDA.
    fn crop_gradient(&self, crop: &Tensor, weight: f64) -> Result<Tensor> {
        let crop = crop.f_detach()?.f_set_requires_grad(true)?;
        let cuda = crop.device().is_cuda();
        let value = tch::autocast(cuda, || self.params.objective.value(self.network, &crop))?;
        let scale = if cuda { weight * HALF_PRECISION_LOSS_SCALE } else { weight };
        let value = if scale == 1.0 { value } else { value.f_mul_scalar(scale)? };
        Ok(Tensor::f_run_backward(&[value], &[&crop], false, false)?.remove(0).f_to_kind(Kind::Float)?)
    }

    /// The gradient tile by tile, bounding memory: each tile is dreamed with a margin of context
    /// that is then dropped, and the tile grid moves by a random offset each step so no seams
    /// settle in one place. Each tile's mean is weighted by its share of the image, so the sum
    /// approximates the whole image's objective.
    fn tiled_gradient(&mut self, x: &Tensor, tile: i64) -> Result<Tensor> {
        let size = x.size();
        let (height, width) = (size[2], size[3]);
        let margin = (tile / 8).max(16);
        let (offset_y, offset_x) = (self.rng.random_range(0..tile), self.rng.random_range(0..tile));
        let grad = x.f_zeros_like()?;
        let area = (height * width) as f64;
        let starts = |offset: i64, end: i64| (0..).map(move |i| i * tile - offset).take_while(move |&s| s < end);
        for top in starts(offset_y, height) {
            for left in starts(offset_x, width) {
                let (y0, y1) = (top.max(0), (top + tile).min(height));
                let (x0, x1) = (left.max(0), (left + tile).min(width));
                if y1 <= y0 || x1 <= x0 {
                    continue;
                }
                let (cy0, cy1) = crop_span(y0, y1, margin, height);
                let (cx0, cx1) = crop_span(x0, x1, margin, width);
                let crop = x.f_narrow(2, cy0, cy1 - cy0)?.f_narrow(3, cx0, cx1 - cx0)?;
                let weight = ((cy1 - cy0) * (cx1 - cx0)) as f64 / area;
                let crop_grad = self.crop_gradient(&crop, weight)?;
                let inner = crop_grad.f_narrow(2, y0 - cy0, y1 - y0)?.f_narrow(3, x0 - cx0, x1 - x0)?;
                grad.f_narrow(2, y0, y1 - y0)?.f_narrow(3, x0, x1 - x0)?.f_copy_(&inner)?;
            }
        }
        Ok(grad)
    }
}

/// The span of a tile's crop: the tile plus `margin` of context each side, inside the image, and
/// widened to at least twice [`MIN_SIDE`] so that a thin strip at the edge still fits the network.
fn crop_span(start: i64, end: i64, margin: i64, length: i64) -> (i64, i64) {
    let (mut from, mut to) = ((start - margin).max(0), (end + margin).min(length));
    let least = (2 * MIN_SIDE).min(length);
    if to - from < least {
        to = (from + least).min(length);
        from = to - least;
    }
    (from, to)
}

/// Pyramid sizes from smallest to full, each `scale` apart, rounded as Python's `round` does.
pub fn octave_sizes(height: i64, width: i64, octaves: u32, scale: f64) -> Vec<(i64, i64)> {
    let mut sizes = vec![(height, width)];
    for _ in 1..octaves {
        let (h, w) = sizes[sizes.len() - 1];
        let shrink = |v: i64| ((v as f64 / scale).round_ties_even() as i64).max(1);
        sizes.push((shrink(h), shrink(w)));
    }
    sizes.reverse();
    sizes
}

/// Bilinear resize of an N x C x H x W tensor (half-pixel centres, like `F.interpolate`).
pub fn resize(image: &Tensor, height: i64, width: i64) -> Result<Tensor> {
    let size = image.size();
    if size[2] == height && size[3] == width {
        return Ok(image.shallow_clone());
    }
    Ok(image.f_upsample_bilinear2d([height, width], false, None, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_keep_their_margin_and_a_minimum_size() {
        assert_eq!(crop_span(64, 128, 16, 300), (48, 144));
        assert_eq!(crop_span(0, 10, 16, 300), (0, 64), "a thin edge strip is widened");
        assert_eq!(crop_span(290, 300, 16, 300), (236, 300));
        assert_eq!(crop_span(0, 40, 16, 40), (0, 40), "never beyond the image");
    }

    #[test]
    fn octave_sizes_shrink_like_the_reference() {
        assert_eq!(octave_sizes(100, 140, 3, 1.4), vec![(51, 71), (71, 100), (100, 140)]);
        assert_eq!(octave_sizes(10, 10, 1, 1.4), vec![(10, 10)]);
        assert_eq!(octave_sizes(2, 2, 4, 2.0), vec![(1, 1), (1, 1), (1, 1), (2, 2)]);
    }
}
