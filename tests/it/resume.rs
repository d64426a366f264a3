//! Checkpoints and `--resume`: a render killed midway continues to the right frame count, with
//! no frame missing or doubled and the sound in sync; changed settings and a second render of the
//! same output are refused.
#![cfg(feature = "video")]

use crate::common::{checkpoint_frames, dreamreel_process, kill_after_checkpoint, sorted_pngs, work_folder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const FAST: [&str; 10] = ["--octaves", "2", "--iterations", "3", "--device", "cpu", "--threads", "1", "--seed", "4"];

fn resumable_zoom(output: &Path, frames: &str, extra: &[&str]) -> Command {
    let mut cmd = dreamreel_process();
    cmd.args(["zoom", "samples/chelsea.png", "-o"]).arg(output);
    cmd.args(["--width", "96", "--frames", frames, "--checkpoint-every", "3", "--quiet"]).args(FAST).args(extra);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().unwrap()
}

/// When each PNG in `folder` was last written, by name: a frame that a run rewrote has a new stamp.
fn write_stamps(folder: &Path) -> BTreeMap<PathBuf, (std::time::SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    sorted_pngs(folder)
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).unwrap();
            let stamp = (meta.modified().unwrap(), meta.ino());
            (path, stamp)
        })
        .collect()
}

#[test]
fn a_killed_zoom_resumes_to_the_same_frames_dreaming_only_those_after_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // Carried frames dreamed with less ascent (`--carry`): a resume starts from a carried frame,
    // which must be dreamed as the uninterrupted render dreamed it.
    let carry = ["--carry", "skip-lowest"];
    let whole = dir.path().join("whole/%04d.png");
    assert!(run(resumable_zoom(&whole, "12", &carry)).status.success());

    let resumed = dir.path().join("resumed/%04d.png");
    kill_after_checkpoint(resumable_zoom(&resumed, "12", &carry), &resumed, 6);
    let kept = checkpoint_frames(&resumed).expect("the checkpoint survives the kill");
    assert!((6..12).contains(&kept), "the checkpoint holds {kept} of 12 frames");
    let before = write_stamps(&dir.path().join("resumed"));
    let out = run(resumable_zoom(&resumed, "12", &["--resume", "--carry", "skip-lowest"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The frames the resumed run dreamed are the ones it wrote: new files, or files rewritten
    // since the kill. Those the checkpoint held stay as the first run wrote them.
    let after = write_stamps(&dir.path().join("resumed"));
    let name = |path: &Path| path.file_name().unwrap().to_string_lossy().into_owned();
    let dreamed: Vec<String> =
        after.iter().filter(|(path, stamp)| before.get(*path) != Some(stamp)).map(|(path, _)| name(path)).collect();
    let expected: Vec<String> = (kept + 1..=12).map(|i| format!("{i:04}.png")).collect();
    assert_eq!(dreamed, expected, "the resume dreams only the frames after the checkpoint's {kept}");

    let (a, b) = (sorted_pngs(&dir.path().join("whole")), sorted_pngs(&dir.path().join("resumed")));
    let names = |files: &[PathBuf]| files.iter().map(|p| p.file_name().unwrap().to_owned()).collect::<Vec<_>>();
    let expected: Vec<_> = (1..=12).map(|i| std::ffi::OsString::from(format!("{i:04}.png"))).collect();
    assert_eq!(names(&a), expected, "an uninterrupted render writes every frame");
    assert_eq!(names(&b), names(&a), "no frame missing or doubled");
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{} differs", b.display());
    }
    assert!(!work_folder(&resumed).exists(), "the work folder goes once the render is complete");
}

/// Frame count and audio duration of a file, by ffprobe.
fn frames_and_audio(path: &Path) -> (u64, f64, f64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_type,nb_read_frames,duration",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let field = |kind: &str, key: &str| {
        streams
            .iter()
            .find(|s| s["codec_type"] == kind)
            .and_then(|s| s[key].as_str()?.parse::<f64>().ok())
            .unwrap_or(-1.0)
    };
    (field("video", "nb_read_frames") as u64, field("video", "duration"), field("audio", "duration"))
}

