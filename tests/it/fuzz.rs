//! Bounded fuzzing of what users hand dreamreel: preset and manifest text, schedules, Deforum and
//! Parseq settings files, and corrupted media. Each must come back as a value or a one-line error,
//! never a panic or a stack overflow. Kept to well under a minute; `scripts/fuzz.sh` runs many more
//! cases through the same tests (`DREAMREEL_FUZZ_CASES` multiplies each test's count).
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use std::path::Path;

/// A runner of `cases` cases, times `DREAMREEL_FUZZ_CASES` when a longer run sets it.
fn runner(cases: u32) -> TestRunner {
    let scale = std::env::var("DREAMREEL_FUZZ_CASES").ok().and_then(|v| v.parse::<u32>().ok()).unwrap_or(1);
    TestRunner::new(Config {
        cases: cases.saturating_mul(scale.max(1)),
        failure_persistence: None,
        ..Config::default()
    })
}

/// A TOML value of any type, including the awkward ones: negative, huge, non-finite, multi-line strings.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-3i64..30).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z0-9.,: \\-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        Just("\"\"\"two\nlines\"\"\"".to_string()),
        Just("[1, \"x\"]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("1979-05-27".to_string()),
    ]
}

/// Keys users write: the real ones, near misses and nonsense.
fn key() -> impl Strategy<Value = String> {
    const KNOWN: [&str; 32] = [
        "model",
        "weights",
        "layers",
        "octaves",
        "octave-scale",
        "octave_scale",
        "iterations",
        "step",
        "jitter",
        "seed",
        "tile",
        "width",
        "height",
        "zoom",
        "rotate",
        "pan",
        "blend",
        "fps",
        "codec",
        "crf",
        "device",
        "threads",
        "description",
        "mode",
        "input",
        "output",
        "preset",
        "frames",
        "duration",
        "start",
        "no-audio",
        "job",
    ];
    prop_oneof![4 => proptest::sample::select(&KNOWN[..]).prop_map(str::to_string), 1 => "[a-z_\\-]{1,10}"]
}

fn lines() -> impl Strategy<Value = String> {
    proptest::collection::vec((key(), value()), 0..6)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect())
}

/// Structured text most of the time, raw bytes as text some of the time.
fn preset_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => lines(), 1 => any::<String>(), 1 => "[\\[\\]=\"a-z0-9 \n.#-]{0,60}"]
}

/// `[[job]]` tables of random keys, often with a plausible mode, input and output.
fn manifest_text() -> impl Strategy<Value = String> {
    let mode = proptest::sample::select(&["still", "zoom", "video", "film"][..]);
    let output = proptest::sample::select(&["o.png", "o.mp4", "o.xyz", "frames/%04d.png", ""][..]);
    let job = (any::<bool>(), mode, "[a-z.]{0,8}", output, lines()).prop_map(|(plain, mode, input, output, rest)| {
        let head =
            if plain { format!("mode = \"{mode}\"\ninput = \"{input}\"\noutput = \"{output}\"\n") } else { "".into() };
        format!("[[job]]\n{head}{rest}\n")
    });
    prop_oneof![
        4 => proptest::collection::vec(job, 0..4).prop_map(|jobs| jobs.concat()),
        1 => lines(),
        1 => any::<String>(),
    ]
}

/// The error as the binary prints it: must be one line, naming `file`.
fn check_message(error: &dreamreel::Error, file: &str) -> Result<(), TestCaseError> {
    let text = format!("{error:#}");
    prop_assert!(!text.contains('\n') && !text.contains('\r'), "not one line: {text:?}");
    prop_assert!(text.starts_with(file) || text.starts_with("--"), "names neither file nor option: {text:?}");
    Ok(())
}

