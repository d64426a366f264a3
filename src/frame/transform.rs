//! Frame transforms between dreams: the per-frame motion (zoom, rotation, pan), the blend of a
//! dreamed frame with new footage, and the noise a zoom can start from.
use crate::error::Result;
use tch::{Device, Kind, Tensor};

/// What happens to the previous dreamed frame before the next dream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    /// Zoom about the centre per frame; above 1 moves in.
    pub zoom: f64,
    /// Rotation per frame, degrees, counter-clockwise.
    pub rotate_degrees: f64,
    /// Shift of the picture per frame in pixels (right, down).
    pub pan: (f64, f64),
}

impl Motion {
    pub(crate) const NONE: Motion = Motion { zoom: 1.0, rotate_degrees: 0.0, pan: (0.0, 0.0) };

    pub(crate) fn is_identity(&self) -> bool {
        *self == Motion::NONE
    }

    /// Moves `image` (N x 3 x H x W) by one frame's motion, keeping its size.
    pub(crate) fn apply(&self, image: &Tensor) -> Result<Tensor> {
        if self.is_identity() {
            return Ok(image.shallow_clone());
        }
        if self.rotate_degrees == 0.0 && self.pan == (0.0, 0.0) && self.zoom >= 1.0 {
            return zoom_by_crop(image, self.zoom);
        }
        self.warp(image)
    }

    /// Rotation, pan and zoom as one affine resampling; edges repeat the border pixels.
    fn warp(&self, image: &Tensor) -> Result<Tensor> {
        let size = image.size();
        let (height, width) = (size[2] as f64, size[3] as f64);
        let (sin, cos) = self.rotate_degrees.to_radians().sin_cos();
        let z = self.zoom;
        // Output -> input coordinates in [-1, 1] for each axis, rotating in pixel space so a
        // wide frame does not shear.
        let theta = [
            cos / z,
            -sin * height / (width * z),
            -2.0 * self.pan.0 / width,
            sin * width / (height * z),
            cos / z,
            -2.0 * self.pan.1 / height,
        ]
        .map(|v| v as f32);
        let theta = Tensor::f_from_slice(&theta)?.f_view([1, 2, 3])?.f_to_device(image.device())?;
        let theta = theta.f_expand([size[0], 2, 3], false)?;
        let grid = Tensor::f_affine_grid_generator(&theta, size.as_slice(), false)?;
        // Bilinear (0) with border padding (1).
        Ok(image.f_grid_sampler_2d(&grid, 0, 1, false)?)
    }
}

/// Crops the centre `1/zoom` of the frame and scales it back up, exactly as the reference does.
pub fn zoom_by_crop(image: &Tensor, zoom: f64) -> Result<Tensor> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    let crop_h = ((height as f64 / zoom).round_ties_even() as i64).clamp(1, height);
    let crop_w = ((width as f64 / zoom).round_ties_even() as i64).clamp(1, width);
    let (top, left) = ((height - crop_h) / 2, (width - crop_w) / 2);
    let crop = image.f_narrow(2, top, crop_h)?.f_narrow(3, left, crop_w)?;
    resize(&crop, height, width)
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

    fn gradient_image() -> Tensor {
        let ramp = Tensor::arange(48, (Kind::Float, Device::Cpu)).f_div_scalar(48.0).unwrap();
        ramp.view([1, 1, 1, 48]).expand([1, 3, 32, 48], false).contiguous()
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn identity_changes_nothing_and_zoom_keeps_the_size() {
        let image = gradient_image();
        assert_eq!(max_difference(&Motion::NONE.apply(&image).unwrap(), &image), 0.0);
        let zoomed = Motion { zoom: 1.2, ..Motion::NONE }.apply(&image).unwrap();
        assert_eq!(zoomed.size(), image.size());
        // Zooming in on a left-to-right ramp makes it steeper: the ends move out.
        assert!(zoomed.double_value(&[0, 0, 0, 0]) > image.double_value(&[0, 0, 0, 0]));
        assert!(zoomed.double_value(&[0, 0, 0, 47]) < image.double_value(&[0, 0, 0, 47]));
    }

    #[test]
    fn warp_without_motion_agrees_with_the_crop_zoom() {
        let image = gradient_image();
        let by_crop = zoom_by_crop(&image, 1.5).unwrap();
        let by_warp = Motion { zoom: 1.5, ..Motion::NONE }.warp(&image).unwrap();
        // Interior pixels agree; the crop rounds its size to whole pixels, so allow a little.
        let inner = |t: &Tensor| t.narrow(3, 4, 40);
        assert!(max_difference(&inner(&by_crop), &inner(&by_warp)) < 0.02);
    }

    #[test]
    fn pan_shifts_by_whole_pixels_and_rotation_by_180_flips() {
        let image = gradient_image();
        let panned = Motion { pan: (2.0, 0.0), ..Motion::NONE }.apply(&image).unwrap();
        assert!(max_difference(&panned.narrow(3, 2, 46), &image.narrow(3, 0, 46)) < 1e-5);
        let turned = Motion { rotate_degrees: 180.0, ..Motion::NONE }.apply(&image).unwrap();
        assert!(max_difference(&turned, &image.flip([3])) < 1e-4);
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
