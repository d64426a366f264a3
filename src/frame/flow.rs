//! Dense optical flow between source frames (OpenCV's DIS, through the C++ shim in
//! `csrc/dis_flow.cpp`), warping along it, and what it tells about each pixel: whether it can be
//! followed from the previous frame (Ruder et al. 2016's forward-backward consistency and motion
//! boundaries, plus a photometric gate) and, from the share of pixels that can, scene cuts.
use crate::error::{Error, Result};
use crate::frame::image_io::rgb8_to_tensor;
use tch::{Device, Kind, Tensor};

/// Flow is computed at most this wide and scaled up: DIS at 960x540 takes ~36 ms on one core.
pub const MAX_FLOW_WIDTH: u32 = 960;

unsafe extern "C" {
    fn dreamreel_dis_flow(
        from_rgb: *const u8,
        to_rgb: *const u8,
        width: i32,
        height: i32,
        max_width: i32,
        flow_out: *mut f32,
        message: *mut std::ffi::c_char,
        capacity: i32,
    ) -> i32;
}

/// DIS flow from `from` to `to` (packed RGB24 of `width` x `height`): for each pixel of `from`,
/// how far it moved to reach `to`, in pixels, as 1 x 2 (dx, dy) x H x W on the CPU.
pub fn dis_flow(from: &[u8], to: &[u8], width: u32, height: u32) -> Result<Tensor> {
    let pixels = width as usize * height as usize;
    if from.len() != pixels * 3 || to.len() != pixels * 3 || pixels == 0 {
        return Err(Error::setting("flow", format!("frames of {}x{} do not match their pixels", width, height)));
    }
    let mut flow = vec![0f32; pixels * 2];
    let mut message = [0 as std::ffi::c_char; 256];
    // SAFETY: both inputs hold width*height*3 bytes and the output width*height*2 floats (checked
    // above); the shim writes at most `capacity` bytes of message and catches every C++ exception.
    let status = unsafe {
        dreamreel_dis_flow(
            from.as_ptr(),
            to.as_ptr(),
            width as i32,
            height as i32,
            MAX_FLOW_WIDTH as i32,
            flow.as_mut_ptr(),
            message.as_mut_ptr(),
            message.len() as i32,
        )
    };
    if status != 0 {
        // SAFETY: the shim always NUL-terminates the message within its capacity.
        let text = unsafe { std::ffi::CStr::from_ptr(message.as_ptr()) }.to_string_lossy().into_owned();
        return Err(Error::setting("flow", format!("OpenCV DIS failed: {text}")));
    }
    let flow = Tensor::f_from_slice(&flow)?.f_view([height as i64, width as i64, 2])?;
    Ok(flow.f_permute([2, 0, 1])?.f_unsqueeze(0)?.f_contiguous()?)
}

/// `image` (N x C x H x W) resampled along `flow` (1 x 2 x H x W, pixels): output pixel x takes
/// the image at x + flow(x), bilinear, edges repeating the border.
pub fn warp(image: &Tensor, flow: &Tensor) -> Result<Tensor> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    let options = (Kind::Float, image.device());
    let flow = flow.f_to_device(image.device())?;
    let xs = Tensor::f_arange(width, options)?.f_view([1, 1, width])?;
    let ys = Tensor::f_arange(height, options)?.f_view([1, height, 1])?;
    // Pixel centres to [-1, 1] as grid_sample reads them with align_corners = false.
    let gx = flow.f_select(1, 0)?.f_add(&xs)?.f_add_scalar(0.5)?.f_mul_scalar(2.0 / width as f64)?.f_sub_scalar(1.0)?;
    let gy =
        flow.f_select(1, 1)?.f_add(&ys)?.f_add_scalar(0.5)?.f_mul_scalar(2.0 / height as f64)?.f_sub_scalar(1.0)?;
    let grid = Tensor::f_stack(&[gx, gy], 3)?.f_expand([size[0], height, width, 2], false)?;
    // Bilinear (0), border padding (1).
    Ok(image.f_grid_sampler_2d(&grid, 0, 1, false)?)
}

/// What the source's motion between frame t-1 and frame t says, for carrying a dream along it.
pub struct FrameMotion {
    /// Flow from frame t back to t-1 (1 x 2 x H x W, pixels, CPU).
    pub backward: Tensor,
    /// 1 x 1 x H x W in [0, 1]: 1 where frame t's pixel is followed from t-1, 0 where it is
    /// occluded (every pixel found occluded is 0, its edge softened outwards).
    pub weight: Tensor,
    /// Share of frame t's pixels that are followed: low at a scene cut.
    pub consistent: f64,
    /// Frame t-1 of the source (1 x 3 x H x W in [0, 1], CPU).
    pub previous: Tensor,
}

/// Flow both ways between two source frames and the occlusion tests on it.
pub fn frame_motion(previous: &[u8], current: &[u8], width: u32, height: u32) -> Result<FrameMotion> {
    let backward = dis_flow(current, previous, width, height)?;
    let forward = dis_flow(previous, current, width, height)?;
    let previous = rgb8_to_tensor(previous, width, height, Device::Cpu)?;
    let current = rgb8_to_tensor(current, width, height, Device::Cpu)?;
    let followed = followed_pixels(&backward, &forward, &previous, &current)?;
    let consistent = followed.f_mean(Kind::Float)?.f_double_value(&[])?;
    Ok(FrameMotion { backward, weight: soften(&followed)?, consistent, previous })
}

