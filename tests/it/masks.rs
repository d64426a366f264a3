//! `--mask IMAGE`: where to dream, in stills, zooms and footage; bad masks refused before rendering.

use crate::common::{dreamreel, refused};
use std::path::{Path, PathBuf};

/// A mask as wide as `width` x `height` frames: black on the left half, white on the right.
fn half_mask(folder: &Path, width: u32, height: u32) -> PathBuf {
    let path = folder.join("half.png");
    let mask = image::GrayImage::from_fn(width, height, |x, _| image::Luma([if x < width / 2 { 0 } else { 255 }]));
    mask.save(&path).unwrap();
    path
}

fn rgb(path: &Path) -> image::RgbImage {
    image::open(path).unwrap().to_rgb8()
}

/// Mean absolute difference (0-255) of two pictures over columns `columns`.
fn difference(a: &image::RgbImage, b: &image::RgbImage, columns: std::ops::Range<u32>) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut sum, mut count) = (0.0, 0.0);
    for (x, y, pa) in a.enumerate_pixels() {
        if columns.contains(&x) {
            let pb = b.get_pixel(x, y);
            sum += (0..3).map(|c| (pa[c] as f64 - pb[c] as f64).abs()).sum::<f64>();
            count += 3.0;
        }
    }
    sum / count
}

const QUICK: [&str; 8] = ["--octaves", "2", "--step", "0.05", "--device", "cpu", "-y", "--quiet"];
const DREAM: [&str; 2] = ["--iterations", "4"];
const NO_DREAM: [&str; 2] = ["--iterations", "0"];

#[test]
fn a_still_dreams_only_where_the_mask_is_white() {
    let folder = tempfile::tempdir().unwrap();
    // Chelsea at 128 px is 128 x 85; a mask of another size is stretched to the frame.
    let mask = half_mask(folder.path(), 64, 40);
    let input = folder.path().join("input.png");
    let still = |output: &Path, extra: &[&str]| {
        dreamreel()
            .args(["still", "samples/chelsea.png", "-o"])
            .arg(output)
            .args(["--width", "128"])
            .args(QUICK)
            .args(extra)
            .assert()
            .success();
    };
    still(&input, &NO_DREAM);
    let (masked, whole, inverted) =
        (folder.path().join("masked.png"), folder.path().join("whole.png"), folder.path().join("inverted.png"));
    let mask = mask.to_str().unwrap();
    still(&masked, &[&DREAM[..], &["--mask", mask]].concat());
    still(&whole, &DREAM);
    still(&inverted, &[&DREAM[..], &["--mask", mask, "--mask-invert"]].concat());
    let input = rgb(&input);
    let (masked, whole, inverted) = (rgb(&masked), rgb(&whole), rgb(&inverted));
    // A seam of a few pixels either side of the middle is left out: the mask is stretched there.
    let (black, white) = (0..60, 68..128);
    assert!(difference(&masked, &input, black.clone()) <= 2.0, "{}", difference(&masked, &input, black.clone()));
    let (dreamed, unmasked) = (difference(&masked, &input, white.clone()), difference(&whole, &input, white.clone()));
    assert!(unmasked > 6.0 && dreamed > 0.8 * unmasked, "white dreams as strongly: {dreamed} vs {unmasked}");
    assert!(difference(&inverted, &input, white) <= 2.0, "--mask-invert keeps the right half");
    assert!(difference(&inverted, &input, black) > 6.0);
}

