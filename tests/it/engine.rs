//! The network and the dream, through the library, on the installed Lite0 weights.

use crate::common::{chelsea, lite0, lite0_with};
use dreamreel::config::settings::{Settings, SettingsPatch};
use dreamreel::engine::ascent::{Dreamer, objective_value};
use dreamreel::frame::image_io::tensor_to_rgb8;
use dreamreel::model::kind::ModelKind;
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::Network;
use tch::{Device, Kind};

#[test]
fn lite0_sees_an_egyptian_cat_with_the_logits_pytorch_gives() {
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let logits = tch::no_grad(|| network.logits(&chelsea(None))).unwrap().get(0);
    assert_eq!(logits.argmax(0, false).int64_value(&[]), 285, "ImageNet 285 is Egyptian cat");
    // Recorded from efficientnet_lite_pytorch (deepdream_ref.load_model) on the same 451x300 image,
    // normalised as (x - 0.5) / 0.5.
    let expected = [
        (0, -0.75457),
        (1, 0.82185),
        (2, -0.95931),
        (3, -0.8348),
        (4, -0.44837),
        (5, -0.36039),
        (6, -0.58034),
        (7, 0.71507),
        (281, 5.22479),
        (282, 5.8883),
        (285, 6.45668),
    ];
    for (class, value) in expected {
        let got = logits.double_value(&[class]);
        assert!((got - value).abs() < 1e-3, "class {class}: {got} vs {value}");
    }
}

#[test]
fn folded_and_unfolded_batch_norms_give_the_same_activations() {
    let _cores = crate::common::one_at_a_time();
    let folded = lite0_with(NetworkOptions { fold_batch_norm: true, channels_last: true });
    let unfolded = lite0_with(NetworkOptions { fold_batch_norm: false, channels_last: false });
    let x = chelsea(96);
    let layers: Vec<_> =
        ["stem", "blocks.3", "blocks.10", "head"].iter().map(|n| folded.parse_layer(n).unwrap()).collect();
    let (a, b) =
        tch::no_grad(|| (folded.activations(&x, &layers).unwrap(), unfolded.activations(&x, &layers).unwrap()));
    for (a, b) in a.iter().zip(&b) {
        let diff = (a - b).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "largest difference {diff}");
    }
}

#[test]
fn layers_are_named_by_module_path() {
    let network = lite0();
    let names = network.layer_names();
    assert_eq!(names.len(), 18);
    assert_eq!(
        (names[0].as_str(), names[1].as_str(), names[16].as_str(), names[17].as_str()),
        ("stem", "blocks.0", "blocks.15", "head")
    );
    assert!(network.parse_layer("blocks.16").is_none());
    let shapes = network.layer_shapes(224, 224).unwrap();
    assert_eq!(shapes[9], vec![112, 14, 14], "blocks.8");
    assert_eq!(shapes[17], vec![1280, 7, 7], "head");
}

fn tiny_settings() -> Settings {
    let patch = SettingsPatch {
        octaves: Some(2),
        iterations: Some(8.into()),
        step: Some(0.03.into()),
        jitter: Some(4.into()),
        ..Default::default()
    };
    Settings::resolve([&patch]).unwrap()
}

#[test]
fn the_dream_raises_the_objective_and_is_repeatable() {
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let settings = tiny_settings();
    let params = crate::common::dream_params(&settings, &network);
    let x = chelsea(96);
    let before = objective_value(&network, &x, &params.layers).unwrap();
    let dreamed = Dreamer::new(&network, params.clone(), 7).unwrap().dream(&x).unwrap();
    let after = objective_value(&network, &dreamed, &params.layers).unwrap();
    assert!(after >= 1.5 * before, "objective {before} -> {after}");
    assert_eq!(dreamed.size(), x.size());
    let change = (&dreamed - &x).abs().mean(Kind::Float).double_value(&[]);
    assert!(change > 0.01, "mean change {change}");
    let again = Dreamer::new(&network, params.clone(), 7).unwrap().dream(&x).unwrap();
    assert_eq!(tensor_to_rgb8(&dreamed).unwrap(), tensor_to_rgb8(&again).unwrap(), "same seed, same bytes");
    let other = Dreamer::new(&network, params, 8).unwrap().dream(&x).unwrap();
    assert_ne!(tensor_to_rgb8(&dreamed).unwrap(), tensor_to_rgb8(&other).unwrap(), "another seed, another dream");
}

