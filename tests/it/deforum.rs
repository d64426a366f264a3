//! Deforum's schedules as Deforum reads them: scripts/deforum/compare.py runs Deforum's own keyframe
//! parser (numexpr and pandas in the venv's Python, which scripts/test.sh installs) and
//! `dreamreel plan` on a battery of schedules; and `--deforum-settings` on a settings file of
//! Deforum's defaults. Standalone: std and the binary only.
use std::path::PathBuf;
use std::process::{Command, Output};

const FIXTURE: &str = "tests/fixtures/deforum_settings.json";

/// The venv's Python, where scripts/setup.sh and scripts/test.sh put it.
fn python() -> PathBuf {
    let home = std::env::var_os("DREAMREEL_HOME").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
        cache.join("dreamreel")
    });
    home.join("venv/bin/python")
}

fn run_binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dreamreel")).args(args).output().expect("running dreamreel")
}

/// The number after each `"key": ` of pretty-printed JSON (a pair's numbers for `[a, b]`).
fn numbers(json: &str, key: &str) -> Vec<Vec<f64>> {
    let pattern = format!("\"{key}\": ");
    json.match_indices(&pattern)
        .map(|(at, _)| {
            let rest = &json[at + pattern.len()..];
            let text = match rest.strip_prefix('[') {
                Some(list) => &list[..list.find(']').expect("a closed list")],
                None => &rest[..rest.find([',', '\n', '}']).unwrap_or(rest.len())],
            };
            text.split(',').map(|n| n.trim().parse().unwrap_or_else(|_| panic!("{key}: {n}"))).collect()
        })
        .collect()
}

/// The figure after `word` in the harness's summary line.
fn figure(summary: &str, word: &str) -> usize {
    let rest = &summary[summary.find(word).unwrap_or_else(|| panic!("'{word}' in {summary}")) + word.len()..];
    rest.split_whitespace().next().and_then(|n| n.trim_end_matches(';').parse().ok()).expect("a figure")
}

#[test]
fn every_schedule_deforum_accepts_gives_deforums_values() {
    let python = python();
    let output = Command::new(&python)
        .args(["scripts/deforum/compare.py", env!("CARGO_BIN_EXE_dreamreel")])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh makes the venv)", python.display()));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or("");
    let (accepted, agree) = (figure(summary, "Deforum accepts"), figure(summary, "agrees on"));
    let documented = figure(summary, &format!("of {accepted};"));
    // A harness that compared nothing would pass too: the battery is the 75+ schedules it holds.
    assert!(accepted >= 75, "{summary}");
    assert!(agree + documented == accepted && documented <= 12, "{summary}");
}

#[test]
fn deforum_settings_give_the_zoom_its_motion_length_and_rate() {
    let output = run_binary(&[
        "plan",
        "zoom",
        "noise",
        "-o",
        "x.mp4",
        "--width",
        "64",
        "--deforum-settings",
        FIXTURE,
        "--json",
        "--verbose",
    ]);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    assert_eq!(numbers(&stdout, "fps"), vec![vec![15.0]]);
    let zoom = numbers(&stdout, "zoom");
    assert_eq!(zoom.len(), 120, "max_frames is the length");
    for (t, row) in zoom.iter().enumerate() {
        // Deforum's default writes 3.14 for pi.
        #[allow(clippy::approx_constant)]
        let deforum = 1.0025 + 0.002 * (1.25 * 3.14 * t as f64 / 30.0).sin();
        assert!((row[0] - deforum).abs() < 1e-12, "frame {t}: {} against {deforum}", row[0]);
    }
    assert!(numbers(&stdout, "pan").iter().all(|pan| pan == &[0.0, 0.0]));
    // Each key that means nothing to a dream zoom is named, once: those that change Deforum's
    // picture first, the rest under --verbose; the mapped ones are not.
    let picture = stderr.lines().find(|l| l.contains("ignored, changing Deforum's picture")).expect("picture keys");
    let rest = stderr.lines().find(|l| l.contains("also ignored")).expect("the rest under --verbose");
    let ignored = format!("{picture} {rest}");
    for key in ["prompts", "strength_schedule", "seed_schedule", "sampler"] {
        assert_eq!(ignored.split([' ', ',']).filter(|k| *k == key).count(), 1, "{key} in {ignored}");
    }
    assert!(picture.contains("strength_schedule") && !picture.contains("sampler"), "{picture}");
    for key in ["zoom", "angle", "translation_x", "translation_y", "translation_z", "fps", "max_frames", "W", "H"] {
        assert!(!ignored.split([' ', ',']).any(|k| k == key), "{key} in {ignored}");
    }
}

