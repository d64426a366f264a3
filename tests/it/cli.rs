//! The `dreamreel` binary as a user runs it, on the tiny files in `samples/`.

use crate::common::{dreamreel, refused};
use std::path::Path;

/// Fast settings for a still: tiny image, two octaves, a few steps.
const TINY: [&str; 8] = ["--width", "48", "--octaves", "2", "--iterations", "3", "--device", "cpu"];

#[test]
fn still_renders_a_png_of_the_asked_width() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dream.png");
    dreamreel().args(["still", "samples/chelsea.png", "-o"]).arg(&out).args(TINY).args(["--quiet"]).assert().success();
    let dreamed = image::open(&out).unwrap().to_rgb8();
    assert_eq!((dreamed.width(), dreamed.height()), (48, 32));
    let plain =
        image::open("samples/chelsea.png").unwrap().resize_exact(48, 32, image::imageops::FilterType::CatmullRom);
    let changed = dreamed.pixels().zip(plain.to_rgb8().pixels()).filter(|(a, b)| a != b).count();
    assert!(changed > 48 * 32 / 2, "only {changed} pixels changed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let render = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        dreamreel()
            .args(["still", "samples/coffee.png", "-o"])
            .arg(&out)
            .args(TINY)
            .args(["--seed", seed])
            .assert()
            .success();
        std::fs::read(out).unwrap()
    };
    assert_eq!(render("a.png", "3"), render("b.png", "3"));
}

#[test]
fn bad_settings_are_refused_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let out = out.to_str().unwrap();
    let still =
        |extra: &[&'static str]| -> Vec<&str> { [&["still", "samples/chelsea.png", "-o", out], extra].concat() };
    refused(&still(&["--octaves", "0"]), "--octaves: 0 must be at least 1");
    // A typo must not start thousands of threads: refused before anything loads.
    refused(&still(&["--threads", "5000"]), "--threads: 5000 is more than the");
    refused(&still(&["--threads", "100000"]), "--threads: 100000 is more than the");
    refused(&still(&["--layers", "blocks.99", "--device", "cpu"]), "--layers: 'blocks.99' is not a layer of lite0");
    refused(&still(&["--step", "-1"]), "--step");
    refused(&still(&["--device", "tpu"]), "--device: 'tpu' is not a device");
    if !Path::new("/dev/nvidia0").exists() {
        refused(&still(&["--device", "cuda"]), "no CUDA GPU is available");
    }
    assert!(!Path::new(out).exists(), "nothing written");
}

#[test]
fn bad_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let out = out.to_str().unwrap();
    refused(&["still", "no/such.png", "-o", out], "no/such.png: no such file");
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    refused(&["still", text.to_str().unwrap(), "-o", out], "notes.png: not an image");
    refused(
        &["still", "samples/chelsea.png", "-o", "/no/such/folder/x.png"],
        "folder '/no/such/folder' does not exist",
    );
    refused(&["still", "samples/chelsea.png", "-o", "samples/chelsea.png"], "is the input file");
    assert!(!Path::new(out).exists(), "nothing written");
}

#[test]
fn models_lists_layers_with_shapes() {
    let out = dreamreel().arg("models").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.lines().any(|l| l.starts_with("lite0")), "{text}");
    assert!(text.lines().any(|l| l.trim() == "blocks.8   112 x 14 x 14"), "{text}");
}

#[test]
fn bench_json_is_valid_and_measures_frames() {
    let args =
        ["bench", "--json", "--frames", "2", "--width", "48", "--height", "32", "--octaves", "1", "--iterations", "2"];
    let out = dreamreel()
        .args(args)
        .args(["--device", "cpu", "--prior", "pixel"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(
        (report["width"].as_i64(), report["height"].as_i64(), report["frames"].as_i64()),
        (Some(48), Some(32), Some(2))
    );
    let seconds = report["seconds_per_frame"].as_f64().unwrap();
    assert!(seconds > 0.0 && (report["frames_per_second"].as_f64().unwrap() - 1.0 / seconds).abs() < 1e-6);
    assert!(report["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    assert!(report["objective"].as_f64().unwrap() > 0.0);
    assert_eq!(report["first_frame_prior"], "pixel");
}

#[test]
fn version_names_dreamreel_libtorch_cuda_and_ffmpeg() {
    let out = dreamreel().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("dreamreel {}", env!("CARGO_PKG_VERSION")), "{text}");
    assert!(lines[1].starts_with("libtorch 2.11.0"), "{text}");
    assert!(lines[2].starts_with("CUDA"), "{text}");
    assert!(lines[3].starts_with("FFmpeg "), "{text}");
}

#[test]
fn completions_and_man_pages_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = dreamreel().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["still", "zoom", "video", "batch", "octave-scale"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    refused(&["completions", "tcsh"], "invalid value 'tcsh'");
    let dir = tempfile::tempdir().unwrap();
    dreamreel().arg("manpages").arg(dir.path()).assert().success();
    for page in ["dreamreel.1", "dreamreel-still.1", "dreamreel-zoom.1", "dreamreel-video.1", "dreamreel-batch.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page} is not a man page");
    }
}

#[test]
fn each_subcommand_takes_only_its_own_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let out = out.to_str().unwrap();
    for option in
        ["--codec", "--crf", "--blend", "--fps", "--rotate", "--zoom", "--pan", "--scene-threshold", "--colors"]
    {
        let value = if option == "--codec" { "av1" } else { "1" };
        refused(
            &["still", "samples/chelsea.png", "-o", out, option, value],
            &format!("unexpected argument '{option}'"),
        );
    }
    refused(&["still", "samples/chelsea.png", "-o", out, "--no-flow"], "unexpected argument '--no-flow'");
    refused(&["bench", "--codec", "av1"], "unexpected argument '--codec'");
    refused(&["bench", "--blend", "0.3"], "unexpected argument '--blend'");
    refused(&["video", "clip.mp4", "-o", "v.mp4", "--height", "32"], "unexpected argument '--height'");
    assert!(!Path::new(out).exists(), "nothing written");

    let help = |command: &str| {
        let out = dreamreel().args([command, "--help"]).assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let still = help("still");
    for absent in ["--codec", "--crf", "--blend", "--fps", "--zoom", "--rotate", "--no-flow", "video"] {
        assert!(!still.contains(absent), "still --help offers {absent}: {still}");
    }
    assert!(still.contains("Where to write the image"), "{still}");
    let video = help("video");
    assert!(!video.contains("--height") && !video.contains("Frame rate of the zoom"), "{video}");
    assert!(video.contains("--blend") && video.contains("image-sequence input"), "{video}");
    let zoom = help("zoom");
    assert!(!zoom.contains("--blend") && !zoom.contains("--no-flow") && zoom.contains("--fps"), "{zoom}");
    assert!(zoom.contains("a GIF (.gif), or PNG frames"), "{zoom}");
    let bench = help("bench");
    assert!(bench.contains("--preset") && bench.contains("--octaves") && !bench.contains("--crf"), "{bench}");
}
