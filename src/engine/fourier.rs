//! The image prior of a visualisation from noise (Olah et al. 2017, "Feature Visualization";
//! tensorflow/lucid): the image is not optimised pixel by pixel but through a parameterisation
//! that makes natural images easy to reach.
//!
//! - **Fourier domain**: the parameters are an `rfft2` spectrum, scaled by
//!   `1 / max(frequency, 1 / max(H, W))^decay` before the inverse transform, so a step of the same
//!   size moves low frequencies far more than high ones (natural images' spectra fall off as 1/f).
//! - **Decorrelated colour**: the three channels are lucid's `color_correlation_svd_sqrt` axes
//!   (the square root of ImageNet's colour covariance), so each parameter moves a natural colour.
//! - A **sigmoid** squashes the result into [0, 1].
//!
//! The scaling and normalisation follow `class_ref.py` (the peer recipe): spectrum times
//! `sqrt(H * W) / freq^decay`, inverse divided by 4.
use crate::error::Result;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// How a dream moves the picture: pixel by pixel up the octaves (the 2015 DeepDream, for dreams
/// of an image), or through the Fourier prior with Adam (objects from noise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prior {
    Pixel,
    Fourier,
}

impl Prior {
    pub const ALL: [Prior; 2] = [Prior::Pixel, Prior::Fourier];

    pub fn name(self) -> &'static str {
        match self {
            Prior::Pixel => "pixel",
            Prior::Fourier => "fourier",
        }
    }
}

/// lucid's `color_correlation_svd_sqrt`: the square root of ImageNet's RGB covariance, by SVD.
const COLOR_CORRELATION_SVD_SQRT: [f32; 9] = [0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03];

/// lucid's initial spectrum: normal noise of this spread (a near-grey start).
pub(crate) const INIT_SPREAD: f64 = 0.01;

/// The inverse of the sigmoid is unbounded at 0 and 1: images are clamped this far inside first.
const SIGMOID_MARGIN: f64 = 1e-3;

/// The parameterisation of one `height` x `width` image: what turns a spectrum into pixels.
#[derive(Debug)]
pub(crate) struct FourierPrior {
    pub height: i64,
    pub width: i64,
    /// `1 x H x (W/2+1)`: each frequency's factor (see the module's description).
    scale: Tensor,
    /// 3 x 3, normalised by its largest column norm as lucid does.
    color: Tensor,
}

impl FourierPrior {
    /// The prior of a `height` x `width` image whose spectrum falls off as `1/f^decay`.
    pub fn new(height: i64, width: i64, decay: f64, device: Device) -> Result<FourierPrior> {
        let options = (Kind::Float, device);
        let fy = Tensor::f_fft_fftfreq(height, 1.0, options)?.f_unsqueeze(1)?;
        let fx = Tensor::f_fft_rfftfreq(width, 1.0, options)?.f_unsqueeze(0)?;
        let frequency = fy.f_square()?.f_add(&fx.f_square()?)?.f_sqrt()?;
        let floor = 1.0 / height.max(width) as f64;
        let scale = frequency
            .f_clamp_min(floor)?
            .f_pow_tensor_scalar(decay)?
            .f_reciprocal()?
            .f_mul_scalar(((height * width) as f64).sqrt())?
            .f_unsqueeze(0)?;
        let color = Tensor::f_from_slice(&COLOR_CORRELATION_SVD_SQRT)?.f_view([3, 3])?.f_to_device(device)?;
        let largest_column = color.f_square()?.f_sum_dim_intlist([0i64].as_slice(), false, Kind::Float)?.f_sqrt()?;
        let color = color.f_div(&largest_column.f_max()?)?;
        Ok(FourierPrior { height, width, scale, color })
    }

    /// The shape of a spectrum: `3 x H x (W/2+1) x 2` (real and imaginary parts).
    pub(crate) fn spectrum_shape(&self) -> [i64; 4] {
        [3, self.height, self.width / 2 + 1, 2]
    }

