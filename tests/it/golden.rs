//! Golden renders: a few seeded tiny renders on the CPU, each pinned by a hash of its decoded
//! pixels (PNG frames decode exactly; the file bytes are not compared), so that any change to the
//! picture fails here and is made on purpose. The pins live in `tests/fixtures/golden/NAME.txt`, one
//! line a frame. To change one deliberately, rerun with `DREAMREEL_UPDATE_GOLDEN=1` (it rewrites the
//! pins of the renders it runs) and commit the pin files with the code, the reason in the message.
//!
//! The renders run at `--threads 1`: a pixel-exact render must not depend on how many cores the
//! machine lends, and one torch thread lets them run beside the tests that keep every core busy.
use crate::common::dreamreel;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What every golden render shares: tiny, seeded, on the CPU, on one torch thread.
const SEEDED: [&str; 8] = ["--device", "cpu", "--threads", "1", "--seed", "3", "--octaves", "2"];

/// The environment variable that rewrites the pins instead of checking them.
const UPDATE: &str = "DREAMREEL_UPDATE_GOLDEN";

/// One decoded frame: its size and the FNV-1a (64-bit) hash of its RGB bytes, row by row.
#[derive(Debug, PartialEq, Eq)]
struct FramePin {
    width: u32,
    height: u32,
    hash: u64,
}

impl FramePin {
    fn of(path: &Path) -> Self {
        let image = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in image.as_raw() {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Self { width: image.width(), height: image.height(), hash }
    }

    fn line(&self) -> String {
        format!("{}x{} {:016x}", self.width, self.height, self.hash)
    }

    fn parse(line: &str) -> Option<Self> {
        let (size, hash) = line.split_once(' ')?;
        let (width, height) = size.split_once('x')?;
        Some(Self {
            width: width.parse().ok()?,
            height: height.parse().ok()?,
            hash: u64::from_str_radix(hash, 16).ok()?,
        })
    }
}

fn golden_pin_file(name: &str) -> PathBuf {
    Path::new("tests/fixtures/golden").join(format!("{name}.txt"))
}

/// The PNG files in `folder` (a render's `%05d.png` frames), in frame order.
fn golden_frames(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "png"));
    files.sort();
    files
}

/// Checks the decoded pixels of `frames` against the pins of `name` (`command` is written into
/// the pin file, to say what it pins); with `DREAMREEL_UPDATE_GOLDEN=1`, rewrites them instead.
fn assert_golden(name: &str, command: &str, frames: &[PathBuf]) {
    assert!(!frames.is_empty(), "{name}: the render wrote no frames");
    let got: Vec<FramePin> = frames.iter().map(|f| FramePin::of(f)).collect();
    let file = golden_pin_file(name);
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        let mut text = format!("# {command}\n# One line a frame: its size and the FNV-1a hash of its RGB bytes.\n");
        for pin in &got {
            writeln!(text, "{}", pin.line()).unwrap();
        }
        std::fs::write(&file, text).unwrap();
        eprintln!("{name}: pins rewritten in {}", file.display());
        return;
    }
    let how = format!(
        "if this change to the pixels is meant, rerun with {UPDATE}=1 (cargo test --release --test it golden) \
         and commit {} with the change, saying in the message why the render changed",
        file.display()
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{name}: {}: {e}; {how}", file.display()));
    let pinned: Vec<FramePin> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| FramePin::parse(l.trim()).unwrap_or_else(|| panic!("{}: bad pin line '{l}'", file.display())))
        .collect();
    assert_eq!(got.len(), pinned.len(), "{name}: {} frames, {} pinned; {how}", got.len(), pinned.len());
    let changed: Vec<String> = got
        .iter()
        .zip(&pinned)
        .enumerate()
        .filter(|(_, (g, p))| g != p)
        .map(|(i, (g, p))| format!("frame {} is {}, pinned {}", i + 1, g.line(), p.line()))
        .collect();
    assert!(changed.is_empty(), "golden render {name} changed ({command}): {}; {how}", changed.join("; "));
}

