//! Motion as Deforum moves it: `dreamreel zoom` with frames that only move (`--step 0
//! --iterations 0`) on each settings file of tests/fixtures/motion, against the last frame of
//! Deforum's own warp of the same input (scripts/motion_reference.py: OpenCV's warpPerspective on
//! uint8 frames for 2D, the flat camera for 3D), blurred (sigma 1.5) and halved as stored there.
use image::{ImageBuffer, Rgb};
use std::path::Path;
use std::process::Command;

const CASES: [(&str, u32, u32, u32); 10] = [
    ("slow_zoom", 512, 288, 30),
    ("odd_size", 301, 167, 20),
    ("fast_zoom", 320, 180, 20),
    ("sine_zoom", 256, 256, 30),
    ("zoom_out_rotate_pan", 320, 180, 20),
    ("centre", 320, 180, 20),
    ("wrap", 320, 180, 20),
    ("perspective_flip", 320, 180, 10),
    ("dolly_3d", 320, 180, 30),
    ("rotate_3d", 320, 180, 20),
];

/// The input of every case (scripts/motion_reference.py's `synthetic`, the same formula).
fn synthetic(width: u32, height: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    ImageBuffer::from_fn(width, height, |x, y| {
        let (x, y, w, h) = (x as f64, y as f64, width as f64, height as f64);
        Rgb(std::array::from_fn(|c| {
            let c = c as f64;
            let mut v = 128.0
                + 50.0 * (0.11 * x + 0.07 * y + c).sin()
                + 35.0 * (0.031 * (1.0 + 0.3 * c) * x - 0.053 * y).sin()
                + 25.0 * (0.017 * (c + 1.0) * (x - y)).cos();
            if (x - 0.3 * w).powi(2) + (y - 0.4 * h).powi(2) < (0.15 * h).powi(2) {
                v += 60.0 - 40.0 * c;
            }
            (v + 0.5).floor().clamp(0.0, 255.0) as u8
        }))
    })
}

/// Blur (sigma 1.5, 11 taps, edges repeated), then the mean of each 2x2 block: as the fixtures.
fn blurred_half(pixels: &[f64], width: usize, height: usize) -> Vec<f64> {
    let taps: Vec<f64> = (-5..=5).map(|k| (-0.5 * (k as f64 / 1.5).powi(2)).exp()).collect();
    let total: f64 = taps.iter().sum();
    let at = |p: &[f64], x: usize, y: usize, c: usize| p[(y * width + x) * 3 + c];
    let mut down = vec![0.0; pixels.len()];
    let mut across = vec![0.0; pixels.len()];
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let sum: f64 =
                    (0..11).map(|k| taps[k] * at(pixels, x, (y + k).saturating_sub(5).min(height - 1), c)).sum();
                down[(y * width + x) * 3 + c] = sum / total;
            }
        }
    }
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let sum: f64 =
                    (0..11).map(|k| taps[k] * at(&down, (x + k).saturating_sub(5).min(width - 1), y, c)).sum();
                across[(y * width + x) * 3 + c] = sum / total;
            }
        }
    }
    let (half_w, half_h) = (width / 2, height / 2);
    let mut half = Vec::with_capacity(half_w * half_h * 3);
    for y in 0..half_h {
        for x in 0..half_w {
            for c in 0..3 {
                let block = [(0, 0), (1, 0), (0, 1), (1, 1)];
                half.push(block.iter().map(|(dx, dy)| at(&across, 2 * x + dx, 2 * y + dy, c)).sum::<f64>() / 4.0);
            }
        }
    }
    half
}

/// Renders a case's settings file on its input; the mean |difference| /255 with Deforum's last frame.
fn difference_with_deforum(name: &str, width: u32, height: u32, frames: u32) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    synthetic(width, height).save(&input).unwrap();
    let settings = format!("tests/fixtures/motion/{name}.json");
    let output = dir.path().join("%05d.png");
    let run = Command::new(env!("CARGO_BIN_EXE_dreamreel"))
        .args(["zoom", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--deforum-settings", &settings])
        .args(["--step", "0", "--iterations", "0", "--colors", "free", "--threads", "1", "--quiet"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
    let last = image::open(dir.path().join(format!("{frames:05}.png"))).unwrap().to_rgb8();
    assert_eq!(last.dimensions(), (width, height), "{name}");
    let ours: Vec<f64> = last.as_raw().iter().map(|&v| f64::from(v) / 255.0).collect();
    let ours = blurred_half(&ours, width as usize, height as usize);
    let reference = image::open(Path::new(&format!("tests/fixtures/motion/{name}.png"))).unwrap().to_rgb16();
    let reference: Vec<f64> = reference.as_raw().iter().map(|&v| f64::from(v) / 65535.0).collect();
    assert_eq!(ours.len(), reference.len(), "{name}");
    ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).sum::<f64>() / ours.len() as f64 * 255.0
}

#[test]
fn every_motion_agrees_with_deforums_warp_within_two_levels() {
    let mut report = Vec::new();
    for (name, width, height, frames) in CASES {
        report.push((name, difference_with_deforum(name, width, height, frames)));
    }
    // Measured 0.0-0.4 levels: the rest of the 2/255 allowed is OpenCV's fixed-point weights.
    assert!(report.iter().all(|(_, d)| *d <= 2.0), "{report:?}");
}