    /// lucid's start: a small random spectrum, a grey image with faint noise (from torch's seed).
    pub(crate) fn random_spectrum(&self) -> Result<Tensor> {
        let options = (Kind::Float, self.scale.device());
        Ok(Tensor::f_randn(self.spectrum_shape(), options)?.f_mul_scalar(INIT_SPREAD)?)
    }

    /// The image (`1 x 3 x H x W` in [0, 1]) of `spectrum`, differentiable.
    pub fn image(&self, spectrum: &Tensor) -> Result<Tensor> {
        let complex = spectrum.f_view_as_complex()?.f_mul(&self.scale)?;
        let decorrelated =
            complex.f_fft_irfft2([self.height, self.width].as_slice(), [-2i64, -1].as_slice(), "backward")?;
        let decorrelated = decorrelated.f_div_scalar(4.0)?.f_unsqueeze(0)?;
        let rgb = Tensor::f_einsum("bchw,dc->bdhw", &[&decorrelated, &self.color], None::<i64>)?;
        Ok(rgb.f_sigmoid()?)
    }

    /// The spectrum whose image is `image` (`1 x 3 x H x W` in [0, 1]): the inverse of
    /// [`image`](Self::image), so a visualisation can start from a picture (a zoom's next frame).
    pub(crate) fn spectrum_of(&self, image: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let rgb = image.f_to_kind(Kind::Float)?.f_clamp(SIGMOID_MARGIN, 1.0 - SIGMOID_MARGIN)?.f_logit(None)?;
        let inverse = self.color.f_inverse()?;
        let decorrelated = Tensor::f_einsum("bchw,dc->bdhw", &[&rgb, &inverse], None::<i64>)?.f_squeeze_dim(0)?;
        let complex = decorrelated.f_mul_scalar(4.0)?.f_fft_rfft2(
            [self.height, self.width].as_slice(),
            [-2i64, -1].as_slice(),
            "backward",
        )?;
        Ok(complex.f_div(&self.scale)?.f_view_as_real()?.f_contiguous()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spectrum_becomes_an_image_in_the_unit_range() {
        tch::manual_seed(3);
        for (height, width) in [(16, 16), (15, 22), (9, 8)] {
            let prior = FourierPrior::new(height, width, 1.0, Device::Cpu).unwrap();
            let image = prior.image(&prior.random_spectrum().unwrap()).unwrap();
            assert_eq!(image.size(), [1, 3, height, width]);
            let (low, high) = (image.min().double_value(&[]), image.max().double_value(&[]));
            assert!(low > 0.3 && high < 0.7, "lucid's start is a near-grey image: {low}..{high}");
            // Even a huge spectrum stays inside [0, 1].
            let loud = prior.image(&prior.random_spectrum().unwrap().f_mul_scalar(1e4).unwrap()).unwrap();
            let (low, high) = (loud.min().double_value(&[]), loud.max().double_value(&[]));
            assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high), "{low}..{high}");
        }
    }

    #[test]
    fn an_image_survives_the_round_trip_through_its_spectrum() {
        tch::manual_seed(5);
        for (height, width) in [(12, 12), (11, 14)] {
            let prior = FourierPrior::new(height, width, 0.75, Device::Cpu).unwrap();
            let image = Tensor::rand([1, 3, height, width], (Kind::Float, Device::Cpu)) * 0.9 + 0.05;
            let back = prior.image(&prior.spectrum_of(&image).unwrap()).unwrap();
            let error = (back - &image).abs().max().double_value(&[]);
            assert!(error < 1e-4, "{height}x{width}: {error}");
        }
    }

    #[test]
    fn low_frequencies_weigh_more_than_high_ones() {
        let prior = FourierPrior::new(32, 32, 1.0, Device::Cpu).unwrap();
        let (dc, nyquist) = (prior.scale.double_value(&[0, 0, 0]), prior.scale.double_value(&[0, 16, 16]));
        // DC is clamped to 1/32; the highest frequency is sqrt(0.5): a ratio of 32 * sqrt(0.5).
        assert!((dc / nyquist - 32.0 * 0.5f64.sqrt()).abs() < 1e-3, "{dc} / {nyquist}");
    }
}
