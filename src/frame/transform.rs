//! Frame transforms between dreams: the per-frame motion (zoom, rotation and pan about a centre,
//! Deforum's perspective flip, its 3D camera on a flat scene), the blend of a dreamed frame with
//! new footage, and the noise a zoom can start from.
//!
//! Every 2D motion is one homography resampled bilinearly. [`Resample::Exact`] (the default)
//! reads the source at the exact sub-pixel position and keeps the levels in float, so a zoom of
//! 1.0025 moves 1.0025 a frame about the true centre at every size. [`Resample::Deforum`] moves as
//! Deforum's `cv2.warpPerspective` on its uint8 frames (pixel centres at whole coordinates, source
//! positions rounded to 1/32 pixel as OpenCV's `INTER_LINEAR` does, 8-bit levels every frame),
//! which a Deforum settings file asks for. Borders repeat or wrap; the 3D camera is in [`camera`].
use crate::error::Result;
use crate::frame::camera::{Camera, Matrix, axis_rotation, multiply};
use tch::{Device, Kind, Tensor};

/// What lies beyond the frame's edges when motion brings it in (Deforum's `border`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Border {
    /// The edge pixels repeated (OpenCV's `BORDER_REPLICATE`, Deforum's default).
    #[default]
    Replicate,
    /// The opposite edge (OpenCV's `BORDER_WRAP`): the picture tiles.
    Wrap,
}

/// How a motion reads the moved frame between pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resample {
    /// The exact sub-pixel position, on float levels, about the frame's true centre: the
    /// geometry asked for, however many frames.
    #[default]
    Exact,
    /// As Deforum moves its uint8 frames: OpenCV's 1/32-pixel positions and centre at `W * x`,
    /// 8-bit levels after every frame (truncated after the 3D camera, as its `astype(uint8)`).
    Deforum,
}

/// Deforum's perspective flip: the frame tilted in 3D and seen through a lens of `fv` degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flip {
    /// Degrees about the axis through the screen (`perspective_flip_theta`).
    pub theta: f64,
    /// Degrees about the horizontal axis (`perspective_flip_phi`).
    pub phi: f64,
    /// Degrees about the vertical axis (`perspective_flip_gamma`).
    pub gamma: f64,
    /// Field of view, degrees (`perspective_flip_fv`).
    pub fv: f64,
}

/// What happens to the previous dreamed frame before the next dream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    /// Zoom about the centre per frame; above 1 moves in.
    pub zoom: f64,
    /// Rotation per frame, degrees, counter-clockwise.
    pub rotate_degrees: f64,
    /// Shift of the picture per frame in pixels (right, down); the camera's x and y in 3D.
    pub pan: (f64, f64),
    /// The fixed point of zoom and rotation, as fractions of the width and height (0.5: the centre).
    pub center: (f64, f64),
    /// The perspective flip, when on.
    pub flip: Option<Flip>,
    /// Deforum's 3D camera, when on: zoom, rotation and centre are then unused, as in Deforum.
    pub camera: Option<Camera>,
    pub border: Border,
    pub resample: Resample,
}

impl Motion {
    pub const NONE: Motion = Motion {
        zoom: 1.0,
        rotate_degrees: 0.0,
        pan: (0.0, 0.0),
        center: (0.5, 0.5),
        flip: None,
        camera: None,
        border: Border::Replicate,
        resample: Resample::Exact,
    };

    pub(crate) fn is_identity(&self) -> bool {
        match &self.camera {
            Some(camera) => self.flip.is_none() && camera.is_still(self.pan),
            None => self.flip.is_none() && self.zoom == 1.0 && self.rotate_degrees == 0.0 && self.pan == (0.0, 0.0),
        }
    }

