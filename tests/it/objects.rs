//! Objects from noise: the Fourier prior with Adam grows classes that other networks recognise,
//! and its settings are preset and manifest keys.

use crate::common::dreamreel;
use std::path::Path;

/// The class a network names first for `image`.
fn top_class(image: &Path, model: &str) -> String {
    let out = dreamreel()
        .args(["classify", image.to_str().unwrap(), "--model", model, "--top", "1", "--json", "--device", "cpu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let predictions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    predictions[0]["name"].as_str().unwrap().to_string()
}

fn still_from_noise(output: &Path, class: &str, extra: &[&str]) {
    dreamreel()
        .args(["still", "noise", "-o", output.to_str().unwrap(), "--class", class, "--width", "96", "--seed", "1"])
        .args(["--device", "cpu", "-y", "--quiet"])
        .args(extra)
        .assert()
        .success();
}

#[test]
fn classes_grown_from_noise_are_named_by_a_network_that_never_saw_them() {
    let _cores = crate::common::one_at_a_time();
    let folder = tempfile::tempdir().unwrap();
    for class in ["pineapple", "ladybug"] {
        let fourier = folder.path().join(format!("{class}.png"));
        still_from_noise(&fourier, class, &["--steps", "48"]);
        assert_eq!(top_class(&fourier, "lite1"), class, "the Fourier prior's {class}");
    }
    // As many steps without the prior raise Lite0's logit as surely, but grow no object.
    let pixel = folder.path().join("pineapple-pixel.png");
    still_from_noise(&pixel, "pineapple", &["--prior", "pixel", "--octaves", "1", "--iterations", "48"]);
    assert_ne!(top_class(&pixel, "lite1"), "pineapple", "pixel ascent from noise");
}

#[test]
fn the_prior_settings_are_preset_and_manifest_keys() {
    let _cores = crate::common::one_at_a_time();
    let folder = tempfile::tempdir().unwrap();
    let preset = folder.path().join("objects.toml");
    std::fs::write(
        &preset,
        "class = \"lemon\"\nprior = \"fourier\"\nsteps = 3\nimage-steps = 2\nlearning-rate = 0.1\ndecay = 0.75\n\
         transforms = false\nmask = \"mask.png\"\nmask-invert = true\n",
    )
    .unwrap();
    let out = dreamreel().args(["presets", "show"]).arg(&preset).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: toml::Table = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(shown["prior"].as_str(), Some("fourier"));
    assert_eq!((shown["steps"].as_integer(), shown["image-steps"].as_integer()), (Some(3), Some(2)));
    assert_eq!((shown["learning-rate"].as_float(), shown["decay"].as_float()), (Some(0.1), Some(0.75)));
    assert_eq!((shown["transforms"].as_bool(), shown["mask-invert"].as_bool()), (Some(false), Some(true)));
    // A relative mask is the preset's neighbour.
    assert_eq!(shown["mask"].as_str(), Some(folder.path().join("mask.png").to_str().unwrap()));

    // A manifest job with the keys renders (the mask beside the manifest, all white).
    image::GrayImage::from_pixel(8, 8, image::Luma([255])).save(folder.path().join("white.png")).unwrap();
    let manifest = folder.path().join("jobs.toml");
    std::fs::write(
        &manifest,
        "[[job]]\nmode = \"still\"\ninput = \"noise\"\noutput = \"lemon.png\"\nwidth = 64\nclass = \"lemon\"\n\
         steps = 4\nlearning-rate = 0.08\ndecay = 1.2\nmask = \"white.png\"\ndevice = \"cpu\"\n",
    )
    .unwrap();
    let out = dreamreel().arg("batch").arg(&manifest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lemon = image::open(folder.path().join("lemon.png")).unwrap().to_rgb8();
    assert_eq!(lemon.dimensions(), (64, 64));
    let refused = dreamreel().args(["presets", "show", "classic", "--learning-rate", "0"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--learning-rate: 0 must be above 0"));
}

#[test]
fn several_classes_and_a_class_with_a_layer_each_raise_every_term() {
    let _cores = crate::common::one_at_a_time();
    let folder = tempfile::tempdir().unwrap();
    // Two classes: both logits end high among the thousand.
    let both = folder.path().join("both.png");
    still_from_noise(&both, "banana,lemon", &["--steps", "24"]);
    let out = dreamreel()
        .args(["classify", both.to_str().unwrap(), "--top", "5", "--json", "--device", "cpu"])
        .output()
        .unwrap();
    let top: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = top.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"banana") && names.contains(&"lemon"), "{names:?}");
    // A class with a layer: the layer's look changes the picture, the class stays first for Lite0.
    let with_layer = folder.path().join("layer.png");
    still_from_noise(&with_layer, "banana", &["--steps", "24", "--layers", "blocks.6"]);
    let plain = folder.path().join("plain.png");
    still_from_noise(&plain, "banana", &["--steps", "24"]);
    assert_ne!(std::fs::read(&with_layer).unwrap(), std::fs::read(&plain).unwrap());
    assert_eq!(top_class(&with_layer, "lite0"), "banana");
}

/// `bench` from noise starts as a still or zoom from noise does: the Fourier prior's object (its
/// `--steps`) unless `--prior pixel`, so it times what a render of those settings does.
#[test]
fn bench_from_noise_times_the_object_a_render_grows() {
    let _cores = crate::common::one_at_a_time();
    let bench = |extra: &[&str]| -> serde_json::Value {
        let out = dreamreel()
            .args(["bench", "--json", "--frames", "1", "--width", "224", "--height", "224", "--class", "banana"])
            .args(["--seed", "3", "--device", "cpu"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (few, more) = (bench(&["--steps", "2"]), bench(&["--steps", "24"]));
    assert_eq!(
        (few["first_frame_prior"].as_str(), more["first_frame_prior"].as_str()),
        (Some("fourier"), Some("fourier"))
    );
    let (few_logit, more_logit) = (few["objective"].as_f64().unwrap(), more["objective"].as_f64().unwrap());
    assert!(more_logit > few_logit + 1.0, "--steps reaches bench's first frame: {few_logit} then {more_logit}");
    let pixel = bench(&["--prior", "pixel", "--octaves", "1", "--iterations", "1"]);
    assert_eq!(pixel["first_frame_prior"], "pixel");
}