/// 1 where a pixel of frame t passes all three tests, else 0 (1 x 1 x H x W float).
pub fn followed_pixels(backward: &Tensor, forward: &Tensor, previous: &Tensor, current: &Tensor) -> Result<Tensor> {
    let squared =
        |t: &Tensor| -> Result<Tensor> { Ok(t.f_square()?.f_sum_dim_intlist(&[1i64][..], true, Kind::Float)?) };
    // Forward-backward: going back then forward again should come home.
    let forward_there = warp(forward, backward)?;
    let round_trip = squared(&forward_there.f_add(backward)?)?;
    let lengths = squared(&forward_there)?.f_add(&squared(backward)?)?;
    let inconsistent = round_trip.f_gt_tensor(&lengths.f_mul_scalar(0.01)?.f_add_scalar(0.5)?)?;
    // Motion boundaries: where the flow changes fast, one side is being covered.
    let dx =
        backward.f_narrow(3, 1, backward.size()[3] - 1)?.f_sub(&backward.f_narrow(3, 0, backward.size()[3] - 1)?)?;
    let dy =
        backward.f_narrow(2, 1, backward.size()[2] - 1)?.f_sub(&backward.f_narrow(2, 0, backward.size()[2] - 1)?)?;
    let dx = dx.f_constant_pad_nd(&[0i64, 1, 0, 0][..])?;
    let dy = dy.f_constant_pad_nd(&[0i64, 0, 0, 1][..])?;
    let gradient = squared(&dx)?.f_add(&squared(&dy)?)?;
    let boundary = gradient.f_gt_tensor(&squared(backward)?.f_mul_scalar(0.01)?.f_add_scalar(0.002)?)?;
    // Photometric: the previous frame carried along the flow should look like this one.
    let carried = warp(previous, backward)?;
    let difference = carried.f_sub(current)?.f_abs()?.f_mean_dim(&[1i64][..], true, Kind::Float)?;
    let unlike = difference.f_gt(0.1)?;
    let occluded = inconsistent.f_logical_or(&boundary)?.f_logical_or(&unlike)?;
    Ok(occluded.f_logical_not()?.f_to_kind(Kind::Float)?)
}

/// Erodes the followed pixels by one and blurs the edge (3x3), so the carried dream fades out
/// before an occlusion and every occluded pixel stays exactly 0.
pub fn soften(followed: &Tensor) -> Result<Tensor> {
    let eroded = followed.f_neg()?.f_max_pool2d([3, 3], [1, 1], [1, 1], [1, 1], false)?.f_neg()?;
    Ok(eroded.f_avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, textured RGB picture shifted right by `dx` and down by `dy` whole pixels.
    fn texture(width: u32, height: u32, dx: i64, dy: i64) -> Vec<u8> {
        let mut rgb = Vec::new();
        for y in 0..height as i64 {
            for x in 0..width as i64 {
                let (u, v) = ((x - dx) as f64, (y - dy) as f64);
                let value = 128.0 + 60.0 * (u * 0.21).sin() * (v * 0.17).cos() + 40.0 * ((u + v) * 0.05).sin();
                rgb.extend([value as u8, (255.0 - value) as u8, (value * 0.5) as u8]);
            }
        }
        rgb
    }

    #[test]
    fn dis_finds_a_shift() {
        let (a, b) = (texture(96, 64, 0, 0), texture(96, 64, 3, 2));
        let flow = dis_flow(&a, &b, 96, 64).unwrap();
        let inner = flow.narrow(2, 12, 40).narrow(3, 12, 72);
        let dx = inner.select(1, 0).mean(Kind::Float).double_value(&[]);
        let dy = inner.select(1, 1).mean(Kind::Float).double_value(&[]);
        assert!((dx - 3.0).abs() < 0.3 && (dy - 2.0).abs() < 0.3, "flow ({dx}, {dy})");
    }

    #[test]
    fn bad_sizes_are_refused_not_read() {
        assert!(dis_flow(&[0; 10], &[0; 10], 4, 4).is_err());
    }

    #[test]
    fn warp_follows_the_flow() {
        let image = Tensor::arange(20, (Kind::Float, Device::Cpu)).view([1, 1, 4, 5]);
        let mut flow = Tensor::zeros([1, 2, 4, 5], (Kind::Float, Device::Cpu));
        let _ = flow.narrow(1, 0, 1).fill_(1.0);
        let warped = warp(&image, &flow).unwrap();
        // Each pixel takes its right neighbour; the last column repeats the border.
        assert_eq!(warped.double_value(&[0, 0, 1, 2]), image.double_value(&[0, 0, 1, 3]));
        assert_eq!(warped.double_value(&[0, 0, 1, 4]), image.double_value(&[0, 0, 1, 4]));
        flow = flow.zeros_like();
        assert_eq!((warp(&image, &flow).unwrap() - &image).abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn a_shift_is_followed_and_unrelated_frames_are_not() {
        let (a, b) = (texture(96, 64, 0, 0), texture(96, 64, 2, 1));
        let moved = frame_motion(&a, &b, 96, 64).unwrap();
        assert!(moved.consistent > 0.8, "consistent share {}", moved.consistent);
        let other: Vec<u8> = texture(96, 64, 0, 0).iter().map(|v| v.wrapping_mul(7)).collect();
        let cut = frame_motion(&a, &other, 96, 64).unwrap();
        assert!(cut.consistent < 0.2, "consistent share at a cut {}", cut.consistent);
    }
}
