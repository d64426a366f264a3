//! Dense optical flow between source frames (OpenCV's DIS, through the C++ shim in
//! `csrc/dis_flow.cpp`), warping along it, and what it tells about each pixel: whether it can be
//! followed from the previous frame (Ruder et al. 2016's forward-backward consistency and motion
//! boundaries, plus a photometric gate) and, from the share of pixels that can, scene cuts.
//!
//! The flow stage runs on its own thread beside the dream, so everything it computes here is plain
//! Rust on plain buffers, single-threaded: no torch op (each thread that enters one of torch's
//! OpenMP regions gets a team of its own, and two teams on the same cores wait at every barrier
//! for each other's descheduled members, which halved the dream's speed), and OpenCV on one
//! thread. The tensors the dream thread needs are made there, from [`FrameMotion`]'s buffers.
use crate::error::{Error, Result};
use crate::frame::image_io::rgb8_to_tensor;
use tch::{Device, Kind, Tensor};
/// Flow is computed at most this wide and scaled up: DIS at 960x540 takes ~36 ms on one core.
pub(crate) const MAX_FLOW_WIDTH: u32 = 960;

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

/// A dense flow field on the CPU: for each pixel, how far it moved, in pixels, interleaved
/// (dx, dy) row by row, as OpenCV gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowField {
    pub width: usize,
    pub height: usize,
    pub vectors: Vec<f32>,
}

impl FlowField {
    /// The field as 1 x 2 (dx, dy) x H x W.
    pub(crate) fn to_tensor(&self) -> Result<Tensor> {
        let flow = Tensor::f_from_slice(&self.vectors)?.f_view([self.height as i64, self.width as i64, 2])?;
        Ok(flow.f_permute([2, 0, 1])?.f_unsqueeze(0)?.f_contiguous()?)
    }

    fn at(&self, index: usize) -> (f32, f32) {
        (self.vectors[2 * index], self.vectors[2 * index + 1])
    }
}

/// DIS flow from `from` to `to` (packed RGB24 of `width` x `height`): for each pixel of `from`,
/// how far it moved to reach `to`, in pixels.
pub(crate) fn dis_flow_field(from: &[u8], to: &[u8], width: u32, height: u32) -> Result<FlowField> {
    let pixels = width as usize * height as usize;
    if from.len() != pixels * 3 || to.len() != pixels * 3 || pixels == 0 {
        return Err(Error::internal(format!("flow: frames of {}x{} do not match their pixels", width, height)));
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
        return Err(Error::internal(format!("OpenCV DIS flow failed: {text}")));
    }
    Ok(FlowField { width: width as usize, height: height as usize, vectors: flow })
}

/// [`dis_flow_field`] as 1 x 2 (dx, dy) x H x W on the CPU.
pub fn dis_flow(from: &[u8], to: &[u8], width: u32, height: u32) -> Result<Tensor> {
    dis_flow_field(from, to, width, height)?.to_tensor()
}

