//! Deforum's schedules as Deforum reads them: `dreamreel plan` on a battery of schedules
//! (scripts/deforum/schedules.txt) against a table of Deforum's values for each
//! (tests/fixtures/deforum_values.json, made by running Deforum's own keyframe parser outside this
//! repository: scripts/deforum/README.md); and `--deforum-settings` on a settings file of
//! Deforum's defaults. Standalone: std, serde_json and the binary only.
use std::process::Output;

const FIXTURE: &str = "tests/fixtures/deforum_settings.json";
const BATTERY: &str = "scripts/deforum/schedules.txt";
const TABLE: &str = "tests/fixtures/deforum_values.json";
/// dreamreel's values must be Deforum's within this share (of 1 or the value).
const TOLERANCE: f64 = 1e-9;

fn run_binary(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dreamreel")).args(args).output().expect("running dreamreel")
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

/// One line of the battery: `HOW | FRAMES | DIFFERENCE | SCHEDULE`.
struct Case {
    line: usize,
    how: String,
    frames: u64,
    /// `-`, or the README's name for a deliberate difference that the schedule must show.
    difference: String,
    schedule: String,
}

fn battery() -> Vec<Case> {
    let text = std::fs::read_to_string(BATTERY).expect("the battery");
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(at, line)| {
            let parts: Vec<&str> = line.splitn(4, " | ").map(str::trim).collect();
            assert_eq!(parts.len(), 4, "{BATTERY} line {}: {line}", at + 1);
            Case {
                line: at + 1,
                how: parts[0].to_string(),
                frames: parts[1].parse().expect("a frame count"),
                difference: parts[2].to_string(),
                schedule: parts[3].to_string(),
            }
        })
        .collect()
}

/// A schedule as the table names it: how, frames and the schedule's text.
type Key = (String, u64, String);

/// Deforum's values for each schedule of the table (`None` where Deforum refuses it).
fn table() -> Vec<(Key, Option<Vec<f64>>)> {
    let text = std::fs::read_to_string(TABLE).expect("the table");
    let table: serde_json::Value = serde_json::from_str(&text).expect("the table's JSON");
    let number = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.parse::<f64>().unwrap_or_else(|_| panic!("{TABLE}: {s}")),
        v => v.as_f64().expect("a number"),
    };
    table["schedules"]
        .as_array()
        .expect("the schedules")
        .iter()
        .map(|row| {
            let key = (
                row["how"].as_str().expect("how").to_string(),
                row["frames"].as_u64().expect("frames"),
                row["schedule"].as_str().expect("schedule").to_string(),
            );
            (key, row["values"].as_array().map(|values| values.iter().map(number).collect()))
        })
        .collect()
}

/// The first frame where dreamreel's values are not Deforum's, or `None` where all agree.
fn first_difference(ours: &[f64], theirs: &[f64]) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!("{} frames against {}", ours.len(), theirs.len()));
    }
    ours.iter().zip(theirs).enumerate().find_map(|(frame, (a, b))| {
        let agree = b.is_finite() && (a - b).abs() <= TOLERANCE * b.abs().max(1.0);
        (!agree).then(|| format!("frame {frame}: {a} against Deforum's {b}"))
    })
}

/// dreamreel's values of `case` under `--zoom` where Deforum's fit its range (0.5-2), else
/// `--rotate` (within 180); `Err` with why where it refuses the schedule or no option fits.
fn dreamreel_values(case: &Case, theirs: &[f64]) -> Result<Vec<f64>, String> {
    let option = if theirs.iter().all(|v| (0.5..=2.0).contains(v)) {
        "zoom"
    } else if theirs.iter().all(|v| v.abs() <= 180.0) {
        "rotate"
    } else {
        return Err(format!("no option fits Deforum's values {theirs:?}"));
    };
    let frames = case.frames.to_string();
    let schedule = format!("--{option}={}", case.schedule);
    let output = run_binary(&[
        "plan", "zoom", "noise", "-o", "x.mp4", "--frames", &frames, "--width", "64", &schedule, "--json",
    ]);
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("plan --json");
    let rows = plan["frames"].as_array().expect("the frames");
    Ok(rows.iter().map(|row| row[option].as_f64().expect("a number")).collect())
}