#[test]
fn killed_footage_resumes_with_every_frame_and_the_sound_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("dreamed.mp4");
    let footage = |extra: &[&str]| {
        let mut cmd = dreamreel_process();
        cmd.args(["video", "samples/clip.mp4", "-o"]).arg(&output);
        cmd.args(["--width", "64", "--frames", "18", "--checkpoint-every", "4", "--quiet"]).args(FAST).args(extra);
        cmd
    };
    kill_after_checkpoint(footage(&[]), &output, 8);
    assert!(!output.exists(), "nothing under the output name after a kill");
    let out = run(footage(&["--resume"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (frames, video_seconds, audio_seconds) = frames_and_audio(&output);
    assert_eq!(frames, 18);
    assert!(
        (audio_seconds - video_seconds).abs() <= 1.0 / 24.0 + 1e-3,
        "audio {audio_seconds} s, video {video_seconds} s"
    );
}

#[test]
fn a_resume_with_other_settings_is_refused_saying_which() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("z.mkv");
    kill_after_checkpoint(resumable_zoom(&output, "40", &[]), &output, 3);
    let out = run(resumable_zoom(&output, "40", &["--resume", "--zoom", "1.1", "--step", "0.05"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--resume: the checkpoint was made with other settings"), "{stderr}");
    assert!(stderr.contains("step (was 0.02, now 0.05)") && stderr.contains("zoom (was unset, now 1.1)"), "{stderr}");
    assert!(!output.exists());
}

#[test]
fn two_renders_of_the_same_output_are_refused_by_a_lock() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("busy.mp4");
    let mut first = resumable_zoom(&output, "200", &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let lock = dir.path().join(".busy.mp4.dreamreel.lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "the first render never took its lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = run(resumable_zoom(&output, "200", &[]));
    first.kill().unwrap();
    first.wait().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("busy.mp4: another dreamreel render is writing this output"), "{stderr}");
    let other = dir.path().join("other.mp4");
    assert!(run(resumable_zoom(&other, "2", &[])).status.success(), "a different output is not blocked");
}

/// A zoom from noise under the Fourier prior keeps the colours of its first frame, the object
/// grown from noise; a resumed render finds them again (dreaming that frame anew) and so writes
/// the frames of an uninterrupted one, whose colours hold rather than fading to grey.
#[test]
fn a_resumed_zoom_from_noise_keeps_the_first_frames_colours() {
    let dir = tempfile::tempdir().unwrap();
    let zoom = |output: &Path, extra: &[&str]| {
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "noise", "-o"]).arg(output);
        cmd.args(["--width", "64", "--height", "48", "--frames", "30", "--checkpoint-every", "3", "--steps", "16"]);
        cmd.args(["--quiet"]).args(FAST).args(extra);
        cmd
    };
    let whole = dir.path().join("whole/%04d.png");
    assert!(run(zoom(&whole, &[])).status.success());
    let resumed = dir.path().join("resumed/%04d.png");
    kill_after_checkpoint(zoom(&resumed, &[]), &resumed, 6);
    let out = run(zoom(&resumed, &["--resume"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (sorted_pngs(&dir.path().join("whole")), sorted_pngs(&dir.path().join("resumed")));
    assert_eq!(a.len(), 30);
    assert_eq!(b.len(), 30);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{} differs", b.display());
    }
    // Matched to each zoomed frame alone, the colours greyed out: by frame 20 the spread of grey
    // levels had fallen to an eighth of the first frame's.
    let spread = |path: &Path| {
        let grey = image::open(path).unwrap().to_luma8();
        let values: Vec<f64> = grey.pixels().map(|p| f64::from(p.0[0])).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    };
    let (first, last) = (spread(&a[0]), spread(&a[29]));
    assert!(last > 0.6 * first, "the colours fade: spread {first} in frame 1, {last} in frame 30");
}
