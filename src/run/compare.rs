//! `dreamreel compare SOURCE DREAMED`: how steady a dreamed video is, against its source.
//!
//! - E_warp (Lai et al. 2018): each pair of consecutive dreamed frames, the earlier warped to the
//!   later along the SOURCE's flow, mean squared difference in [0, 1] RGB over the pixels the
//!   source's occlusion test follows; pairs across a scene cut are left out. The same on the
//!   source is the floor a perfectly steady dream would reach.
//! - Brightness flicker: mean change of mean luma between consecutive frames.
//! - Colour drift: mean CIE Lab distance (ΔE76) of each dreamed frame to its source frame, and
//!   its slope over the video (per 100 frames).
//! - Structure: how much of the film is left under the dream. Per frame, the correlation of the
//!   source's and the dream's luma after a Gaussian blur of sigma width/40 (the dream's fine
//!   patterns blur away, the picture's shapes and shading stay); its mean and worst frame. 1 is
//!   the source's picture kept whole, near 0 a picture replaced by the dream.
use crate::error::{Error, Result};
use crate::frame::color::{clipped_share, rgb_to_lab, saturation};
use crate::frame::flow::{frame_motion, warp};
use crate::frame::footage::gaussian_blur;
use crate::frame::image_io::{rgb8_to_tensor, tensor_to_rgb8};
use crate::video::{self, ReadOptions, VideoReader};
use serde::Serialize;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// What `compare` measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Comparison {
    /// Frames compared (the shorter of the two videos).
    pub frames: u64,
    /// Consecutive pairs measured (not across a cut).
    pub pairs: u64,
    pub e_warp: f64,
    pub e_warp_source: f64,
    pub flicker: f64,
    pub flicker_source: f64,
    /// Mean ΔE76 between each dreamed frame and its source frame.
    pub color_distance: f64,
    /// Slope of that distance, per 100 frames.
    pub color_drift_per_100_frames: f64,
    pub saturation: f64,
    pub saturation_source: f64,
    /// Largest share of a frame's pixels with a channel at 0 or 255.
    pub clipped_max: f64,
    /// Frames that start a new shot, counted from 0 as schedules and `plan` count them.
    pub cuts: Vec<u64>,
    /// What makes the two videos a doubtful pair: different frame counts, shapes or rates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Mean over the frames of the blurred-luma correlation of source and dream.
    pub structure: f64,
    /// The lowest frame's correlation, and that frame (from 0).
    pub structure_worst: f64,
    pub structure_worst_frame: u64,
    /// Sigma of the Gaussian blur the correlation was taken after, in pixels (width / 40).
    pub structure_blur_px: f64,
    /// Each frame's correlation, in order.
    pub structure_per_frame: Vec<f64>,
}

/// Running sums over the frames.
#[derive(Default)]
struct Sums {
    e_warp: f64,
    e_warp_source: f64,
    flicker: f64,
    flicker_source: f64,
    distances: Vec<f64>,
    saturation: f64,
    saturation_source: f64,
    clipped_max: f64,
    structure: Vec<f64>,
}

/// Compares `dreamed` with its `source` (read at the dreamed frames' size), frame by frame from
/// the start of both; a pair is a cut below `scene_threshold` followed pixels.
pub fn compare(source: &Path, dreamed: &Path, scene_threshold: f64) -> Result<Comparison> {
    compare_from(source, 0.0, dreamed, scene_threshold)
}