    /// Moves `image` (N x 3 x H x W) by one frame's motion, keeping its size.
    pub fn apply(&self, image: &Tensor) -> Result<Tensor> {
        if self.is_identity() {
            return Ok(image.shallow_clone());
        }
        let size = image.size();
        let (height, width) = (size[2] as f64, size[3] as f64);
        match &self.camera {
            // Deforum flips the frame first, then moves the camera.
            Some(camera) => {
                let flipped = match &self.flip {
                    Some(flip) => {
                        warp_homography(image, &self.placed(flip.matrix(width, height)), self.border, self.resample)?
                    }
                    None => image.shallow_clone(),
                };
                camera.apply(&flipped, self.pan, self.resample == Resample::Deforum)
            }
            None => warp_homography(image, &self.placed(self.plane_matrix(width, height)), self.border, self.resample),
        }
    }

    /// A matrix of Deforum's, written where OpenCV puts pixel i's centre, at i, as the warp reads
    /// it. Deforum's frame then spans -0.5 to W - 0.5, so its centre (W / 2, H / 2) is half a
    /// pixel right of and below the true one. [`Resample::Deforum`] keeps it there (over a long
    /// zoom the fixed point decides where everything comes from); [`Resample::Exact`] reads
    /// Deforum's coordinates as running from the frame's edge, 0 to W, so the fixed point is
    /// the true centre (or the transform centre's true fraction of the frame).
    fn placed(&self, m: Matrix) -> Matrix {
        match self.resample {
            Resample::Deforum => m,
            Resample::Exact => {
                let shift = |by: f64| [[1.0, 0.0, by], [0.0, 1.0, by], [0.0, 0.0, 1.0]];
                multiply(&multiply(&shift(-0.5), &m), &shift(0.5))
            }
        }
    }

    /// The 2D motion as a homography from source pixel to destination pixel, in pixel-centre
    /// coordinates: rotation and zoom about the centre (`getRotationMatrix2D`), after the pan, after
    /// the flip. As in Deforum, a flip drops the pan (its `np.matmul(bM, rot_mat, trans_mat)`
    /// writes the product into `trans_mat` instead of multiplying by it).
    fn plane_matrix(&self, width: f64, height: f64) -> Matrix {
        // Deforum's centre: (W * x, H * y) (see `placed` for where that falls).
        let (cx, cy) = (self.center.0 * width, self.center.1 * height);
        let (sin, cos) = self.rotate_degrees.to_radians().sin_cos();
        let (a, b) = (self.zoom * cos, self.zoom * sin);
        // OpenCV's getRotationMatrix2D(centre, angle, scale): counter-clockwise on screen.
        let rotation = [[a, b, (1.0 - a) * cx - b * cy], [-b, a, b * cx + (1.0 - a) * cy], [0.0, 0.0, 1.0]];
        match &self.flip {
            Some(flip) => multiply(&flip.matrix(width, height), &rotation),
            None => multiply(&rotation, &[[1.0, 0.0, self.pan.0], [0.0, 1.0, self.pan.1], [0.0, 0.0, 1.0]]),
        }
    }
}

impl Flip {
    /// Deforum's flip as a homography in pixel-centre coordinates: the frame's plane, centred,
    /// rotated (x by phi, y by gamma, z by theta), pushed back to fill a lens of `fv` degrees and
    /// projected; the projection's square of side `d / cos(fv/2)` is centred on the frame.
    pub(crate) fn matrix(&self, width: f64, height: f64) -> Matrix {
        let half_fv = (self.fv / 2.0).to_radians();
        let diagonal = width.hypot(height);
        let side = diagonal / half_fv.cos();
        let distance = diagonal / (2.0 * half_fv.sin());
        let focal = 1.0 / half_fv.tan();
        let rotation = multiply(
            &multiply(&axis_rotation(0, self.phi.to_radians()), &axis_rotation(1, self.gamma.to_radians())),
            &axis_rotation(2, self.theta.to_radians()),
        );
        // A point (x, y, 0) of the plane seen at (focal x', focal y') / -z' where
        // (x', y', z') = rotation (x, y, 0) + (0, 0, -distance).
        let r = &rotation;
        let project = [
            [focal * r[0][0], focal * r[0][1], 0.0],
            [focal * r[1][0], focal * r[1][1], 0.0],
            [-r[2][0], -r[2][1], distance],
        ];
        let to_plane = [[1.0, 0.0, -width / 2.0], [0.0, 1.0, -height / 2.0], [0.0, 0.0, 1.0]];
        let to_pixels = [[side / 2.0, 0.0, side / 2.0], [0.0, side / 2.0, side / 2.0], [0.0, 0.0, 1.0]];
        let recentre = [[1.0, 0.0, (width - side) / 2.0], [0.0, 1.0, (height - side) / 2.0], [0.0, 0.0, 1.0]];
        multiply(&multiply(&multiply(&to_pixels, &project), &to_plane), &recentre)
    }
}

