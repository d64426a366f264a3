//! Dreamed footage that follows the motion: the dream of frame t-1 is carried into frame t along
//! the source's optical flow, as its residual (dream minus source), so patterns move with the
//! scene and colours re-anchor on every new frame; where the flow says occluded the new frame is
//! used raw, and at a scene cut the feedback starts afresh.
use crate::error::Result;
use crate::frame::color::{ColorMode, settle};
use crate::frame::flow::{FrameMotion, frame_motion, warp};
use crate::frame::rgb::Frame;
use crate::frame::transform::Motion;
use crossbeam_channel::{Receiver, Sender};
use tch::Tensor;

/// A decoded frame with the source's motion from the frame before it (none for the first).
pub(crate) type FollowedFrame = (Frame, Option<FrameMotion>);

/// How the previous dream is carried into the next frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Carry {
    /// The zoom/rotate/pan applied on top of the flow.
    pub motion: Motion,
    /// `--blend`: the new frame's share; the carried residual is weighted by the rest.
    pub blend: f64,
    /// Below this share of followed pixels a pair of frames is a cut (0: never).
    pub scene_threshold: f64,
    /// How the carried frame's colours are tied to the new frame.
    pub colors: ColorMode,
}

/// The image to dream for one frame, whether the frame starts a new shot, and whether it carries
/// a dream (and is dreamed with less ascent, [`crate::engine::ascent::CarrySchedule`]).
pub(crate) struct Prepared {
    pub image: Tensor,
    pub cut: bool,
    pub carried: bool,
    /// The share of pixels the flow did not follow (occluded or revealed): they carry nothing.
    pub new_share: f64,
}

/// The carried residual's share per unit of the old frame's share (`1 - blend`): 0.7 at the
/// default blend of 0.5, all of it from blend 0.3 down, none at 1. Below 1, what a frame adds
/// fades over the next frames (to a quarter after four), so the residual cannot pile up over a
/// shot: it settles where each frame's new dreaming balances what fades.
pub(crate) const CARRY_PER_OLD_SHARE: f64 = 1.4;

/// Whether the pair of frames `motion` was found between is a scene cut: below `scene_threshold`
/// of its pixels followed (0: never). The one test, for the render and for where parts of a film
/// may start (`crate::run::parts`).
pub fn is_cut(scene_threshold: f64, motion: &FrameMotion) -> bool {
    scene_threshold > 0.0 && motion.consistent < scene_threshold
}

impl Carry {
    /// Share of the previous dream's residual carried ([`CARRY_PER_OLD_SHARE`]).
    pub(crate) fn carried_share(&self) -> f64 {
        (CARRY_PER_OLD_SHARE * (1.0 - self.blend)).clamp(0.0, 1.0)
    }

    /// `new` plus the previous dream's residual carried along the flow at [`Carry::carried_share`],
    /// faded out where occluded.
    pub fn prepare(
        &self,
        previous_dream: Option<&Tensor>,
        new: &Tensor,
        motion: Option<&FrameMotion>,
    ) -> Result<Prepared> {
        let alone = |cut| Ok(Prepared { image: new.shallow_clone(), cut, carried: false, new_share: 1.0 });
        let (Some(dream), Some(motion)) = (previous_dream, motion) else {
            return alone(false);
        };
        if dream.size() != new.size() {
            return alone(false);
        }
        if is_cut(self.scene_threshold, motion) {
            return alone(true);
        }
        let share = self.carried_share();
        if share <= 0.0 {
            return alone(false);
        }
        let device = new.device();
        let residual = dream.f_sub(&motion.previous_tensor(device)?)?;
        let carried = self.motion.apply(&warp(&residual, &motion.backward_tensor(device)?)?)?;
        // Colours re-anchor on the new frame, so a carried colour cast cannot build up.
        let anchored = settle(new.f_add(&carried)?.f_clamp(0.0, 1.0)?, new, self.colors)?;
        let weight = motion.weight_tensor(device)?.f_mul_scalar(share)?;
        let image = new.f_add(&anchored.f_sub(new)?.f_mul(&weight)?)?;
        Ok(Prepared { image, cut: false, carried: true, new_share: 1.0 - motion.consistent })
    }
}