/// [`compare`] with the source read from `start_seconds` into it (a render of `video --start`).
pub fn compare_from(source: &Path, start_seconds: f64, dreamed: &Path, scene_threshold: f64) -> Result<Comparison> {
    video::init()?;
    let mut dreamed_reader = VideoReader::open(dreamed, &ReadOptions::default())?;
    let (width, height) = (dreamed_reader.info().width, dreamed_reader.info().height);
    let read = ReadOptions { width: Some(width), start_seconds, ..Default::default() };
    let mut source_reader = VideoReader::open(source, &read)?;
    let mut sums = Sums::default();
    let mut report = Comparison::default();
    let mut previous: Option<(Vec<u8>, Tensor, Tensor)> = None;
    let blur = StructureBlur::new(width)?;
    let rest: (u64, u64);
    loop {
        let (source_frame, dreamed_frame) = match (source_reader.next_frame()?, dreamed_reader.next_frame()?) {
            (Some(source_frame), Some(dreamed_frame)) => (source_frame, dreamed_frame),
            (source_left, dreamed_left) => {
                rest = (source_left.is_some() as u64, dreamed_left.is_some() as u64);
                break;
            }
        };
        let out = rgb8_to_tensor(&dreamed_frame.rgb, width, height, Device::Cpu)?;
        let src = rgb8_to_tensor(&source_frame.rgb, source_frame.width, source_frame.height, Device::Cpu)?;
        let src = crate::frame::transform::resize(&src, height as i64, width as i64)?;
        let (_, _, src_rgb) = tensor_to_rgb8(&src)?;
        add_frame(&mut sums, &out, &src)?;
        sums.structure.push(blur.correlation(&src, &out)?);
        if let Some((previous_rgb, previous_src, previous_out)) = &previous {
            let motion = frame_motion(previous_rgb, &src_rgb, width, height)?;
            if scene_threshold > 0.0 && motion.consistent < scene_threshold {
                report.cuts.push(report.frames);
            } else {
                let (backward, weight) = (motion.backward_tensor(Device::Cpu)?, motion.weight_tensor(Device::Cpu)?);
                sums.e_warp += warping_error(previous_out, &out, &backward, &weight)?;
                sums.e_warp_source += warping_error(previous_src, &src, &backward, &weight)?;
                report.pairs += 1;
            }
            sums.flicker += (mean_luma(&out)? - mean_luma(previous_out)?).abs();
            sums.flicker_source += (mean_luma(&src)? - mean_luma(previous_src)?).abs();
        }
        previous = Some((src_rgb, src, out));
        report.frames += 1;
    }
    let count_rest = |reader: &mut VideoReader| -> Result<u64> {
        let mut left = 0;
        while reader.next_frame()?.is_some() {
            left += 1;
        }
        Ok(left)
    };
    let source_frames = report.frames + rest.0 + if rest.0 > 0 { count_rest(&mut source_reader)? } else { 0 };
    let dreamed_frames = report.frames + rest.1 + if rest.1 > 0 { count_rest(&mut dreamed_reader)? } else { 0 };
    for (path, frames) in [(source, source_frames), (dreamed, dreamed_frames)] {
        if frames < 2 {
            let what =
                format!("has {frames} frame(s): compare measures the change between frames, so it needs two or more");
            return Err(Error::input(path, what));
        }
    }
    report.warnings = mismatches(source_reader.info(), dreamed_reader.info(), source_frames, dreamed_frames);
    report.structure_blur_px = blur.sigma;
    Ok(finish(report, &sums))
}

/// Differences between the two videos that make the comparison doubtful, one line each.
fn mismatches(
    source: &video::VideoInfo,
    dreamed: &video::VideoInfo,
    source_frames: u64,
    dreamed_frames: u64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if source_frames != dreamed_frames {
        let shorter = source_frames.min(dreamed_frames);
        warnings.push(format!(
            "the source has {source_frames} frames and the dreamed video {dreamed_frames}: only the first {shorter} are compared"
        ));
    }
    let aspect = |info: &video::VideoInfo| info.width as f64 / info.height.max(1) as f64;
    // The source is read at the dreamed width keeping its aspect: its rounding is no mismatch.
    if (aspect(source) / aspect(dreamed) - 1.0).abs() > 0.02 {
        warnings.push(format!(
            "the source's aspect ratio ({:.3}) is not the dreamed video's ({:.3}): is this its source?",
            aspect(source),
            aspect(dreamed)
        ));
    }
    let (source_rate, dreamed_rate) = (source.frame_rate.as_f64(), dreamed.frame_rate.as_f64());
    if (source_rate / dreamed_rate - 1.0).abs() > 0.001 {
        warnings.push(format!(
            "the source runs at {source_rate:.3} frames/s and the dreamed video at {dreamed_rate:.3}: frames are paired by number, not time"
        ));
    }
    warnings
}

fn add_frame(sums: &mut Sums, out: &Tensor, src: &Tensor) -> Result<()> {
    let distance =
        rgb_to_lab(out)?.f_sub(&rgb_to_lab(src)?)?.f_square()?.f_sum_dim_intlist(&[1i64][..], false, Kind::Float)?;
    sums.distances.push(distance.f_sqrt()?.f_mean(Kind::Float)?.f_double_value(&[])?);
    sums.saturation += saturation(out)?;
    sums.saturation_source += saturation(src)?;
    sums.clipped_max = sums.clipped_max.max(clipped_share(out)?);
    Ok(())
}