/// `image` (N x C x H x W) resampled along `flow` (1 x 2 x H x W, pixels): output pixel x takes
/// the image at x + flow(x), bilinear, edges repeating the border. For the dream thread.
pub(crate) fn warp(image: &Tensor, flow: &Tensor) -> Result<Tensor> {
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

/// Where the bilinear sample at (`x`, `y`) falls, clamped to the border as [`warp`] does: the
/// four corner indices and the weights of the right and lower neighbours.
#[derive(Clone, Copy)]
struct Sample {
    corners: [usize; 4],
    right: f32,
    down: f32,
}

impl Sample {
    fn at(x: f32, y: f32, width: usize, height: usize) -> Sample {
        let x = x.clamp(0.0, (width - 1) as f32);
        let y = y.clamp(0.0, (height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
        let corners = [y0 * width + x0, y0 * width + x1, y1 * width + x0, y1 * width + x1];
        Sample { corners, right: x - x0 as f32, down: y - y0 as f32 }
    }

    /// The sample of a plane whose pixel `i` is `value(i)`.
    fn of(&self, value: impl Fn(usize) -> f32) -> f32 {
        let [a, b, c, d] = self.corners.map(value);
        let top = a + (b - a) * self.right;
        let bottom = c + (d - c) * self.right;
        top + (bottom - top) * self.down
    }
}

/// The bilinear samples of every pixel x at x + `flow`(x).
fn samples_along(flow: &FlowField) -> Vec<Sample> {
    let (width, height) = (flow.width, flow.height);
    let mut samples = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = flow.at(y * width + x);
            samples.push(Sample::at(x as f32 + dx, y as f32 + dy, width, height));
        }
    }
    samples
}

/// What the source's motion between frame t-1 and frame t says, for carrying a dream along it.
/// Plain buffers, made on the flow thread; the `*_tensor` methods make the dream thread's tensors.
pub struct FrameMotion {
    /// Flow from frame t back to t-1.
    pub backward: FlowField,
    /// H x W in [0, 1]: 1 where frame t's pixel is followed from t-1, 0 where it is occluded
    /// (every pixel found occluded is 0, its edge softened outwards).
    pub weight: Vec<f32>,
    /// Share of frame t's pixels that are followed: low at a scene cut.
    pub consistent: f64,
    /// Frame t-1 of the source, packed RGB24.
    pub previous: Vec<u8>,
}

impl FrameMotion {
    /// The backward flow as 1 x 2 x H x W on `device`.
    pub(crate) fn backward_tensor(&self, device: Device) -> Result<Tensor> {
        Ok(self.backward.to_tensor()?.f_to_device(device)?)
    }

    /// The weight as 1 x 1 x H x W on `device`.
    pub(crate) fn weight_tensor(&self, device: Device) -> Result<Tensor> {
        let (height, width) = (self.backward.height as i64, self.backward.width as i64);
        Ok(Tensor::f_from_slice(&self.weight)?.f_view([1, 1, height, width])?.f_to_device(device)?)
    }

    /// Frame t-1 as 1 x 3 x H x W in [0, 1] on `device`.
    pub(crate) fn previous_tensor(&self, device: Device) -> Result<Tensor> {
        rgb8_to_tensor(&self.previous, self.backward.width as u32, self.backward.height as u32, device)
    }
}

/// Flow both ways between two source frames and the occlusion tests on it.
pub fn frame_motion(previous: &[u8], current: &[u8], width: u32, height: u32) -> Result<FrameMotion> {
    let backward = dis_flow_field(current, previous, width, height)?;
    let forward = dis_flow_field(previous, current, width, height)?;
    let followed = followed_pixels(&backward, &forward, previous, current);
    let consistent = followed.iter().map(|&f| f as f64).sum::<f64>() / followed.len() as f64;
    let weight = soften(&followed, backward.width, backward.height);
    Ok(FrameMotion { backward, weight, consistent, previous: previous.to_vec() })
}

/// 1 where a pixel of frame t passes all three tests, else 0 (H x W). `previous` and `current`
/// are packed RGB24 frames of the flows' size.
pub(crate) fn followed_pixels(backward: &FlowField, forward: &FlowField, previous: &[u8], current: &[u8]) -> Vec<f32> {
    let (width, height) = (backward.width, backward.height);
    let squared = |(x, y): (f32, f32)| x * x + y * y;
    let samples = samples_along(backward);
    let mut followed = vec![0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            let back = backward.at(i);
            let sample = &samples[i];
            // Forward-backward: going back then forward again should come home.
            let there = (sample.of(|j| forward.vectors[2 * j]), sample.of(|j| forward.vectors[2 * j + 1]));
            let round_trip = squared((there.0 + back.0, there.1 + back.1));
            let inconsistent = round_trip > (squared(there) + squared(back)) * 0.01 + 0.5;
            // Motion boundaries: where the flow changes fast, one side is being covered.
            let step = |j: usize| {
                let next = backward.at(j);
                (next.0 - back.0, next.1 - back.1)
            };
            let across = if x + 1 < width { squared(step(i + 1)) } else { 0.0 };
            let down = if y + 1 < height { squared(step(i + width)) } else { 0.0 };
            let boundary = across + down > squared(back) * 0.01 + 0.002;
            // Photometric: the previous frame carried along the flow should look like this one.
            let mut difference = 0.0;
            for channel in 0..3 {
                let carried = sample.of(|j| previous[3 * j + channel] as f32) / 255.0;
                difference += (carried - current[3 * i + channel] as f32 / 255.0).abs();
            }
            let unlike = difference / 3.0 > 0.1;
            followed[i] = if inconsistent || boundary || unlike { 0.0 } else { 1.0 };
        }
    }
    followed
}

/// Erodes the followed pixels (H x W) by one and blurs the edge (3x3, over the neighbours inside
/// the frame), so the carried dream fades out before an occlusion and every occluded pixel stays
/// exactly 0.
pub(crate) fn soften(followed: &[f32], width: usize, height: usize) -> Vec<f32> {
    let around = |plane: &[f32], x: usize, y: usize, fold: &dyn Fn(f32, f32) -> f32, start: f32| {
        let (mut value, mut count) = (start, 0.0);
        for ny in y.saturating_sub(1)..(y + 2).min(height) {
            for nx in x.saturating_sub(1)..(x + 2).min(width) {
                value = fold(value, plane[ny * width + nx]);
                count += 1.0;
            }
        }
        (value, count)
    };
    let mut eroded = vec![0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            eroded[y * width + x] = around(followed, x, y, &f32::min, f32::INFINITY).0;
        }
    }
    let mut softened = vec![0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            let (sum, count) = around(&eroded, x, y, &|a, b| a + b, 0.0);
            softened[y * width + x] = sum / count;
        }
    }
    softened
}