/// `image` (N x C x H x W) blurred by a Gaussian of `sigma` pixels, channel by channel, edges
/// repeating the border: its low frequencies.
pub(crate) fn gaussian_blur(image: &Tensor, sigma: f64) -> Result<Tensor> {
    let size = image.size();
    let (channels, height, width) = (size[0] * size[1], size[2], size[3]);
    let planes = image.f_reshape([channels, 1, height, width])?;
    // The kernel's reach, cut to the picture (replicate padding cannot pad wider than it).
    let kernel = |radius: i64| -> Result<Tensor> {
        let taps: Vec<f32> =
            (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32).collect();
        let total: f32 = taps.iter().sum();
        let taps: Vec<f32> = taps.iter().map(|t| t / total).collect();
        Ok(Tensor::f_from_slice(&taps)?.f_to_device(image.device())?)
    };
    let reach = (3.0 * sigma).ceil() as i64;
    let (rx, ry) = (reach.min(width - 1), reach.min(height - 1));
    let horizontal = kernel(rx)?.f_view([1, 1, 1, 2 * rx + 1])?;
    let vertical = kernel(ry)?.f_view([1, 1, 2 * ry + 1, 1])?;
    let convolve = |planes: &Tensor, kernel: &Tensor, pad: [i64; 4]| -> Result<Tensor> {
        let padded = planes.f_pad(&pad[..], "replicate", None)?;
        Ok(padded.f_conv2d(kernel, None::<&Tensor>, [1, 1], [0, 0], [1, 1], 1)?)
    };
    let rows = convolve(&planes, &horizontal, [rx, rx, 0, 0])?;
    Ok(convolve(&rows, &vertical, [0, 0, ry, ry])?.f_reshape(size.as_slice())?)
}

