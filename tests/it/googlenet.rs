//! GoogLeNet against torchvision itself: a random-init state dict saved by `torch.save` in the
//! venv's Python, loaded here, must give torchvision's eval-mode logits (transform_input on).

use crate::common::dreamreel_process;
use dreamreel::model::kind::ModelKind;
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::Network;
use std::path::{Path, PathBuf};
use std::process::Command;
use tch::{Device, Kind, Tensor};

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("DREAMREEL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/dreamreel/venv"));
    venv.join("bin/python")
}

/// Runs the reference script into `dir`; returns what it expects.
fn reference(dir: &Path, seed: u32) -> serde_json::Value {
    let status = Command::new(venv_python())
        .args(["tests/fixtures/googlenet_reference.py", dir.to_str().unwrap(), &seed.to_string()])
        .status()
        .expect("the venv's python (run scripts/setup.sh first)");
    assert!(status.success(), "googlenet_reference.py failed: is torchvision installed (scripts/setup.sh)?");
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

#[test]
fn googlenet_gives_torchvisions_logits_and_layers() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let expected = reference(dir.path(), 7);
    let shape: Vec<i64> = expected["shape"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    let image = Tensor::from_slice(&floats(&expected["image"])).reshape(shape);
    let want = floats(&expected["logits"]);
    let spread = Tensor::from_slice(&want).std(true).double_value(&[]);
    assert!(spread > 0.5, "logits spread enough for the tolerance to matter: {spread}");
    let path = dir.path().join("googlenet.pth");
    for options in [NetworkOptions::default(), NetworkOptions { fold_batch_norm: false, channels_last: false }] {
        let network = Network::load(ModelKind::GoogLeNet, &path, Device::Cpu, options).unwrap();
        let logits = tch::no_grad(|| network.logits(&image)).unwrap().get(0);
        let got: Vec<f32> = Vec::try_from(logits.to_kind(Kind::Float)).unwrap();
        assert_eq!(got.len(), 1000);
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "{options:?}: largest logit difference {worst}");

        let layer = network.parse_layer("inception4c").unwrap();
        assert_eq!(network.parse_layer("inception_4c"), Some(layer), "the Caffe spelling is taken too");
        let act = tch::no_grad(|| network.activations(&image, &[layer])).unwrap().remove(0);
        let want_shape: Vec<i64> =
            expected["inception4c_shape"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(act.size()[1..], want_shape[..]);
        let mean_square = act.square().mean(Kind::Float).double_value(&[]);
        let want_mean_square = expected["inception4c_mean_square"].as_f64().unwrap();
        assert!((mean_square / want_mean_square - 1.0).abs() < 1e-4, "{mean_square} vs {want_mean_square}");
    }
}

#[test]
fn googlenet_names_torchvisions_layers_and_refuses_other_files() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    reference(dir.path(), 3);
    let network =
        Network::load(ModelKind::GoogLeNet, &dir.path().join("googlenet.pth"), Device::Cpu, Default::default())
            .unwrap();
    let names = network.layer_names();
    assert_eq!(names.first().map(String::as_str), Some("conv1"));
    assert_eq!(names.last().map(String::as_str), Some("inception5b"));
    assert!(names.iter().any(|n| n == "inception3a") && names.iter().any(|n| n == "inception4c"));
    let shapes = network.layer_shapes(224, 224).unwrap();
    let inception4c = network.parse_layer("inception4c").unwrap().0;
    assert_eq!(shapes[inception4c], vec![512, 14, 14], "torchvision's inception4c at 224x224");
    assert!(network.parse_layer("blocks.3").is_none());

    // An EfficientNet file is refused with one line naming it.
    let err = match Network::load(
        ModelKind::GoogLeNet,
        Path::new("tests/fixtures/tiny_state_dict.pth"),
        Device::Cpu,
        Default::default(),
    ) {
        Ok(_) => panic!("a non-GoogLeNet file loaded"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("tiny_state_dict.pth") && err.contains("not a torchvision GoogLeNet"), "{err}");
}

/// `models` says which networks are installed and lists GoogLeNet's layers; an installed
/// GoogLeNet classifies and dreams at its default layer (`inception4c`).
#[test]
fn an_installed_googlenet_is_listed_classifies_and_dreams() {
    let _cores = crate::common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    reference(dir.path(), 5);
    let run = |args: &[&str]| dreamreel_process().args(args).env("DREAMREEL_MODELS", dir.path()).output().unwrap();
    let listed = run(&["models"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.lines().any(|l| l.starts_with("lite0  not installed")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("googlenet  installed")), "{text}");
    assert!(text.lines().any(|l| l.trim() == "inception4c 512 x 14 x 14"), "{text}");

    let classified = run(&["classify", "samples/chelsea.png", "--model", "googlenet", "--top", "3", "--json"]);
    assert!(classified.status.success(), "{}", String::from_utf8_lossy(&classified.stderr));
    let json: serde_json::Value = serde_json::from_slice(&classified.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    assert!(json[0]["index"].as_u64().unwrap() < 1000 && json[0]["name"].is_string());

    let out = dir.path().join("dream.png");
    let args = ["still", "samples/chelsea.png", "-o", out.to_str().unwrap(), "--model", "googlenet", "--width", "96"];
    let dreamed = run(&[&args[..], &["--octaves", "2", "--iterations", "2", "--device", "cpu"]].concat());
    assert!(dreamed.status.success(), "{}", String::from_utf8_lossy(&dreamed.stderr));
    assert!(out.exists());
}