fn finish(mut report: Comparison, sums: &Sums) -> Comparison {
    let frames = report.frames as f64;
    let pairs = report.pairs.max(1) as f64;
    let changes = (report.frames.saturating_sub(1)).max(1) as f64;
    report.e_warp = sums.e_warp / pairs;
    report.e_warp_source = sums.e_warp_source / pairs;
    report.flicker = sums.flicker / changes;
    report.flicker_source = sums.flicker_source / changes;
    report.color_distance = sums.distances.iter().sum::<f64>() / frames;
    report.color_drift_per_100_frames = slope(&sums.distances) * 100.0;
    report.saturation = sums.saturation / frames;
    report.saturation_source = sums.saturation_source / frames;
    report.clipped_max = sums.clipped_max;
    report.structure = sums.structure.iter().sum::<f64>() / frames;
    let worst = sums.structure.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1));
    if let Some((frame, &value)) = worst {
        (report.structure_worst, report.structure_worst_frame) = (value, frame as u64);
    }
    report.structure_per_frame = sums.structure.clone();
    report
}

/// The blur that [`StructureBlur::correlation`] compares pictures after: Gaussian, sigma width/40.
pub(crate) struct StructureBlur {
    pub sigma: f64,
}

impl StructureBlur {
    pub fn new(width: u32) -> Result<StructureBlur> {
        Ok(StructureBlur { sigma: (width as f64 / 40.0).max(0.5) })
    }

    /// Rec. 601 luma of `rgb` (1 x 3 x H x W), blurred, edges repeating the border.
    fn blurred_luma(&self, rgb: &Tensor) -> Result<Tensor> {
        let weights = Tensor::f_from_slice(&[0.299f32, 0.587, 0.114])?.f_view([1, 3, 1, 1])?;
        let luma = rgb.f_mul(&weights.f_to_device(rgb.device())?)?.f_sum_dim_intlist(&[1i64][..], true, Kind::Float)?;
        gaussian_blur(&luma, self.sigma)
    }

    /// Pearson correlation of `source`'s and `dreamed`'s blurred luma (1 x 3 x H x W each). A
    /// flat source frame has no picture to lose: 1.
    pub(crate) fn correlation(&self, source: &Tensor, dreamed: &Tensor) -> Result<f64> {
        let centred = |t: &Tensor| -> Result<Tensor> {
            let luma = self.blurred_luma(t)?;
            Ok(luma.f_sub(&luma.f_mean(Kind::Float)?)?)
        };
        let (a, b) = (centred(source)?, centred(dreamed)?);
        let value = |t: Tensor| t.f_sum(Kind::Float)?.f_double_value(&[]);
        let (covariance, var_a, var_b) = (value(a.f_mul(&b)?)?, value(a.f_square()?)?, value(b.f_square()?)?);
        if var_a <= 1e-9 * a.numel() as f64 {
            return Ok(1.0);
        }
        Ok(covariance / (var_a * var_b).sqrt().max(1e-12))
    }
}

/// Mean squared difference of `later` and `earlier` warped onto it, over the followed pixels.
pub(crate) fn warping_error(earlier: &Tensor, later: &Tensor, backward: &Tensor, weight: &Tensor) -> Result<f64> {
    let warped = warp(earlier, backward)?;
    let squared = warped.f_sub(later)?.f_square()?.f_mean_dim(&[1i64][..], true, Kind::Float)?;
    let total = weight.f_sum(Kind::Float)?.f_double_value(&[])?;
    if total <= 0.0 {
        return Ok(0.0);
    }
    Ok(squared.f_mul(weight)?.f_sum(Kind::Float)?.f_double_value(&[])? / total)
}

/// Rec. 601 luma of an RGB image, averaged.
fn mean_luma(rgb: &Tensor) -> Result<f64> {
    let weights = Tensor::f_from_slice(&[0.299f32, 0.587, 0.114])?.f_view([1, 3, 1, 1])?;
    Ok(rgb.f_mul(&weights)?.f_sum(Kind::Float)?.f_double_value(&[])? / (rgb.numel() / 3) as f64)
}

