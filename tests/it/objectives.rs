//! Objectives: ImageNet classes grown from noise (seen by a network they were not dreamed with),
//! guide images, chosen channels; and the objectives through zoom, tiling, resume and batch.

use crate::common::{chelsea, dreamreel_process};
use dreamreel::config::settings::{Settings, SettingsPatch};
use dreamreel::engine::objective::GUIDE_WIDTH;
use dreamreel::frame::image_io::{image_to_tensor, load_image};
use dreamreel::run::dream_setup::DreamSetup;
use std::path::Path;
use std::process::Output;
use tch::{Device, Kind, Tensor};

fn run_dreamreel(args: &[&str]) -> Output {
    dreamreel_process().args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `classify --json`: (index, name) best first.
fn classify(image: &Path, model: &str, top: &str) -> Vec<(i64, String)> {
    let output = run_dreamreel(&[
        "classify",
        image.to_str().unwrap(),
        "--model",
        model,
        "--top",
        top,
        "--json",
        "--device",
        "cpu",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let list = json.as_array().unwrap();
    let probabilities: Vec<f64> = list.iter().map(|p| p["probability"].as_f64().unwrap()).collect();
    assert!(probabilities.windows(2).all(|w| w[0] >= w[1]), "best first: {probabilities:?}");
    list.iter().map(|p| (p["index"].as_i64().unwrap(), p["name"].as_str().unwrap().to_string())).collect()
}

#[test]
fn classes_grown_from_noise_are_seen_by_lite0_and_by_lite2() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    // The `bananas` preset: Lite0, 4 octaves, step 0.02, the class's blur prior, with what a class
    // from noise needs besides: 40 steps per octave, a jitter of 32 and octaves 1.6 apart (at the
    // default 16 and 1.4, Lite2 did not see this seed's banana in its top 5; BENCHMARKS.md).
    // Two classes (goldfish was a third): the Fourier prior's objects are tests/it/objects.rs'; this
    // keeps the octave ascent's class dream working within the suite's time.
    for (class, index) in [("banana", 954), ("flamingo", 130)] {
        let out = dir.path().join(format!("{class}.png"));
        // The octave ascent's class dream, as before the Fourier prior became the default from noise.
        let args = [
            "still", "noise", "--width", "320", "--preset", "bananas", "--class", class, "--prior", "pixel",
            "--device", "cpu",
        ];
        let output = run_dreamreel(&[&args[..], &["--quiet", "-o", out.to_str().unwrap()]].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        let lite0 = classify(&out, "lite0", "1");
        assert_eq!(lite0[0], (index, class.to_string()), "Lite0's top class for the {class} dream");
        let lite2 = classify(&out, "lite2", "5");
        assert!(lite2.iter().any(|(i, _)| *i == index), "{class} is not in Lite2's top 5: {lite2:?}");
    }
}

/// A network set up for constant settings, and their dream parameters.
struct Engine {
    setup: DreamSetup,
    params: dreamreel::engine::ascent::DreamParams,
}

impl Engine {
    fn dreamer(&self) -> dreamreel::Result<dreamreel::engine::ascent::Dreamer<'_>> {
        self.setup.dreamer(self.params.clone())
    }
}

/// An engine for `patch` over fast defaults, on the CPU.
fn engine(patch: SettingsPatch) -> Engine {
    let base = SettingsPatch {
        octaves: Some(2),
        iterations: Some(10.into()),
        device: Some("cpu".into()),
        ..Default::default()
    };
    let settings = Settings::resolve([&base, &patch]).unwrap();
    let setup = DreamSetup::load(&dreamreel::job::DreamSpec::of(&settings)).unwrap();
    let params = setup.params(dreamreel::job::plan::PlanSpec::of(&settings, 1.0).constants()).unwrap();
    Engine { setup, params }
}

/// Mean over positions of each channel of `layer`: `[C]`.
fn channel_means(engine: &Engine, image: &Tensor, layer: &str) -> Tensor {
    let layer = engine.setup.network().parse_layer(layer).unwrap();
    let activation = tch::no_grad(|| engine.setup.network().activations(image, &[layer])).unwrap().remove(0);
    activation.mean_dim([0i64, 2, 3].as_slice(), false, Kind::Float)
}

fn cosine(a: &Tensor, b: &Tensor) -> f64 {
    (a * b).sum(Kind::Float).double_value(&[]) / (a.norm().double_value(&[]) * b.norm().double_value(&[]))
}

#[test]
fn a_guided_dream_takes_on_the_guides_features() {
    let _cores = crate::common::one_at_a_time();
    let layers = Some("blocks.10".to_string());
    let guided = engine(SettingsPatch {
        layers: layers.clone(),
        guide: Some("samples/coffee.png".into()),
        ..Default::default()
    });
    let unguided = engine(SettingsPatch { layers, ..Default::default() });
    let image = chelsea(160);
    let guide =
        image_to_tensor(&load_image(Path::new("samples/coffee.png"), Some(GUIDE_WIDTH)).unwrap(), Device::Cpu).unwrap();
    let target = channel_means(&guided, &guide, "blocks.10");
    let with_guide = guided.dreamer().unwrap().dream(&image).unwrap();
    let without = unguided.dreamer().unwrap().dream(&image).unwrap();
    let (near, far) = (
        cosine(&channel_means(&guided, &with_guide, "blocks.10"), &target),
        cosine(&channel_means(&guided, &without, "blocks.10"), &target),
    );
    let before = cosine(&channel_means(&guided, &image, "blocks.10"), &target);
    eprintln!("cosine to the guide: guided {near:.3}, unguided {far:.3}, input {before:.3}");
    assert!(near > far && near > before, "cosine to the guide: guided {near:.3}, unguided {far:.3}, input {before:.3}");
}

#[test]
fn channels_raise_the_chosen_channels_more_than_the_others() {
    let _cores = crate::common::one_at_a_time();
    let chosen = [3i64, 17, 40];
    let channels = Some(vec!["blocks.10:3,17,40".into()]);
    let engine = engine(SettingsPatch { channels, iterations: Some(20.into()), ..Default::default() });
    let image = chelsea(128);
    let dreamed = engine.dreamer().unwrap().dream(&image).unwrap();
    let rise = channel_means(&engine, &dreamed, "blocks.10") - channel_means(&engine, &image, "blocks.10");
    let rise: Vec<f64> = Vec::<f32>::try_from(rise).unwrap().into_iter().map(f64::from).collect();
    let others: Vec<f64> = (0..rise.len() as i64).filter(|c| !chosen.contains(c)).map(|c| rise[c as usize]).collect();
    let others_mean = others.iter().map(|r| r.abs()).sum::<f64>() / others.len() as f64;
    let mut sorted = others.clone();
    sorted.sort_by(f64::total_cmp);
    let others_90 = sorted[sorted.len() * 90 / 100];
    let others_95 = sorted[sorted.len() * 95 / 100];
    let chosen_rise: Vec<f64> = chosen.iter().map(|&c| rise[c as usize]).collect();
    let chosen_mean = chosen_rise.iter().sum::<f64>() / chosen.len() as f64;
    let report = format!(
        "chosen rose {chosen_rise:.3?}; others: mean |rise| {others_mean:.3}, 90th/95th percentile {others_90:.3}/{others_95:.3}"
    );
    eprintln!("{report}");
    // Each chosen channel rises more than 90% of the others (some channels move with them: 17 rises
    // least, about as much as the others' 95th percentile), and together more than 95% of the others
    // and far more than their average.
    assert!(chosen_rise.iter().all(|&r| r > others_90), "{report}");
    assert!(chosen_mean > others_95 && chosen_mean > 2.0 * others_mean, "{report}");
}

#[test]
fn bad_objectives_are_one_line_naming_the_option() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--class", "banan"], "--class: 'banan' is not an ImageNet class name (did you mean banana?)"),
        (&["--class", "1000"], "--class: 1000 is not a class index"),
        (&["--channels", "blocks.10:999"], "--channels: channel 999 of blocks.10: the layer has channels 0 to"),
        (&["--channels", "blocks.99:1"], "--channels: 'blocks.99' is not a layer of lite0"),
        (&["--guide", "no-such-guide.png"], "no-such-guide.png: no such file"),
        (&["--class", "banana", "--guide", "samples/coffee.png"], "give one of --channels, --class and --guide"),
    ];
    for (extra, expected) in cases {
        let args = [&["still", "samples/chelsea.png", "-o", out, "--width", "64", "--device", "cpu"], extra].concat();
        let output = run_dreamreel(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(!Path::new(out).exists());
    }
    let output = run_dreamreel(&["classify", "no-such.png"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no-such.png: no such file"), "{}", stderr(&output));
}

#[test]
fn a_preset_objective_gives_way_to_the_command_lines() {
    let _cores = crate::common::one_at_a_time();
    let preset: SettingsPatch = toml::from_str("class = \"banana\"\nblur = 0.2").unwrap();
    let line = SettingsPatch { channels: Some(vec!["blocks.8:1".into()]), ..Default::default() };
    let s = Settings::resolve([&preset, &line]).unwrap();
    assert_eq!((s.class(), s.channels(), s.blur()), (None, vec!["blocks.8:1".to_string()], Some(0.2)));
    let listed = run_dreamreel(&["classify", "--list"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(text.lines().count(), 1000);
    assert!(text.lines().any(|l| l.trim() == "954  banana"), "{}", text.lines().nth(954).unwrap_or(""));
}

/// Every objective through batch: a class still from noise in tiles, a guided zoom from noise
/// (guide relative to the manifest), channels on footage.
#[cfg(feature = "video")]
#[test]
fn objectives_run_in_batch_zoom_video_and_tiles() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("samples/coffee.png", dir.path().join("guide.png")).unwrap();
    let clip = std::fs::canonicalize("samples/clip.mp4").unwrap();
    let manifest = format!(
        r#"
[[job]]
mode = "still"
input = "noise"
output = "class.png"
class = "goldfish"
width = 160
height = 96
tile = 64
octaves = 2
iterations = 2
device = "cpu"

[[job]]
mode = "zoom"
input = "noise"
output = "guided.mp4"
frames = 3
guide = "guide.png"
layers = "blocks.6"
width = 96
height = 64
octaves = 2
iterations = 2
device = "cpu"

[[job]]
mode = "video"
input = "{}"
output = "channels.mkv"
frames = 2
channels = ["blocks.6:1,2", "blocks.8:5"]
width = 96
octaves = 2
iterations = 2
device = "cpu"
"#,
        clip.display()
    );
    let path = dir.path().join("manifest.toml");
    std::fs::write(&path, manifest).unwrap();
    let output = run_dreamreel(&["batch", path.to_str().unwrap(), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let still = image::open(dir.path().join("class.png")).unwrap();
    assert_eq!((still.width(), still.height()), (160, 96));
    for video in ["guided.mp4", "channels.mkv"] {
        assert!(std::fs::metadata(dir.path().join(video)).unwrap().len() > 1000, "{video}");
    }
}

/// A killed class zoom resumes only with the same objective, and then to every frame.
#[cfg(feature = "video")]
#[test]
fn a_class_zoom_resumes_only_with_the_same_class() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("zoom/%03d.png");
    let zoom = |class: &str| {
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "noise", "-o", frames.to_str().unwrap(), "--frames", "6", "--checkpoint-every", "1"])
            .args(["--width", "96", "--height", "64", "--octaves", "2", "--iterations", "3", "--device", "cpu"])
            .args(["--threads", "1", "--quiet", "--class", class]);
        cmd
    };
    let checkpoint = dir.path().join("zoom/._03d.png.dreamreel/checkpoint.json");
    let mut child =
        zoom("banana").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !checkpoint.exists() {
        assert!(std::time::Instant::now() < deadline, "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the zoom ended before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let refused = zoom("goldfish").arg("--resume").output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("class (was"), "{}", stderr(&refused));
    let resumed = zoom("banana").arg("--resume").output().unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let count = std::fs::read_dir(dir.path().join("zoom"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(count, 6);
}

#[test]
fn bench_reports_the_objective_it_dreams() {
    let _cores = crate::common::one_at_a_time();
    // No step, one octave, one frame of the pixel ascent: bench's frame is its noise start, so its
    // objective must be the banana logit of that noise, not the layers' objective.
    let args = ["bench", "--json", "--frames", "1", "--width", "64", "--height", "48", "--octaves", "1"];
    let out = run_dreamreel(
        &[&args[..], &["--iterations", "0", "--prior", "pixel", "--class", "banana", "--seed", "5", "--device", "cpu"]]
            .concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let network = crate::common::lite0();
    let start = dreamreel::frame::transform::noise(48, 64, 5, Device::Cpu).unwrap();
    let banana = dreamreel::model::imagenet::parse_classes("banana").unwrap();
    let logit = dreamreel::engine::objective::Objective::Class(banana).value_of(&network, &start).unwrap();
    let layers =
        dreamreel::engine::ascent::objective_value(&network, &start, &[dreamreel::model::layers::LayerId(9)]).unwrap();
    let reported = report["objective"].as_f64().unwrap();
    assert!(
        (reported - logit).abs() < 1e-3 * logit.abs().max(1.0),
        "bench said {reported}, the banana logit is {logit}"
    );
    assert!((reported - layers).abs() > 1e-3, "the layer objective is {layers}");
}