#[cfg(feature = "video")]
#[test]
fn zooms_and_footage_keep_what_the_mask_keeps() {
    let folder = tempfile::tempdir().unwrap();
    let mask = half_mask(folder.path(), 96, 54);
    let mask = mask.to_str().unwrap();
    // Footage: the left half of every frame is the source frame itself (read undreamed: no step,
    // only the new frame).
    let frames = |name: &str| folder.path().join(name).join("%03d.png");
    let video = |output: &Path, extra: &[&str]| {
        dreamreel()
            .args(["video", "samples/clip.mp4", "-o"])
            .arg(output)
            .args(["--width", "96", "--frames", "3"])
            .args(QUICK)
            .args(extra)
            .assert()
            .success();
    };
    video(&frames("source"), &["--iterations", "0", "--blend", "1", "--no-flow"]);
    video(&frames("masked"), &["--iterations", "4", "--mask", mask]);
    for index in 1..=3 {
        let name = format!("{index:03}.png");
        let (source, masked) =
            (rgb(&folder.path().join("source").join(&name)), rgb(&folder.path().join("masked").join(&name)));
        let width = source.width();
        assert!(difference(&masked, &source, 0..width / 2 - 4) <= 2.0, "frame {index}");
        assert!(difference(&masked, &source, width / 2 + 4..width) > 3.0, "frame {index} dreams on the right");
    }
    // Zoom: each frame's left half is the last frame zoomed, untouched by the dream.
    dreamreel()
        .args(["zoom", "samples/chelsea.png", "-o"])
        .arg(frames("zoom"))
        .args(["--width", "96", "--frames", "3", "--zoom", "1.05", "--mask", mask, "--colors", "free"])
        .args(QUICK)
        .args(DREAM)
        .assert()
        .success();
    let first = rgb(&folder.path().join("zoom/001.png"));
    let second = rgb(&folder.path().join("zoom/002.png"));
    let (width, height) = first.dimensions();
    let tensor = |image: &image::RgbImage| {
        let floats: Vec<f32> = image.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
        tch::Tensor::from_slice(&floats).view([height as i64, width as i64, 3]).permute([2, 0, 1]).unsqueeze(0)
    };
    use dreamreel::frame::transform::Motion;
    let zoomed = Motion { zoom: 1.05, ..Motion::NONE }.apply(&tensor(&first)).unwrap();
    let zoomed: Vec<u8> = Vec::<f32>::try_from(zoomed.squeeze_dim(0).permute([1, 2, 0]).contiguous().flatten(0, -1))
        .unwrap()
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let zoomed = image::RgbImage::from_raw(width, height, zoomed).unwrap();
    assert!(
        difference(&second, &zoomed, 0..width / 2 - 4) <= 2.0,
        "{}",
        difference(&second, &zoomed, 0..width / 2 - 4)
    );
    assert!(difference(&second, &zoomed, width / 2 + 4..width) > 2.0);
}

#[test]
fn bad_masks_are_refused_before_anything_renders() {
    let folder = tempfile::tempdir().unwrap();
    let output = folder.path().join("out.png");
    let out = output.to_str().unwrap();
    let missing = folder.path().join("missing.png");
    let text = folder.path().join("notes.png");
    std::fs::write(&text, "not a picture").unwrap();
    let base = ["still", "samples/chelsea.png", "-o", out, "--width", "48", "--device", "cpu", "--mask"];
    let missing_path = missing.to_str().unwrap();
    refused(&[&base[..], &[missing_path]].concat(), &format!("--mask: {missing_path}: no such file"));
    let text_path = text.to_str().unwrap();
    refused(&[&base[..], &[text_path]].concat(), &format!("--mask: {text_path}: not an image"));
    let folder_path = folder.path().to_str().unwrap();
    refused(&[&base[..], &[folder_path]].concat(), &format!("--mask: {folder_path}: is a folder"));
    assert!(!output.exists(), "nothing written");
    // A batch checks every job's mask before its first job starts.
    std::fs::copy("samples/chelsea.png", folder.path().join("chelsea.png")).unwrap();
    let job = |output: &str, mask: &str| {
        format!(
            "[[job]]\nmode = \"still\"\ninput = \"chelsea.png\"\noutput = \"{output}\"\nwidth = 48\noctaves = 1\n\
             iterations = 1\ndevice = \"cpu\"\nmask = \"{mask}\"\n"
        )
    };
    image::GrayImage::from_pixel(4, 4, image::Luma([255])).save(folder.path().join("white.png")).unwrap();
    let manifest = folder.path().join("jobs.toml");
    std::fs::write(&manifest, job("a.png", "white.png") + &job("b.png", "notes.png")).unwrap();
    let run = dreamreel().arg("batch").arg(&manifest).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("job 2") && stderr.contains("mask: ") && stderr.contains("notes.png: not an image"),
        "{stderr}"
    );
    assert!(!folder.path().join("a.png").exists(), "job 1 did not start");
}