/// Least-squares slope of `values` against their index.
pub(crate) fn slope(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if values.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        covariance += dx * (y - mean_y);
        variance += dx * dx;
    }
    covariance / variance
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ratio = if self.e_warp_source > 0.0 { self.e_warp / self.e_warp_source } else { 0.0 };
        writeln!(f, "frames            {} ({} pairs measured)", self.frames, self.pairs)?;
        writeln!(f, "E_warp            {:.6} (source {:.6}, {ratio:.1}x)", self.e_warp, self.e_warp_source)?;
        writeln!(f, "flicker           {:.5} (source {:.5})", self.flicker, self.flicker_source)?;
        writeln!(
            f,
            "colour distance   {:.2} ΔE, drift {:+.3} per 100 frames",
            self.color_distance, self.color_drift_per_100_frames
        )?;
        writeln!(f, "saturation        {:.3} (source {:.3})", self.saturation, self.saturation_source)?;
        writeln!(f, "clipped (worst)   {:.1}% of pixels", self.clipped_max * 100.0)?;
        writeln!(
            f,
            "structure         {:.3} mean, {:.3} worst (frame {}), blurred luma correlation (sigma {:.1} px)",
            self.structure, self.structure_worst, self.structure_worst_frame, self.structure_blur_px
        )?;
        let cuts: Vec<String> = self.cuts.iter().map(|c| c.to_string()).collect();
        match cuts.is_empty() {
            true => write!(f, "cuts at frames    none"),
            false => write!(f, "cuts at frames    {} (counted from 0, as schedules count)", cuts.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_is_one_for_the_picture_itself_and_falls_as_a_dream_replaces_it() {
        let blur = StructureBlur::new(96).unwrap();
        assert!((blur.sigma - 2.4).abs() < 1e-12);
        let ys = Tensor::arange(64, (Kind::Float, Device::Cpu)).view([1, 1, 64, 1]);
        let xs = Tensor::arange(96, (Kind::Float, Device::Cpu)).view([1, 1, 1, 96]);
        // Broad shapes (a picture) and a fine texture (a dream's pattern).
        let picture = ((&xs * 0.05).sin() * (&ys * 0.07).cos() * 0.3 + 0.5).expand([1, 3, 64, 96], false);
        let pattern = ((&xs * 2.1).sin() * (&ys * 1.9).sin() * 0.3).expand([1, 3, 64, 96], false);
        let same = blur.correlation(&picture, &picture).unwrap();
        assert!((same - 1.0).abs() < 1e-5, "{same}");
        let patterned = blur.correlation(&picture, &(&picture + &pattern)).unwrap();
        assert!(patterned > 0.95, "fine patterns blur away: {patterned}");
        let other = ((&xs * 0.09 + 1.0).cos() * (&ys * 0.03).sin() * 0.3 + 0.5).expand([1, 3, 64, 96], false);
        let replaced = blur.correlation(&picture, &other).unwrap();
        assert!(replaced < 0.5, "another picture: {replaced}");
        let half = blur.correlation(&picture, &((&picture + &other) * 0.5)).unwrap();
        assert!(replaced < half && half < patterned, "{replaced} < {half} < {patterned}");
        let flat = Tensor::full([1, 3, 64, 96], 0.5, (Kind::Float, Device::Cpu));
        assert_eq!(blur.correlation(&flat, &picture).unwrap(), 1.0);
    }

    #[test]
    fn slope_of_a_line() {
        assert!((slope(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-12);
        assert_eq!(slope(&[4.0]), 0.0);
    }

    #[test]
    fn warping_error_is_zero_for_a_followed_shift_and_ignores_masked_pixels() {
        let earlier = Tensor::rand([1, 3, 6, 8], (Kind::Float, Device::Cpu));
        let later = earlier.roll([1], [3]);
        let backward = Tensor::zeros([1, 2, 6, 8], (Kind::Float, Device::Cpu));
        let _ = backward.narrow(1, 0, 1).fill_(-1.0);
        let weight = Tensor::ones([1, 1, 6, 8], (Kind::Float, Device::Cpu));
        let _ = weight.narrow(3, 0, 1).fill_(0.0); // the wrapped-in column is not followed
        assert!(warping_error(&earlier, &later, &backward, &weight).unwrap() < 1e-10);
        let still = backward.zeros_like();
        assert!(warping_error(&earlier, &later, &still, &weight).unwrap() > 0.01);
    }
}
