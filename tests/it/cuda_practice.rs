//! What CUDA users rely on, checked on the CPU (issue "CUDA in practice"): a quiet stderr, tiles of
//! few shapes that dream as hard as the whole frame, half precision that dreams as hard as fp32,
//! and the CUDA-graph path falling back to eager where graphs cannot run.

use crate::common::{chelsea, dreamreel, lite0};
use dreamreel::config::settings::{Settings, SettingsPatch};
use dreamreel::engine::ascent::{Dreamer, objective_value};
use dreamreel::frame::image_io::tensor_to_rgb8;
use tch::Kind;

fn octave_settings(octaves: u32, iterations: u32) -> Settings {
    let patch = SettingsPatch {
        octaves: Some(octaves),
        iterations: Some(iterations.into()),
        step: Some(0.03.into()),
        jitter: Some(4.into()),
        ..Default::default()
    };
    Settings::resolve([&patch]).unwrap()
}

/// Lines libtorch itself printed (`[W ...] Warning: ...`), which a render must not cause.
fn libtorch_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr).lines().filter(|l| l.starts_with("[W")).map(str::to_string).collect()
}

#[test]
fn a_render_prints_no_libtorch_warnings() {
    let dir = tempfile::tempdir().unwrap();
    for precision in ["fp32", "bf16"] {
        let output = dir.path().join(format!("{precision}.png"));
        let run = dreamreel()
            .args(["still", "samples/chelsea.png", "-o"])
            .arg(&output)
            .args(["--width", "64", "--octaves", "2", "--iterations", "2", "--device", "cpu", "--threads", "1"])
            .args(["--precision", precision, "--tile", "64"])
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert!(output.is_file());
        let warnings = libtorch_lines(&run.stderr);
        assert!(warnings.is_empty(), "{precision}: {} libtorch lines, first {:?}", warnings.len(), warnings.first());
        let text = String::from_utf8_lossy(&run.stderr);
        assert_eq!(text.lines().count(), 1, "only our summary line: {text}");
    }
    assert_eq!(libtorch_lines(b"[W 12:00 autocast_mode.h:30] Warning: x\nok\n").len(), 1, "the counter counts");
}

#[test]
fn tiled_steps_see_at_most_two_input_shapes_per_octave() {
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let mut params = crate::common::dream_params(&octave_settings(2, 3), &network);
    params.tile = Some(64);
    for (width, seed) in [(150, 0), (200, 1), (233, 2), (200, 7)] {
        let x = chelsea(width);
        let mut dreamer = Dreamer::new(&network, params.clone(), seed).unwrap();
        let _dreamed = dreamer.dream(&x).unwrap();
        let shapes = dreamer.forward_shapes();
        assert_eq!(shapes.len(), 2, "two octaves");
        for (octave, seen) in shapes.iter().enumerate() {
            assert!(!seen.is_empty() && seen.len() <= 2, "width {width} octave {octave}: {seen:?}");
            let crop_sizes: std::collections::BTreeSet<_> = seen.iter().map(|s| (s[2], s[3])).collect();
            assert_eq!(crop_sizes.len(), 1, "one crop size per octave: {seen:?}");
        }
        let full = x.size();
        assert!(shapes[1].iter().all(|s| s[2] < full[2] && s[3] < full[3]), "the full octave was tiled");
        assert!(shapes[1].iter().any(|s| s[0] > 1), "crops are batched: {:?}", shapes[1]);
    }
}

#[test]
fn bf16_on_the_cpu_dreams_within_five_percent_of_fp32() {
    let _cores = crate::common::one_at_a_time();
    let fp32 = lite0();
    let mut bf16 = lite0();
    bf16.set_precision(Kind::BFloat16).unwrap();
    let params = crate::common::dream_params(&octave_settings(2, 6), &fp32);
    let x = chelsea(112);
    let before = objective_value(&fp32, &x, &params.layers).unwrap();
    let a = Dreamer::new(&fp32, params.clone(), 5).unwrap().dream(&x).unwrap();
    let b = Dreamer::new(&bf16, params.clone(), 5).unwrap().dream(&x).unwrap();
    assert_eq!(b.kind(), Kind::Float, "the image stays fp32");
    // Both judged by the fp32 network, so only the dream's precision differs.
    let (a, b) =
        (objective_value(&fp32, &a, &params.layers).unwrap(), objective_value(&fp32, &b, &params.layers).unwrap());
    assert!(a > 1.5 * before, "the fp32 dream works: {before} -> {a}");
    assert!((b - a).abs() / a < 0.05, "bf16 objective {b} vs fp32 {a}");
    let half = objective_value(&bf16, &x, &params.layers).unwrap();
    assert!((half - before).abs() / before < 0.05, "bf16 forward {half} vs fp32 {before}");
}

#[test]
fn cuda_graphs_fall_back_to_eager_with_the_same_dream() {
    let _cores = crate::common::one_at_a_time();
    let network = lite0();
    let params = crate::common::dream_params(&octave_settings(2, 2), &network);
    let x = chelsea(80);
    let eager = Dreamer::new(&network, params.clone(), 9).unwrap().dream(&x).unwrap();
    let mut graphed = Dreamer::new(&network, params, 9).unwrap();
    graphed.use_cuda_graphs(true);
    let fallback = graphed.dream(&x).unwrap();
    assert_eq!(tensor_to_rgb8(&eager).unwrap(), tensor_to_rgb8(&fallback).unwrap(), "same seed, same bytes");
    let graphs = graphed.cuda_graphs().unwrap();
    assert_eq!((graphs.replays, graphs.eager_steps), (0, 4), "every step ran eagerly");
    let error = graphs.first_error.as_ref().unwrap().to_string();
    assert!(error.contains("unavailable"), "{error}");
}