/// Renders `args` with the seeded settings in `dir` and checks the decoded frames against the pins
/// of `name`. The output is named by a token: `STILL` (a picture, `dir/still.png`) or `FRAMES` (PNG
/// frames, `dir/frames/%05d.png`); the pin file's comment names `dir` as `TMP`.
fn golden_render(name: &str, dir: &Path, args: &[&str]) {
    let still = dir.join("still.png");
    let folder = dir.join("frames");
    let pattern = folder.join("%05d.png");
    let args: Vec<&str> = args
        .iter()
        .map(|a| match *a {
            "STILL" => still.to_str().unwrap(),
            "FRAMES" => pattern.to_str().unwrap(),
            other => other,
        })
        .collect();
    let out = dreamreel().args(&args).args(SEEDED).arg("--quiet").output().unwrap();
    assert!(out.status.success(), "dreamreel {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let command = format!("dreamreel {} {}", args.join(" "), SEEDED.join(" ")).replace(dir.to_str().unwrap(), "TMP");
    let frames = if folder.is_dir() { golden_frames(&folder) } else { vec![still] };
    assert_golden(name, &command, &frames);
}

/// A mono 16-bit WAV of `seconds` at 22,050 Hz: a 10 ms 1 kHz beep every `every` seconds from 0,
/// written here so that the sound is the same on any FFmpeg.
#[cfg(feature = "video")]
fn golden_click_wav(path: &Path, seconds: f64, every: f64) {
    let rate = 22_050u32;
    let samples = (seconds * f64::from(rate)) as usize;
    let mut data = Vec::with_capacity(samples * 2);
    for n in 0..samples {
        let t = n as f64 / f64::from(rate);
        let on = t % every < 0.01;
        let value = if on { (0.8 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin() * 32767.0) as i16 } else { 0 };
        data.extend_from_slice(&value.to_le_bytes());
    }
    let mut wav = Vec::with_capacity(44 + data.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    std::fs::write(path, wav).unwrap();
}

#[test]
fn golden_still_of_the_cat() {
    let dir = tempfile::tempdir().unwrap();
    golden_render(
        "still",
        dir.path(),
        &["still", "samples/chelsea.png", "-o", "STILL", "--width", "80", "--iterations", "3"],
    );
}

#[test]
fn golden_still_from_noise_with_a_class() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["still", "noise", "-o", "STILL", "--width", "64", "--height", "64", "--class", "pineapple"];
    let args: Vec<&str> = args.into_iter().chain(["--iterations", "3"]).collect();
    golden_render("still_class", dir.path(), &args);
}

/// The zoom issue 31 describes (96 wide, 4 frames, 3 iterations, seed 3), of the cat.
#[cfg(feature = "video")]
#[test]
fn golden_zoom_of_the_cat() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["zoom", "samples/chelsea.png", "-o", "FRAMES", "--width", "96", "--frames", "4", "--iterations", "3"];
    golden_render("zoom", dir.path(), &args);
}

/// Footage with flow: the first 3 frames of samples/clip.mp4 at 64 wide, each after the first
/// carried along the flow from the one before.
#[cfg(feature = "video")]
#[test]
fn golden_footage_with_flow() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["video", "samples/clip.mp4", "-o", "FRAMES", "--width", "64", "--frames", "3", "--iterations", "2"];
    golden_render("footage_flow", dir.path(), &args);
}

/// A zoom from noise driven by a click track (`beat`) and a keyframed rotation.
#[cfg(feature = "video")]
#[test]
fn golden_schedule_with_audio() {
    let dir = tempfile::tempdir().unwrap();
    let clicks = dir.path().join("clicks.wav");
    golden_click_wav(&clicks, 1.0, 0.25);
    let args = ["zoom", "noise", "-o", "FRAMES", "--width", "64", "--height", "48", "--fps", "8", "--duration", "0.5"];
    let schedule = ["--audio", clicks.to_str().unwrap(), "--zoom", "1 + 0.1*beat", "--rotate", "0:(0), 3:(6)"];
    let args: Vec<&str> = args.into_iter().chain(schedule).chain(["--iterations", "2"]).collect();
    golden_render("schedule_audio", dir.path(), &args);
}
