//! Colour that does not drift: each dreamed frame keeps the colour statistics of the image it was
//! dreamed from (per-channel mean and spread in CIE Lab, a perceptual space), or only its colours
//! (`keep`: the dream's lightness with the source's a and b, Gatys et al.'s colour preservation).
//! Feedback loops (zooms, footage) otherwise push the dream's small colour bias frame after frame
//! into saturated, clipped colours. Also the measures that check it: saturation and clipping.
use crate::error::Result;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// How the colours of a dreamed frame are tied to what it was dreamed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// Match each Lab channel's mean and standard deviation to the image dreamed from
    #[default]
    Match,
    /// Keep the dream's lightness only; colours (a, b) come from the image dreamed from
    Keep,
    /// Leave the dream's colours as they come (they drift in long feedback renders)
    Free,
}

impl ColorMode {
    pub const ALL: [ColorMode; 3] = [ColorMode::Match, ColorMode::Keep, ColorMode::Free];

    pub fn name(self) -> &'static str {
        match self {
            ColorMode::Match => "match",
            ColorMode::Keep => "keep",
            ColorMode::Free => "free",
        }
    }
}

/// `dreamed` (1 x 3 x H x W in [0, 1]) with its colours tied to `reference` (same size) by `mode`.
pub fn settle(dreamed: Tensor, reference: &Tensor, mode: ColorMode) -> Result<Tensor> {
    if mode == ColorMode::Free || dreamed.size() != reference.size() {
        return Ok(dreamed);
    }
    let lab = rgb_to_lab(&dreamed)?;
    let target = rgb_to_lab(reference)?;
    let settled = match mode {
        ColorMode::Keep => Tensor::f_cat(&[lab.f_narrow(1, 0, 1)?, target.f_narrow(1, 1, 2)?], 1)?,
        _ => {
            let (mean, std) = channel_stats(&lab)?;
            let (target_mean, target_std) = channel_stats(&target)?;
            lab.f_sub(&mean)?.f_div(&std.f_clamp_min(1e-3)?)?.f_mul(&target_std)?.f_add(&target_mean)?
        }
    };
    Ok(lab_to_rgb(&settled)?.f_clamp(0.0, 1.0)?)
}

/// Per-channel mean and standard deviation over the picture, shaped 1 x C x 1 x 1.
fn channel_stats(image: &Tensor) -> Result<(Tensor, Tensor)> {
    let mean = image.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?;
    let std = image.f_std_dim(&[2i64, 3][..], false, true)?;
    Ok((mean, std))
}

/// sRGB (D65) to XYZ, rows X, Y, Z.
const RGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.412_456_4, 0.357_576_1, 0.180_437_5],
    [0.212_672_9, 0.715_152_2, 0.072_175_0],
    [0.019_333_9, 0.119_192_0, 0.950_304_1],
];
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.240_454_2, -1.537_138_5, -0.498_531_4],
    [-0.969_266_0, 1.876_010_8, 0.041_556_0],
    [0.055_643_4, -0.204_025_9, 1.057_225_2],
];
const WHITE: [f64; 3] = [0.950_47, 1.0, 1.088_83];
const DELTA: f64 = 6.0 / 29.0;

/// Mixes the three channels of `image` (1 x 3 x H x W) by `matrix`.
fn mix(image: &Tensor, matrix: &[[f64; 3]; 3]) -> Result<Tensor> {
    let flat: Vec<f32> = matrix.iter().flatten().map(|&v| v as f32).collect();
    let m = Tensor::f_from_slice(&flat)?.f_view([3, 3])?.f_to_device(image.device())?;
    Ok(Tensor::f_einsum("ij,bjhw->bihw", &[m, image.shallow_clone()], None::<&[i64]>)?)
}

fn per_channel(values: [f64; 3], like: &Tensor) -> Result<Tensor> {
    let values = values.map(|v| v as f32);
    Ok(Tensor::f_from_slice(&values)?.f_view([1, 3, 1, 1])?.f_to_device(like.device())?)
}

/// sRGB in [0, 1] to CIE Lab (L in 0..100).
pub fn rgb_to_lab(rgb: &Tensor) -> Result<Tensor> {
    let rgb = rgb.f_clamp(0.0, 1.0)?;
    // tch's where_self: self where the condition holds, else the other.
    let linear = rgb
        .f_div_scalar(12.92)?
        .f_where_self(&rgb.f_le(0.04045)?, &rgb.f_add_scalar(0.055)?.f_div_scalar(1.055)?.f_pow_tensor_scalar(2.4)?)?;
    let xyz = mix(&linear, &RGB_TO_XYZ)?.f_div(&per_channel(WHITE, &linear)?)?;
    let f = xyz
        .f_clamp_min(1e-9)?
        .f_pow_tensor_scalar(1.0 / 3.0)?
        .f_where_self(&xyz.f_gt(DELTA.powi(3))?, &xyz.f_div_scalar(3.0 * DELTA * DELTA)?.f_add_scalar(4.0 / 29.0)?)?;
    let (fx, fy, fz) = (f.f_narrow(1, 0, 1)?, f.f_narrow(1, 1, 1)?, f.f_narrow(1, 2, 1)?);
    let l = fy.f_mul_scalar(116.0)?.f_sub_scalar(16.0)?;
    let a = fx.f_sub(&fy)?.f_mul_scalar(500.0)?;
    let b = fy.f_sub(&fz)?.f_mul_scalar(200.0)?;
    Ok(Tensor::f_cat(&[l, a, b], 1)?)
}