#[test]
fn lite1_and_lite2_load_with_every_key_used() {
    let _cores = crate::common::one_at_a_time();
    for kind in [ModelKind::Lite1, ModelKind::Lite2] {
        let network = Network::load_installed(kind, Device::Cpu, NetworkOptions::default()).unwrap();
        assert_eq!(network.layer_names().len(), 23, "{kind:?}");
    }
    let wrong = Network::load(
        ModelKind::Lite1,
        &dreamreel::model::kind::models_dir().join("efficientnet-lite0.pth"),
        Device::Cpu,
        NetworkOptions::default(),
    );
    let err = wrong.err().unwrap().to_string();
    assert!(err.contains("has 16 blocks, but EfficientNet-lite1 has 21"), "{err}");
}

#[test]
fn a_tiled_dream_dreams_as_hard_as_a_whole_one() {
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let settings = tiny_settings();
    let whole = crate::common::dream_params(&settings, &network);
    let tiled = dreamreel::engine::ascent::DreamParams { tile: Some(64), ..whole.clone() };
    let x = chelsea(160);
    let dream = |params| Dreamer::new(&network, params, 3).unwrap().dream(&x).unwrap();
    let (a, b) = (dream(whole.clone()), dream(tiled));
    let before = objective_value(&network, &x, &whole.layers).unwrap();
    let (a, b) =
        (objective_value(&network, &a, &whole.layers).unwrap(), objective_value(&network, &b, &whole.layers).unwrap());
    assert!(a > 1.5 * before, "the whole dream works: {before} -> {a}");
    assert!((b - a).abs() / a < 0.05, "tiled objective {b} vs whole {a}");
}

#[test]
fn a_carried_frame_runs_fewer_ascent_steps_and_full_runs_them_all() {
    use dreamreel::engine::ascent::CarrySchedule;
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let params = crate::common::dream_params(&tiny_settings(), &network);
    let x = chelsea(96);
    let mut dreamer = Dreamer::new(&network, params, 5).unwrap();
    dreamer.start_frame(1);
    let first = dreamer.dream(&x).unwrap();
    assert_eq!(dreamer.steps(), 2 * 8, "2 octaves x 8 iterations");
    dreamer.start_frame(1);
    let full = dreamer.dream_carried(&x, CarrySchedule::Full, 0.0).unwrap();
    assert_eq!(dreamer.steps(), 16);
    assert_eq!(tensor_to_rgb8(&first).unwrap(), tensor_to_rgb8(&full).unwrap(), "--carry full is the full dream");
    for (carry, steps) in [
        (CarrySchedule::Half, 8),
        (CarrySchedule::Third, 6),
        (CarrySchedule::SkipLowest, 4),
        (CarrySchedule::LongStrides, 8),
    ] {
        dreamer.start_frame(1);
        let before = objective_value(&network, &x, &dreamer.params().layers).unwrap();
        let carried = dreamer.dream_carried(&x, carry, 0.0).unwrap();
        assert_eq!(dreamer.steps(), steps, "{carry:?}");
        let after = objective_value(&network, &carried, &dreamer.params().layers).unwrap();
        assert!(after > 1.1 * before, "{carry:?} still dreams: {before} -> {after}");
    }
    let _flowed = dreamer.dream_carried(&first, CarrySchedule::Flow, 0.5).unwrap();
    assert_eq!(dreamer.steps(), 2 * 6, "half a frame new: 4 + 2 iterations per octave");
}