#[cfg(test)]
/// A textured background with a differently textured square at `left`, the whole scene moved
/// down by `down` (64: not moved): moving the square uncovers background the other frame did not
/// show. 96 x 64 RGB; the flow and footage tests share it.
pub(crate) fn square_scene(left: usize, down: usize) -> Vec<u8> {
    let (width, height) = (96usize, 64usize);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let inside = (left..left + 24).contains(&x) && (20..44).contains(&y);
            let (u, v) = if inside { ((x - left) as f64, y as f64) } else { (x as f64, (y + 64 - down) as f64) };
            let value = if inside {
                128.0 + 100.0 * (u * 0.9).sin() * (v * 0.7).sin()
            } else {
                128.0 + 60.0 * (u * 0.21).sin() * (v * 0.17).cos() + 40.0 * ((u + v) * 0.05).sin()
            };
            rgb.extend([value as u8, (255.0 - value) as u8, (value * 0.6) as u8]);
        }
    }
    rgb
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

    /// The occlusion tests as torch ops (as they ran before the flow thread went torch-free).
    fn followed_by_torch(backward: &Tensor, forward: &Tensor, previous: &Tensor, current: &Tensor) -> Tensor {
        let squared = |t: &Tensor| t.square().sum_dim_intlist(&[1i64][..], true, Kind::Float);
        let forward_there = warp(forward, backward).unwrap();
        let round_trip = squared(&(&forward_there + backward));
        let lengths = squared(&forward_there) + squared(backward);
        let inconsistent = round_trip.gt_tensor(&(lengths * 0.01 + 0.5));
        let (h, w) = (backward.size()[2], backward.size()[3]);
        let dx = (backward.narrow(3, 1, w - 1) - backward.narrow(3, 0, w - 1)).constant_pad_nd([0i64, 1, 0, 0]);
        let dy = (backward.narrow(2, 1, h - 1) - backward.narrow(2, 0, h - 1)).constant_pad_nd([0i64, 0, 0, 1]);
        let boundary = (squared(&dx) + squared(&dy)).gt_tensor(&(squared(backward) * 0.01 + 0.002));
        let carried = warp(previous, backward).unwrap();
        let unlike = (carried - current).abs().mean_dim(&[1i64][..], true, Kind::Float).gt(0.1);
        inconsistent.logical_or(&boundary).logical_or(&unlike).logical_not().to_kind(Kind::Float)
    }

    #[test]
    fn the_plain_occlusion_tests_match_the_torch_ones() {
        let (a, b) = (square_scene(30, 3), square_scene(38, 5));
        let backward = dis_flow_field(&b, &a, 96, 64).unwrap();
        let forward = dis_flow_field(&a, &b, 96, 64).unwrap();
        let plain = followed_pixels(&backward, &forward, &a, &b);
        let (prev, cur) =
            (rgb8_to_tensor(&a, 96, 64, Device::Cpu).unwrap(), rgb8_to_tensor(&b, 96, 64, Device::Cpu).unwrap());
        let torch = followed_by_torch(&backward.to_tensor().unwrap(), &forward.to_tensor().unwrap(), &prev, &cur);
        let torch = Vec::<f32>::try_from(torch.flatten(0, -1)).unwrap();
        let differing = plain.iter().zip(&torch).filter(|(p, t)| p != t).count();
        // Bilinear weights rounded differently can tip a pixel that sits on a threshold.
        assert!(differing <= plain.len() / 500, "{differing} of {} pixels differ", plain.len());
        assert!(plain.contains(&0.0) && plain.contains(&1.0), "both kinds of pixel occur");
        let softened = soften(&plain, 96, 64);
        let torch_soft = {
            let followed = Tensor::from_slice(&plain).view([1, 1, 64, 96]);
            let eroded = followed.neg().max_pool2d([3, 3], [1, 1], [1, 1], [1, 1], false).neg();
            eroded.avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None)
        };
        let torch_soft = Vec::<f32>::try_from(torch_soft.flatten(0, -1)).unwrap();
        let worst = softened.iter().zip(&torch_soft).map(|(p, t)| (p - t).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-6, "soften differs by {worst}");
        for (soft, hard) in softened.iter().zip(&plain) {
            assert!(*hard == 1.0 || *soft == 0.0, "an occluded pixel carries nothing");
        }
    }

    #[test]
    fn the_plain_warp_samples_like_grid_sample() {
        let image: Vec<u8> = square_scene(30, 3);
        let flow = dis_flow_field(&square_scene(36, 4), &image, 96, 64).unwrap();
        let samples = samples_along(&flow);
        let by_torch = warp(&rgb8_to_tensor(&image, 96, 64, Device::Cpu).unwrap(), &flow.to_tensor().unwrap()).unwrap();
        let mut worst = 0f64;
        for (i, sample) in samples.iter().enumerate() {
            let plain = sample.of(|j| image[3 * j + 1] as f32) as f64 / 255.0;
            let torch = by_torch.double_value(&[0, 1, (i / 96) as i64, (i % 96) as i64]);
            worst = worst.max((plain - torch).abs());
        }
        assert!(worst < 1e-4, "plain and grid_sample warps differ by {worst}");
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