/// CIE Lab back to sRGB (not clamped).
pub fn lab_to_rgb(lab: &Tensor) -> Result<Tensor> {
    let fy = lab.f_narrow(1, 0, 1)?.f_add_scalar(16.0)?.f_div_scalar(116.0)?;
    let fx = fy.f_add(&lab.f_narrow(1, 1, 1)?.f_div_scalar(500.0)?)?;
    let fz = fy.f_sub(&lab.f_narrow(1, 2, 1)?.f_div_scalar(200.0)?)?;
    let f = Tensor::f_cat(&[fx, fy, fz], 1)?;
    let xyz = f
        .f_pow_tensor_scalar(3.0)?
        .f_where_self(&f.f_gt(DELTA)?, &f.f_sub_scalar(4.0 / 29.0)?.f_mul_scalar(3.0 * DELTA * DELTA)?)?;
    let xyz = xyz.f_mul(&per_channel(WHITE, &xyz)?)?;
    let linear = mix(&xyz, &XYZ_TO_RGB)?.f_clamp_min(0.0)?;
    Ok(linear.f_mul_scalar(12.92)?.f_where_self(
        &linear.f_le(0.003_130_8)?,
        &linear.f_pow_tensor_scalar(1.0 / 2.4)?.f_mul_scalar(1.055)?.f_sub_scalar(0.055)?,
    )?)
}

/// Mean HSV saturation ((max - min) / max per pixel) of an RGB image in [0, 1].
pub fn saturation(rgb: &Tensor) -> Result<f64> {
    let max = rgb.f_amax(&[1i64][..], false)?;
    let min = rgb.f_amin(&[1i64][..], false)?;
    let s = max.f_sub(&min)?.f_div(&max.f_clamp_min(1e-6)?)?;
    Ok(s.f_mean(Kind::Float)?.f_double_value(&[])?)
}

/// Share of pixels with a channel at 0 or 255 once written as 8-bit.
pub fn clipped_share(rgb: &Tensor) -> Result<f64> {
    let low = rgb.f_le(0.5 / 255.0)?;
    let high = rgb.f_ge(254.5 / 255.0)?;
    let any = low.f_logical_or(&high)?.f_any_dims(Some(&[1i64][..]), false)?;
    Ok(any.f_to_kind(Kind::Float)?.f_mean(Kind::Float)?.f_double_value(&[])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn picture() -> Tensor {
        tch::manual_seed(3);
        Tensor::rand([1, 3, 12, 16], (Kind::Float, Device::Cpu))
    }

    #[test]
    fn lab_round_trips_and_knows_white() {
        let image = picture();
        let back = lab_to_rgb(&rgb_to_lab(&image).unwrap()).unwrap();
        assert!((back - &image).abs().max().double_value(&[]) < 1e-3);
        let white = rgb_to_lab(&Tensor::ones([1, 3, 1, 1], (Kind::Float, Device::Cpu))).unwrap();
        assert!((white.double_value(&[0, 0, 0, 0]) - 100.0).abs() < 0.05);
        assert!(white.double_value(&[0, 1, 0, 0]).abs() < 0.05 && white.double_value(&[0, 2, 0, 0]).abs() < 0.05);
    }

    #[test]
    fn match_restores_the_reference_statistics() {
        let reference = picture();
        // A dream that drifted: brighter, redder, more contrast.
        let drifted = (&reference * 1.4 + Tensor::from_slice(&[0.2f32, -0.1, -0.1]).view([1, 3, 1, 1])).clamp(0.0, 1.0);
        let settled = settle(drifted.shallow_clone(), &reference, ColorMode::Match).unwrap();
        let (want, _) = channel_stats(&rgb_to_lab(&reference).unwrap()).unwrap();
        let (before, _) = channel_stats(&rgb_to_lab(&drifted).unwrap()).unwrap();
        let (after, _) = channel_stats(&rgb_to_lab(&settled).unwrap()).unwrap();
        let gap = |t: &Tensor| (t - &want).abs().max().double_value(&[]);
        assert!(gap(&after) < gap(&before) / 4.0, "{} vs {}", gap(&after), gap(&before));
        assert_eq!(settle(drifted.shallow_clone(), &reference, ColorMode::Free).unwrap().size(), drifted.size());
    }

    #[test]
    fn keep_takes_the_reference_colours() {
        let reference = picture();
        let grey = reference.mean_dim(&[1i64][..], true, Kind::Float).expand([1, 3, 12, 16], false);
        let kept = settle(grey, &reference, ColorMode::Keep).unwrap();
        assert!(saturation(&kept).unwrap() > 0.3, "the colours come back");
    }

    #[test]
    fn clipping_and_saturation_measure_what_they_say() {
        let image = Tensor::full([1, 3, 2, 2], 0.5, (Kind::Float, Device::Cpu));
        assert_eq!(clipped_share(&image).unwrap(), 0.0);
        assert_eq!(saturation(&image).unwrap(), 0.0);
        let _ = image.get(0).get(0).get(0).get(0).fill_(1.0);
        assert_eq!(clipped_share(&image).unwrap(), 0.25);
        assert!((saturation(&image).unwrap() - 0.125).abs() < 1e-6);
    }
}
