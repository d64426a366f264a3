//! Bounded fuzzing of what users hand dreamreel: preset and manifest text, and corrupted media.
//! Each must come back as a value or a one-line error, never a panic. Kept to well under a minute.
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use std::path::Path;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
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