#[test]
fn preset_parser_never_panics_and_errors_are_one_line() {
    let (ran, refused) = (Cell::new(0), Cell::new(0));
    runner(256)
        .run(&preset_text(), |text| {
            ran.set(ran.get() + 1);
            if let Err(e) = dreamreel::config::presets::parse(&text, Path::new("fuzz.toml")) {
                refused.set(refused.get() + 1);
                check_message(&e, "fuzz.toml")?;
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz presets: {} cases, {} refused", ran.get(), refused.get());
}

#[test]
fn manifest_parser_never_panics_and_errors_are_one_line() {
    let (ran, refused) = (Cell::new(0), Cell::new(0));
    runner(256)
        .run(&manifest_text(), |text| {
            ran.set(ran.get() + 1);
            if let Err(e) = dreamreel::job::manifest::parse(&text, Path::new("/nonexistent/fuzz/manifest.toml")) {
                refused.set(refused.get() + 1);
                check_message(&e, "/nonexistent/fuzz/manifest.toml")?;
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz manifests: {} cases, {} refused", ran.get(), refused.get());
}

/// Corruptions of a file: bytes overwritten at fractions of its length, then maybe cut short.
fn corruption() -> impl Strategy<Value = (Vec<(f64, u8)>, Option<f64>)> {
    (proptest::collection::vec((0.0..1.0f64, any::<u8>()), 0..24), proptest::option::of(0.0..1.0f64))
}

fn corrupt(bytes: &[u8], (flips, cut): &(Vec<(f64, u8)>, Option<f64>)) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for (at, byte) in flips {
        let index = ((*at * bytes.len() as f64) as usize).min(bytes.len() - 1);
        bytes[index] ^= byte | 1;
    }
    if let Some(cut) = cut {
        bytes.truncate((cut * bytes.len() as f64) as usize);
    }
    bytes
}

#[cfg(feature = "video")]
#[test]
fn decoder_survives_corrupted_clips() {
    use dreamreel::video::{ReadOptions, VideoReader};
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=48x32:rate=12", "-t", "0.5"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(status.success());
    let valid = std::fs::read(&clip).unwrap();
    let (ran, refused, frames) = (Cell::new(0), Cell::new(0), Cell::new(0));
    runner(32)
        .run(&corruption(), |damage| {
            ran.set(ran.get() + 1);
            let path = dir.path().join("damaged.mp4");
            std::fs::write(&path, corrupt(&valid, &damage)).unwrap();
            let error = match VideoReader::open(&path, &ReadOptions { max_frames: Some(12), ..Default::default() }) {
                Err(e) => Some(e),
                Ok(mut reader) => loop {
                    match reader.next_frame() {
                        Ok(Some(frame)) => {
                            prop_assert_eq!(frame.rgb.len(), (frame.width * frame.height * 3) as usize);
                            frames.set(frames.get() + 1);
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                },
            };
            if let Some(e) = error {
                refused.set(refused.get() + 1);
                check_message(&dreamreel::Error::from(e), &path.display().to_string())?;
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz corrupted clips: {} cases, {} refused, {} frames decoded", ran.get(), refused.get(), frames.get());
}

#[test]
fn image_loader_survives_corrupted_stills() {
    let dir = tempfile::tempdir().unwrap();
    let valid = std::fs::read("samples/chelsea.png").unwrap();
    let (ran, refused) = (Cell::new(0), Cell::new(0));
    runner(32)
        .run(&corruption(), |damage| {
            ran.set(ran.get() + 1);
            let path = dir.path().join("damaged.png");
            std::fs::write(&path, corrupt(&valid, &damage)).unwrap();
            if let Err(e) = dreamreel::frame::image_io::load_image(&path, Some(32)) {
                refused.set(refused.get() + 1);
                check_message(&e, &path.display().to_string())?;
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz corrupted stills: {} cases, {} refused", ran.get(), refused.get());
}

/// Expressions as schedules are written (numbers, names, operators, calls, brackets), nested a few
/// levels, with a stray character now and then.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<f64>().prop_map(|f| format!("{f}")),
        (0u32..1000).prop_map(|n| n.to_string()),
        proptest::sample::select(&["t", "s", "n", "max_f", "pi", "tau", "beat", "loudness", "bass", "nosuch"][..])
            .prop_map(str::to_string),
        "[0-9.eE+\\-]{1,6}",
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        let op = proptest::sample::select(
            &["+", "-", "*", "/", "%", "**", "^", "<", "<=", "==", "!=", "&&", "||", "&", "|", ""][..],
        );
        let call = proptest::sample::select(
            &["sin", "cos", "abs", "log", "sqrt", "where", "min", "max", "clamp", "smoothstep", "arctan2", "fmod", "x"]
                [..],
        );
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (call, proptest::collection::vec(inner, 0..4)).prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
        ]
    })
}

/// Schedules: one expression, keyframes of expressions (frames, seconds, formulas), a pan's pairs,
/// or raw text; sometimes a character dropped, doubled or swapped in.
fn schedule_text() -> impl Strategy<Value = String> {
    let position = prop_oneof![
        (0u32..500).prop_map(|n| n.to_string()),
        (0.0..20.0f64).prop_map(|s| format!("{s:.2}s")),
        Just("max_f-1".to_string()),
        Just("-3".to_string()),
        "[0-9a-z.]{0,4}",
    ];
    let keyframes = proptest::collection::vec((position, expression()), 1..6)
        .prop_map(|keys| keys.into_iter().map(|(at, value)| format!("{at}: ({value})")).collect::<Vec<_>>().join(", "));
    let text = prop_oneof![
        3 => expression(),
        3 => keyframes,
        1 => (expression(), expression()).prop_map(|(x, y)| format!("{x}, {y}")),
        1 => any::<String>(),
        1 => "[0-9:(), .tsn+*/-]{0,40}",
    ];
    (text, proptest::option::of((any::<proptest::sample::Index>(), proptest::char::any(), 0..3u8))).prop_map(
        |(text, edit)| {
            let Some((at, c, how)) = edit else { return text };
            let mut chars: Vec<char> = text.chars().collect();
            if chars.is_empty() {
                return c.to_string();
            }
            let at = at.index(chars.len());
            match how {
                0 => drop(chars.remove(at)),
                1 => chars.insert(at, chars[at]),
                _ => chars[at] = c,
            }
            chars.into_iter().collect()
        },
    )
}

#[test]
fn schedules_never_panic_and_errors_are_one_line() {
    use dreamreel::config::schedule::{Interpolation, Schedule, Timeline};
    let (ran, refused, evaluated) = (Cell::new(0), Cell::new(0), Cell::new(0));
    runner(512)
        .run(&(schedule_text(), 1usize..3), |(text, dimensions)| {
            ran.set(ran.get() + 1);
            let schedule = match Schedule::parse(&text, dimensions) {
                Ok(schedule) => schedule,
                Err(e) => {
                    refused.set(refused.get() + 1);
                    let message = e.to_string();
                    prop_assert!(!message.contains('\n'), "not one line: {message:?}");
                    return Ok(());
                }
            };
            let timeline = Timeline { fps: 24.0, frames: 12, audio: None };
            for interpolation in [Interpolation::Linear, Interpolation::Cubic] {
                match schedule.values(&timeline, interpolation) {
                    Ok(values) => {
                        prop_assert_eq!(values.len(), 12);
                        evaluated.set(evaluated.get() + 1);
                    }
                    Err(e) => prop_assert!(!e.to_string().contains('\n'), "not one line: {e}"),
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz schedules: {} cases, {} refused, {} evaluated", ran.get(), refused.get(), evaluated.get());
}

#[test]
fn schedules_too_deep_or_too_long_are_refused_in_one_line() {
    use dreamreel::config::schedule::Schedule;
    let deep = format!("0:({}t{})", "(".repeat(20_000), ")".repeat(20_000));
    let long = format!("0:(1{})", "+t".repeat(50_000));
    for text in [deep, long, format!("0:({}1)", "-".repeat(50_000))] {
        let message = Schedule::parse(&text, 1).unwrap_err().to_string();
        assert!(message.contains("nests too deep here"), "{message}");
    }
    // Through the binary too: exit 2, one line, from the command line and from a settings file.
    let long = format!("0:(1{})", "+t".repeat(20_000));
    crate::common::refused(
        &["plan", "zoom", "noise", "-o", "/nonexistent/z.mp4", "--frames", "2", "--zoom", &long],
        "the expression nests too deep here: more than 256 brackets, signs or terms in a row",
    );
    let dir = tempfile::tempdir().unwrap();
    let deforum = dir.path().join("deforum.json");
    let deep = format!("0:({}1.01{})", "(".repeat(20_000), ")".repeat(20_000));
    std::fs::write(&deforum, serde_json::json!({ "zoom": deep, "max_frames": 2 }).to_string()).unwrap();
    crate::common::refused(
        &["plan", "zoom", "noise", "-o", "/nonexistent/z.mp4", "--deforum-settings", deforum.to_str().unwrap()],
        "nests too deep here",
    );
}

/// JSON as Deforum and Parseq write it: the keys dreamreel maps, others, and values of every type.
fn deforum_text() -> impl Strategy<Value = String> {
    use serde_json::{Value, json};
    let value = prop_oneof![
        any::<f64>().prop_map(|f| json!(f)),
        (-5i64..2000).prop_map(|n| json!(n)),
        schedule_text().prop_map(Value::String),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        Just(json!([1, "x"])),
        Just(json!({ "a": 1 })),
    ];
    let key = proptest::sample::select(
        &["zoom", "angle", "translation_x", "translation_y", "fps", "max_frames", "W", "H", "prompts", "seed"][..],
    );
    let settings = proptest::collection::vec((key, value.clone()), 0..8)
        .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).to_string());
    let field = proptest::sample::select(
        &["frame", "zoom", "zoom_delta", "angle", "angle_delta", "translation_x_delta", "translation_y", "x"][..],
    );
    let frame = proptest::collection::vec((field, value), 0..6)
        .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let parseq = (proptest::collection::vec(frame, 0..5), any::<bool>()).prop_map(|(frames, fps)| {
        let options = if fps { json!({ "output_fps": 30 }) } else { json!(null) };
        json!({ "rendered_frames": frames, "options": options }).to_string()
    });
    prop_oneof![4 => settings, 3 => parseq, 1 => any::<String>(), 1 => "[\\[\\]{}\":,0-9a-z ]{0,40}"]
}

#[test]
fn deforum_and_parseq_files_never_panic_and_errors_are_one_line() {
    use dreamreel::config::schedule::Schedule;
    let (ran, refused) = (Cell::new(0), Cell::new(0));
    runner(384)
        .run(&(deforum_text(), proptest::option::of(1u64..400)), |(text, frames)| {
            ran.set(ran.get() + 1);
            match dreamreel::config::deforum::from_json(&text, frames) {
                Ok(settings) => {
                    // What it maps must then parse or be refused as any schedule is.
                    use dreamreel::config::schedule::Scheduled;
                    for scheduled in [&settings.patch.zoom, &settings.patch.rotate] {
                        if let Some(Scheduled::Text(text)) = scheduled {
                            let _ = Schedule::parse(text, 1);
                        }
                    }
                    if let Some(pan) = &settings.patch.pan {
                        let _ = Schedule::parse(pan, 2);
                    }
                }
                Err(message) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!message.contains('\n'), "not one line: {message:?}");
                }
            }
            Ok(())
        })
        .unwrap();
    // A settings file nested past the JSON reader's bound is refused, not a stack overflow.
    let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(dreamreel::config::deforum::from_json(&nested, None).is_err());
    eprintln!("fuzz Deforum/Parseq files: {} cases, {} refused", ran.get(), refused.get());
}