/// The flow stage: for each decoded frame, the motion from the frame before. Frames before
/// `first_index` (the one a resume decodes again to have its previous frame) only serve as that.
/// Errors travel down the channel like frames, so the dream stage reports the first one.
pub(crate) fn follow(
    decoded: Receiver<Result<Frame>>,
    first_index: u64,
    out: Sender<Result<FollowedFrame>>,
) -> Result<()> {
    let mut previous: Option<Frame> = None;
    for frame in decoded {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                let _ = out.send(Err(e));
                return Ok(());
            }
        };
        let motion = match &previous {
            Some(p) if p.width == frame.width && p.height == frame.height => {
                match frame_motion(&p.rgb, &frame.rgb, frame.width, frame.height) {
                    Ok(motion) => Some(motion),
                    Err(e) => {
                        let _ = out.send(Err(e));
                        return Ok(());
                    }
                }
            }
            _ => None,
        };
        previous = Some(frame.clone());
        if frame.index >= first_index && out.send(Ok((frame, motion))).is_err() {
            return Ok(()); // the dream stage stopped
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::flow::square_scene;
    use tch::{Device, Kind};

    const SIZE: (i64, i64) = (48, 80);

    /// A still motion over flat frames of 0.4 (`weight`: which pixels are followed).
    fn motion_with(weight: Vec<f32>, consistent: f64) -> FrameMotion {
        let (height, width) = (SIZE.0 as usize, SIZE.1 as usize);
        FrameMotion {
            backward: crate::frame::flow::FlowField { width, height, vectors: vec![0.0; width * height * 2] },
            weight,
            consistent,
            previous: vec![102; width * height * 3], // 0.4
        }
    }

    fn flat(value: f64) -> Tensor {
        Tensor::full([1, 3, SIZE.0, SIZE.1], value, (Kind::Float, Device::Cpu))
    }

    /// A dream's fine pattern: a checkerboard of +-`amplitude`.
    fn checkers(amplitude: f64) -> Tensor {
        let ys = Tensor::arange(SIZE.0, (Kind::Float, Device::Cpu)).view([1, 1, SIZE.0, 1]);
        let xs = Tensor::arange(SIZE.1, (Kind::Float, Device::Cpu)).view([1, 1, 1, SIZE.1]);
        let parity = (ys + xs).remainder(2.0);
        (parity * 2.0 - 1.0).expand([1, 3, SIZE.0, SIZE.1], false) * amplitude
    }

    fn carry(scene_threshold: f64) -> Carry {
        // Free colours: these frames have no colours to match.
        Carry { motion: Motion::NONE, blend: 0.5, scene_threshold, colors: ColorMode::Free }
    }

    #[test]
    fn the_share_carried_falls_with_the_blend_and_stays_below_one_by_default() {
        let at = |blend| Carry { blend, ..carry(0.2) }.carried_share();
        assert!((at(0.5) - 0.7).abs() < 1e-12);
        assert_eq!((at(0.0), at(1.0)), (1.0, 0.0));
        assert!(at(0.8) < at(0.5));
    }

    #[test]
    fn the_residual_is_carried_in_part_where_followed_and_occluded_pixels_are_raw() {
        // The previous dream: the previous frame (0.4) lifted by 0.1 and patterned.
        let dream = flat(0.5) + checkers(0.1);
        let new = flat(0.3);
        let followed: Vec<f32> = (0..SIZE.0 * SIZE.1).map(|i| if i % SIZE.1 < 40 { 0.0 } else { 1.0 }).collect();
        let weight = crate::frame::flow::soften(&followed, SIZE.1 as usize, SIZE.0 as usize);
        let prepared = carry(0.2).prepare(Some(&dream), &new, Some(&motion_with(weight, 0.5))).unwrap();
        assert!(!prepared.cut && prepared.carried);
        let left = prepared.image.narrow(3, 0, 40);
        assert_eq!(
            (left - new.narrow(3, 0, 40)).abs().max().double_value(&[]),
            0.0,
            "occluded pixels are the new frame"
        );
        // Inside the followed half: the new frame plus 0.7 of the residual (lift and pattern).
        let inner = (&prepared.image - &new).narrow(3, 50, 20).narrow(2, 10, 28);
        let expected = (flat(0.07) + checkers(0.07)).narrow(3, 50, 20).narrow(2, 10, 28);
        let error = (&inner - &expected).abs().max().double_value(&[]);
        assert!(error < 1e-5, "the carried residual is off by {error}");
    }

    #[test]
    fn pixels_uncovered_by_a_moving_object_take_the_new_frame() {
        let (before, after) = (square_scene(30, 64), square_scene(38, 64));
        let motion = frame_motion(&before, &after, 96, 64).unwrap();
        // Columns 30..38 of the square's rows showed the square and now show background (the
        // middle of that strip: DIS smooths the flow over an edge).
        let weight = motion.weight_tensor(Device::Cpu).unwrap();
        let uncovered = weight.narrow(2, 26, 12).narrow(3, 32, 4);
        assert_eq!(uncovered.max().double_value(&[]), 0.0, "the uncovered strip is occluded");
        assert!(motion.consistent > 0.5, "the rest is followed: {}", motion.consistent);
        let new = crate::frame::image_io::rgb8_to_tensor(&after, 96, 64, Device::Cpu).unwrap();
        let before = crate::frame::image_io::rgb8_to_tensor(&before, 96, 64, Device::Cpu).unwrap();
        let pattern = Tensor::rand([1, 3, 64, 96], (Kind::Float, Device::Cpu)) * 0.3 - 0.15;
        let dream = (before + pattern).clamp(0.0, 1.0);
        let prepared = carry(0.2).prepare(Some(&dream), &new, Some(&motion)).unwrap();
        let strip = |t: &Tensor| t.narrow(2, 26, 12).narrow(3, 32, 4);
        assert_eq!((strip(&prepared.image) - strip(&new)).abs().max().double_value(&[]), 0.0);
        let followed = (prepared.image - &new).abs().mean(Kind::Float).double_value(&[]);
        assert!(followed > 0.02, "elsewhere the dream is carried: {followed}");
    }

    #[test]
    fn a_cut_resets_the_feedback_unless_turned_off() {
        let dream = flat(0.5) + checkers(0.2);
        let new = flat(0.1);
        let weight = vec![1f32; (SIZE.0 * SIZE.1) as usize];
        let at_cut = carry(0.2).prepare(Some(&dream), &new, Some(&motion_with(weight.clone(), 0.05))).unwrap();
        assert!(at_cut.cut && !at_cut.carried);
        assert_eq!((at_cut.image - &new).abs().max().double_value(&[]), 0.0);
        let off = carry(0.0).prepare(Some(&dream), &new, Some(&motion_with(weight, 0.05))).unwrap();
        assert!(!off.cut && off.carried && (off.image - &new).abs().max().double_value(&[]) > 0.1);
    }

    #[test]
    fn the_blur_keeps_flat_pictures_and_removes_fine_patterns() {
        let blurred = gaussian_blur(&(flat(0.4) + checkers(0.2)), 2.0).unwrap();
        // Inside the margin (the border repeats, so there the pattern does not cancel).
        let inner = (blurred - flat(0.4)).narrow(2, 8, SIZE.0 - 16).narrow(3, 8, SIZE.1 - 16);
        assert!(inner.abs().max().double_value(&[]) < 1e-3);
        let edge = gaussian_blur(&flat(0.6), 30.0).unwrap(); // wider than the picture
        assert!((edge - flat(0.6)).abs().max().double_value(&[]) < 1e-5);
    }
}