#[test]
fn deforum_motion_schedules_map_to_rotate_and_pan_under_the_command_line() {
    let fixture = std::fs::read_to_string(FIXTURE).expect("the fixture");
    let moving = fixture
        .replace(r#""angle": "0: (0)""#, r#""angle": "0: (0), 60: (2)""#)
        .replace(r#""translation_x": "0: (0)""#, r#""translation_x": "0: (10*sin(t/5)), 30: (0)""#)
        .replace(r#""translation_y": "0: (0)""#, r#""translation_y": "0: (0), \"max_f\": (-4)""#);
    assert_ne!(moving, fixture);
    let path = std::env::temp_dir().join(format!("dreamreel-deforum-{}.json", std::process::id()));
    std::fs::write(&path, moving).expect("writing the settings");
    let file = path.to_str().expect("a UTF-8 path");
    // --frames on the command line wins over max_frames, and max_f follows it.
    let output =
        run_binary(&["plan", "zoom", "noise", "-o", "x.mp4", "--frames", "90", "--deforum-settings", file, "--json"]);
    let _ = std::fs::remove_file(&path);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    let (rotate, pan) = (numbers(&stdout, "rotate"), numbers(&stdout, "pan"));
    assert_eq!((rotate.len(), pan.len()), (90, 90));
    for t in 0..90 {
        let frame = t as f64;
        let angle = if t < 60 { 2.0 * frame / 60.0 } else { 2.0 };
        let x = if t < 30 { 10.0 * (frame / 5.0).sin() } else { 0.0 };
        let y = -4.0 * frame / 89.0;
        assert!((rotate[t][0] - angle).abs() < 1e-9, "frame {t}: rotate {} against {angle}", rotate[t][0]);
        assert!((pan[t][0] - x).abs() < 1e-9 && (pan[t][1] - y).abs() < 1e-9, "frame {t}: pan {:?}", pan[t]);
    }
}

#[test]
fn a_broken_settings_file_is_named_with_exit_2() {
    let path = std::env::temp_dir().join(format!("dreamreel-deforum-bad-{}.json", std::process::id()));
    std::fs::write(&path, r#"{"max_frames": 120, "zoom": "0: (1.0), 10: (foo)"}"#).expect("writing");
    let file = path.to_str().expect("a UTF-8 path");
    let output = run_binary(&["plan", "zoom", "noise", "-o", "x.mp4", "--deforum-settings", file]);
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--zoom") && stderr.contains("unknown name 'foo'"), "{stderr}");
    let missing = run_binary(&["plan", "zoom", "noise", "-o", "x.mp4", "--deforum-settings", "/nonexistent.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.json: cannot read"));
}

#[test]
fn a_render_from_a_settings_file_is_the_render_of_its_mapped_options() {
    let dir = std::env::temp_dir().join(format!("dreamreel-deforum-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let quick = ["--width", "48", "--frames", "3", "--octaves", "1", "--iterations", "1", "--device", "cpu", "--quiet"];
    let render = |name: &str, extra: &[&str]| -> Vec<Vec<u8>> {
        let pattern = dir.join(name).join("%03d.png");
        let pattern = pattern.to_str().expect("a UTF-8 path");
        let output = run_binary(&[&["zoom", "noise", "-o", pattern][..], &quick, extra].concat());
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (1..=3).map(|n| std::fs::read(dir.join(name).join(format!("{n:03}.png"))).expect("a frame")).collect()
    };
    let from_file = render("file", &["--deforum-settings", FIXTURE]);
    let by_hand = render("hand", &["--zoom", "0: (1.0025+0.002*sin(1.25*3.14*t/30))", "--fps", "15"]);
    let default = render("default", &[]);
    let _ = std::fs::remove_dir_all(&dir);
    // --width replaces the file's W and H together: 48 wide, not 48x512.
    assert_eq!(&from_file[0][16..24], &[0, 0, 0, 48, 0, 0, 0, 48], "the PNG header's width and height");
    assert!(from_file == by_hand, "the settings file's zoom and fps, frame by frame");
    assert!(from_file[2] != default[2], "the file's zoom, not the default one");
}