fn inverse(m: &Matrix) -> Option<Matrix> {
    let cofactor = |i: usize, j: usize| {
        let (r0, r1, c0, c1) = ((i + 1) % 3, (i + 2) % 3, (j + 1) % 3, (j + 2) % 3);
        m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
    };
    let det: f64 = (0..3).map(|j| m[0][j] * cofactor(0, j)).sum();
    (det.abs() > 1e-12 && det.is_finite())
        .then(|| std::array::from_fn(|i| std::array::from_fn(|j| cofactor(j, i) / det)))
}

/// `image` resampled through `forward` (source pixel -> destination pixel), bilinearly, beyond
/// the edges as `border` says. [`Resample::Deforum`]: as OpenCV's `warpPerspective` with
/// `INTER_LINEAR` on uint8 frames, each destination pixel reading the inverse map's position
/// rounded to 1/32 pixel, on 8-bit levels rounded back to them.
pub(crate) fn warp_homography(image: &Tensor, forward: &Matrix, border: Border, resample: Resample) -> Result<Tensor> {
    let size = image.size();
    let (batch, height, width) = (size[0], size[2], size[3]);
    // A degenerate flip (a plane seen edge-on) shows nothing new: keep the frame.
    let Some(m) = inverse(forward) else { return Ok(image.shallow_clone()) };
    // Positions in double: a float's 24 bits would be a few thousandths of a pixel at 4K.
    let options = (Kind::Double, image.device());
    let xs = Tensor::f_arange(width, options)?.f_view([1, width])?;
    let ys = Tensor::f_arange(height, options)?.f_view([height, 1])?;
    let row = |r: [f64; 3]| -> Result<Tensor> {
        Ok(xs.f_mul_scalar(r[0])?.f_add(&ys.f_mul_scalar(r[1])?)?.f_add_scalar(r[2])?)
    };
    let w = row(m[2])?;
    // OpenCV: a point at infinity reads position 0.
    let w = w.f_where_scalarother(&w.f_ne(0.0)?, 1e30)?;
    let (source_x, source_y) = (row(m[0])?.f_div(&w)?, row(m[1])?.f_div(&w)?);
    let deforum = resample == Resample::Deforum;
    let quantize = |t: Tensor| -> Result<Tensor> {
        match deforum {
            true => Ok(t.f_mul_scalar(32.0)?.f_round()?.f_div_scalar(32.0)?),
            false => Ok(t),
        }
    };
    let (source_x, source_y) = (quantize(source_x)?, quantize(source_y)?);
    // Deforum: on 8-bit levels and rounded back to them, as its uint8 frames are; a slow zoom's
    // fraction of a level per frame is lost there, and must be here to move as it does.
    let levels = match deforum {
        true => image.f_mul_scalar(255.0)?.f_round()?,
        false => image.shallow_clone(),
    };
    // `grid_sample` reads bilinearly with its pixel centres at (2i + 1) / n - 1; a wrapped
    // border is the frame with one column and row of the opposite edges around it, read at the
    // position brought into the frame.
    let (levels, source_x, source_y, grid_width, grid_height) = match border {
        Border::Replicate => (levels, source_x, source_y, width, height),
        Border::Wrap => {
            let around = |t: &Tensor, dim: i64, n: i64| -> Result<Tensor> {
                Ok(Tensor::f_cat(&[t.f_narrow(dim, n - 1, 1)?, t.shallow_clone(), t.f_narrow(dim, 0, 1)?], dim)?)
            };
            let padded = around(&around(&levels, 3, width)?, 2, height)?;
            let inside = |t: Tensor, n: i64| -> Result<Tensor> { Ok(t.f_remainder(n as f64)?.f_add_scalar(1.0)?) };
            (padded, inside(source_x, width)?, inside(source_y, height)?, width + 2, height + 2)
        }
    };
    let normalise = |t: Tensor, n: i64| -> Result<Tensor> {
        Ok(t.f_mul_scalar(2.0)?.f_add_scalar(1.0)?.f_div_scalar(n as f64)?.f_sub_scalar(1.0)?)
    };
    let grid = Tensor::f_stack(&[normalise(source_x, grid_width)?, normalise(source_y, grid_height)?], 2)?;
    let grid = grid.f_unsqueeze(0)?.f_expand([batch, height, width, 2], false)?.f_to_kind(image.kind())?;
    // Bilinear (0), edges repeated (1).
    let out = levels.f_grid_sampler_2d(&grid, 0, 1, false)?;
    match deforum {
        true => Ok(out.f_round()?.f_div_scalar(255.0)?),
        false => Ok(out),
    }
}