#[test]
fn every_schedule_deforum_accepts_gives_deforums_values() {
    let (cases, table) = (battery(), table());
    let keys: Vec<_> = cases.iter().map(|c| (c.how.clone(), c.frames, c.schedule.clone())).collect();
    let stale: Vec<_> = table.iter().filter(|(key, _)| !keys.contains(key)).map(|(key, _)| key).collect();
    assert!(
        stale.is_empty(),
        "{TABLE} holds schedules the battery does not (remake it: scripts/deforum/README.md): {stale:?}"
    );
    let deforum = |case: &Case| {
        let key = (case.how.clone(), case.frames, case.schedule.clone());
        let row = table.iter().find(|(k, _)| *k == key);
        let row = row
            .unwrap_or_else(|| panic!("line {} is not in {TABLE}: remake it (scripts/deforum/README.md)", case.line));
        row.1.as_ref()
    };
    // Deforum's accepted schedules, each with dreamreel's difference from it (None: they agree).
    let accepted: Vec<(&Case, Option<String>)> = std::thread::scope(|scope| {
        let judge = |share: usize| {
            let cases = &cases;
            let deforum = &deforum;
            scope.spawn(move || {
                cases
                    .iter()
                    .skip(share)
                    .step_by(2)
                    .filter_map(|case| {
                        let theirs = deforum(case)?;
                        let ours = dreamreel_values(case, theirs);
                        Some((case, ours.map_or_else(Some, |ours| first_difference(&ours, theirs))))
                    })
                    .collect::<Vec<_>>()
            })
        };
        let halves = [judge(0), judge(1)];
        halves.into_iter().flat_map(|half| half.join().expect("a judging thread")).collect()
    });
    let mut failures = Vec::new();
    for (case, difference) in &accepted {
        let place = format!("line {} ({}, {} frames) {:?}", case.line, case.how, case.frames, case.schedule);
        match (difference, case.difference.as_str()) {
            (Some(why), "-") => failures.push(format!("DIFFERS {place}: {why}")),
            (None, mark) if mark != "-" => failures.push(format!("STALE MARK {place}: marked '{mark}' but agrees")),
            _ => {}
        }
    }
    let documented = accepted.iter().filter(|(case, _)| case.difference != "-").count();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A comparison of nothing would pass too: the battery holds 75+ schedules Deforum accepts,
    // the max_f keyframes among them.
    assert!(accepted.len() >= 75 && documented <= 12, "{} accepted, {documented} documented", accepted.len());
    let unquoted_max_f = accepted.iter().filter(|(case, _)| case.schedule.contains(", max_f")).count();
    assert!(unquoted_max_f >= 5, "{unquoted_max_f} schedules with unquoted max_f keyframes");
}

#[test]
fn deforum_settings_give_the_zoom_its_motion_length_and_rate() {
    let output =
        run_binary(&["plan", "zoom", "noise", "-o", "x.mp4", "--width", "64", "--deforum-settings", FIXTURE, "--json"]);
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
    // Each key that means nothing to a dream zoom is named, once; the mapped ones are not.
    let ignored = stderr.lines().find(|l| l.contains("--deforum-settings: ignored")).expect("the ignored keys");
    for key in ["prompts", "strength_schedule", "seed_schedule", "translation_z", "sampler"] {
        assert_eq!(ignored.split([' ', ',']).filter(|k| *k == key).count(), 1, "{key} in {ignored}");
    }
    for key in ["zoom", "angle", "translation_x", "translation_y", "fps", "max_frames", "W", "H"] {
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