/// `share_of_new` of the new frame over the rest of the previous dreamed one.
pub fn blend(previous: &Tensor, new: &Tensor, share_of_new: f64) -> Result<Tensor> {
    Ok(previous.f_mul_scalar(1.0 - share_of_new)?.f_add(&new.f_mul_scalar(share_of_new)?)?)
}

/// A start for a zoom from nothing: soft colour blobs with a little grain, from `seed`.
pub fn noise(height: i64, width: i64, seed: u64, device: Device) -> Result<Tensor> {
    tch::manual_seed(seed as i64);
    let blobs = Tensor::f_rand([1, 3, (height / 8).max(1), (width / 8).max(1)], (Kind::Float, Device::Cpu))?;
    let blobs = resize(&blobs, height, width)?;
    let grain = Tensor::f_rand([1, 3, height, width], (Kind::Float, Device::Cpu))?;
    let image = blobs.f_mul_scalar(0.5)?.f_add_scalar(0.25)?.f_add(&grain.f_sub_scalar(0.5)?.f_mul_scalar(0.2)?)?;
    Ok(image.f_clamp(0.0, 1.0)?.f_to_device(device)?)
}

/// Bilinear resize of an N x C x H x W tensor (half-pixel centres, like `F.interpolate`).
pub(crate) fn resize(image: &Tensor, height: i64, width: i64) -> Result<Tensor> {
    let size = image.size();
    if size[2] == height && size[3] == width {
        return Ok(image.shallow_clone());
    }
    Ok(image.f_upsample_bilinear2d([height, width], false, None, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::camera::{Padding, Sampling};

    /// A ramp of the pixel's own x (or y) coordinate: a motion's map shows in its values.
    fn ramp(height: i64, width: i64, across: bool) -> Tensor {
        let options = (Kind::Float, Device::Cpu);
        let ramp = if across {
            Tensor::arange(width, options).view([1, 1, 1, width]).expand([1, 3, height, width], false)
        } else {
            Tensor::arange(height, options).view([1, 1, height, 1]).expand([1, 3, height, width], false)
        };
        ramp.contiguous()
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn identity_changes_nothing_and_zoom_keeps_the_size() {
        let image = ramp(32, 48, true).f_div_scalar(48.0).unwrap();
        assert_eq!(max_difference(&Motion::NONE.apply(&image).unwrap(), &image), 0.0);
        let zoomed = Motion { zoom: 1.2, ..Motion::NONE }.apply(&image).unwrap();
        assert_eq!(zoomed.size(), image.size());
        // Zooming in on a left-to-right ramp makes it steeper: the ends move out.
        assert!(zoomed.double_value(&[0, 0, 0, 0]) > image.double_value(&[0, 0, 0, 0]));
        assert!(zoomed.double_value(&[0, 0, 0, 47]) < image.double_value(&[0, 0, 0, 47]));
    }

    #[test]
    fn a_zoom_alone_is_exact_isotropic_and_centred_at_every_size() {
        // Pixel x of the zoomed ramp reads the source at c + (x - c) / zoom: exactly, about the
        // true centre c = (size - 1) / 2; as Deforum, about OpenCV's c = size / 2 (pixel centres at
        // whole coordinates) to its 1/32-pixel positions.
        for (height, width) in [(27, 48), (167, 301), (9, 3840)] {
            for zoom in [1.0025, 1.04, 0.97] {
                for (resample, tolerance) in [(Resample::Exact, 1e-3), (Resample::Deforum, 0.02)] {
                    let motion = Motion { zoom, resample, ..Motion::NONE };
                    for (across, size) in [(true, width), (false, height)] {
                        let moved = motion.apply(&ramp(height, width, across)).unwrap();
                        let centre = match resample {
                            Resample::Exact => (size - 1) as f64 / 2.0,
                            Resample::Deforum => size as f64 / 2.0,
                        };
                        let line = if across {
                            moved.get(0).get(0).get(height / 2)
                        } else {
                            moved.get(0).get(0).select(1, width / 2)
                        };
                        // Away from the edges, which repeat.
                        for x in (size / 8..size - size / 8).step_by((size as usize / 16).max(1)) {
                            let expected = centre + (x as f64 - centre) / zoom;
                            let got = line.double_value(&[x]);
                            assert!(
                                (got - expected).abs() < tolerance,
                                "{resample:?} {width}x{height} zoom {zoom} at {x}: {got} vs {expected}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_centre_moves_the_fixed_point() {
        // A quarter of the way across the frame: 40 * 0.25 from its left edge, which is pixel
        // 9.5's centre; Deforum's is 40 * 0.25 in OpenCV's pixel-centre coordinates.
        for (resample, fixed) in [(Resample::Exact, 9.5), (Resample::Deforum, 10.0)] {
            let motion = Motion { zoom: 1.5, center: (0.25, 0.5), resample, ..Motion::NONE };
            let moved = motion.apply(&ramp(20, 40, true)).unwrap();
            for x in [12i64, 20, 30] {
                let expected = fixed + (x as f64 - fixed) / 1.5;
                assert!((moved.double_value(&[0, 0, 10, x]) - expected).abs() < 0.02, "{resample:?}");
            }
        }
    }

    #[test]
    fn pan_shifts_by_whole_pixels_rotation_by_180_flips_and_wrap_tiles() {
        let image = ramp(32, 48, true).f_div_scalar(48.0).unwrap();
        let inner = |t: &Tensor, shift: i64| t.narrow(3, shift, 47).narrow(2, shift, 31);
        // Exact: the picture itself; as Deforum, its 8-bit levels (within half a level), and half a
        // turn about OpenCV's centre (W/2, H/2), where pixel x reads W - x, one off the mirror.
        for (resample, within, off) in [(Resample::Exact, 1e-5, 0), (Resample::Deforum, 0.6 / 255.0, 1)] {
            let panned = Motion { pan: (2.0, 0.0), resample, ..Motion::NONE }.apply(&image).unwrap();
            assert!(max_difference(&panned.narrow(3, 2, 46), &image.narrow(3, 0, 46)) < within);
            let turned = Motion { rotate_degrees: 180.0, resample, ..Motion::NONE }.apply(&image).unwrap();
            assert!(max_difference(&inner(&turned, off), &inner(&image.flip([3]), 0)) < within, "{resample:?}");
            let wrapped = Motion { pan: (5.0, -3.0), border: Border::Wrap, resample, ..Motion::NONE };
            assert!(max_difference(&wrapped.apply(&image).unwrap(), &image.roll([5, -3], [3, 2])) < within);
        }
    }

    #[test]
    fn a_flat_flip_is_no_motion_and_a_tilt_narrows_one_side() {
        let flat = Flip { theta: 0.0, phi: 0.0, gamma: 0.0, fv: 53.0 }.matrix(64.0, 36.0);
        let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        for (row, expected) in flat.iter().zip(identity) {
            for (v, e) in row.iter().zip(expected) {
                // A homography is known up to its scale.
                assert!((v / flat[2][2] - e).abs() < 1e-9, "{flat:?}");
            }
        }
        // Turned about the vertical axis, the plane's nearer side grows: the frame's two vertical
        // edges no longer map to equal heights.
        let tilt = Flip { gamma: 20.0, ..Flip { theta: 0.0, phi: 0.0, gamma: 0.0, fv: 53.0 } }.matrix(64.0, 36.0);
        let y_at = |x: f64, y: f64| {
            (tilt[1][0] * x + tilt[1][1] * y + tilt[1][2]) / (tilt[2][0] * x + tilt[2][1] * y + tilt[2][2])
        };
        let (left, right) = (y_at(0.0, 35.0) - y_at(0.0, 0.0), y_at(63.0, 35.0) - y_at(63.0, 0.0));
        assert!((left - right).abs() > 1.0, "{left} {right}");
    }

    #[test]
    fn a_still_camera_keeps_the_frame_and_a_dolly_zooms_about_the_centre() {
        let camera = Camera {
            translate_z: 0.0,
            rotate_degrees: [0.0; 3],
            fov: 40.0,
            aspect: 1.0,
            sampling: Sampling::Bilinear,
            padding: Padding::Border,
        };
        let image = ramp(24, 40, true).f_div_scalar(40.0).unwrap();
        let still = Motion { camera: Some(camera), ..Motion::NONE };
        assert_eq!(max_difference(&still.apply(&image).unwrap(), &image), 0.0);
        // Forward by 10/200 of the plane's distance: a zoom in, the middle staying put (as Deforum,
        // within the 8-bit levels the camera truncates to, its astype).
        for (resample, within) in [(Resample::Exact, 1e-3), (Resample::Deforum, 0.2)] {
            let dolly = Motion { camera: Some(Camera { translate_z: 10.0, ..camera }), resample, ..Motion::NONE };
            let moved = dolly.apply(&image).unwrap().f_mul_scalar(40.0).unwrap();
            let (left, right) = (moved.double_value(&[0, 0, 12, 10]), moved.double_value(&[0, 0, 12, 29]));
            assert!(left > 10.0 && right < 29.0, "{left} {right}");
            assert!(((left + right) / 2.0 - 19.5).abs() < within, "{resample:?} {left} {right}");
        }
    }

    #[test]
    fn blend_weights_the_new_frame() {
        let black = Tensor::zeros([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let white = Tensor::ones([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        assert!((blend(&black, &white, 0.25).unwrap().mean(Kind::Float).double_value(&[]) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn noise_is_seeded_and_in_range() {
        let a = noise(20, 30, 5, Device::Cpu).unwrap();
        assert_eq!(a.size(), vec![1, 3, 20, 30]);
        assert_eq!(max_difference(&a, &noise(20, 30, 5, Device::Cpu).unwrap()), 0.0);
        assert!(max_difference(&a, &noise(20, 30, 6, Device::Cpu).unwrap()) > 0.1);
        assert!(a.min().double_value(&[]) >= 0.0 && a.max().double_value(&[]) <= 1.0);
    }

    #[test]
    fn the_noise_of_a_seed_never_changes() {
        // Pinned (FNV-1a of the 8-bit pixels): a change here changes every zoom from noise.
        let (_, _, bytes) = crate::frame::image_io::tensor_to_rgb8(&noise(24, 32, 3, Device::Cpu).unwrap()).unwrap();
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        assert_eq!(hash, 5185279021115603408);
    }
}
