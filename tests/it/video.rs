//! Video renders through the binary, on small generated clips: counts, rates, sizes, sound,
//! smoothness and flat memory.
#![cfg(feature = "video")]

use crate::common::{dreamreel, dreamreel_process, ffmpeg};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Fast dream settings: one small octave pair, two steps.
const FAST: [&str; 8] = ["--octaves", "2", "--iterations", "2", "--device", "cpu", "--threads", "2"];

/// A clip of `seconds` at 24 fps with a 440 Hz tone; `audio_first` puts the audio stream first.
fn make_clip(dir: &Path, name: &str, seconds: &str, audio_first: bool) -> PathBuf {
    let path = dir.join(name);
    let map: &[&str] = if audio_first { &["-map", "1:a", "-map", "0:v"] } else { &["-map", "0:v", "-map", "1:a"] };
    let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24", "-f", "lavfi", "-i", "sine=frequency=440"];
    args.extend_from_slice(map);
    args.extend_from_slice(&["-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    path
}

#[derive(Debug)]
struct Stream {
    kind: String,
    frames: Option<u64>,
    rate: String,
    size: (u32, u32),
    seconds: f64,
}

/// The streams of a media file, as ffprobe sees them (frames counted by decoding).
fn probe(path: &Path) -> Vec<Stream> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_streams", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let number = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Stream {
            kind: s["codec_type"].as_str().unwrap_or("").into(),
            frames: number(&s["nb_read_frames"]).map(|n| n as u64),
            rate: s["r_frame_rate"].as_str().unwrap_or("").into(),
            size: (s["width"].as_u64().unwrap_or(0) as u32, s["height"].as_u64().unwrap_or(0) as u32),
            seconds: number(&s["duration"]).or_else(|| matroska_duration(&s["tags"]["DURATION"])).unwrap_or(0.0),
        })
        .collect()
}

/// Matroska keeps stream durations as a tag, "HH:MM:SS.nnnnnnnnn".
fn matroska_duration(tag: &serde_json::Value) -> Option<f64> {
    let parts: Vec<f64> = tag.as_str()?.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    Some(parts.iter().fold(0.0, |total, part| total * 60.0 + part))
}

#[test]
fn footage_keeps_frame_count_rate_size_and_sound() {
    let dir = tempfile::tempdir().unwrap();
    for (name, audio_first) in [("plain.mp4", false), ("audio-first.mkv", true)] {
        let input = make_clip(dir.path(), name, "0.5", audio_first);
        let output = dir.path().join(format!("dreamed-{name}.mp4"));
        dreamreel().arg("video").arg(&input).arg("-o").arg(&output).args(FAST).arg("--quiet").assert().success();
        let streams = probe(&output);
        let video = streams.iter().find(|s| s.kind == "video").expect("a video stream");
        let audio = streams.iter().find(|s| s.kind == "audio").expect("the sound is kept");
        assert_eq!(video.frames, Some(12), "{name}");
        assert_eq!(video.rate, "24/1", "{name}");
        assert_eq!(video.size, (96, 64), "{name}");
        assert!((audio.seconds - video.seconds).abs() <= 1.0 / 24.0 + 1e-3, "{name}: {streams:?}");
    }
}

#[test]
fn a_span_cuts_video_and_sound_alike() {
    let dir = tempfile::tempdir().unwrap();
    let input = make_clip(dir.path(), "long.mp4", "2", false);
    let output = dir.path().join("span.mkv");
    let args = ["--start", "0.5", "--frames", "6", "--width", "48"];
    dreamreel().arg("video").arg(&input).arg("-o").arg(&output).args(args).args(FAST).arg("-q").assert().success();
    let streams = probe(&output);
    let video = streams.iter().find(|s| s.kind == "video").unwrap();
    assert_eq!((video.frames, video.size), (Some(6), (48, 32)));
    let audio = streams.iter().find(|s| s.kind == "audio").unwrap();
    assert!((audio.seconds - 6.0 / 24.0).abs() <= 1.0 / 24.0 + 0.03, "{streams:?}");
    let silent = dir.path().join("silent.mp4");
    dreamreel()
        .arg("video")
        .arg(&input)
        .arg("-o")
        .arg(&silent)
        .args(["--frames", "2", "--no-audio"])
        .args(FAST)
        .assert()
        .success();
    assert!(probe(&silent).iter().all(|s| s.kind == "video"));
}

/// Mean absolute difference between consecutive PNG frames, in [0, 1].
fn frame_steps(folder: &Path) -> Vec<f64> {
    let names = crate::common::sorted_pngs(folder);
    let frames: Vec<_> = names.iter().map(|p| image::open(p).unwrap().to_rgb8()).collect();
    frames
        .windows(2)
        .map(|pair| {
            let total: f64 =
                pair[0].as_raw().iter().zip(pair[1].as_raw()).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum();
            total / pair[0].as_raw().len() as f64 / 255.0
        })
        .collect()
}

#[test]
fn zoom_from_a_still_and_from_noise_changes_smoothly() {
    let dir = tempfile::tempdir().unwrap();
    for (name, input, extra) in [
        ("still", "samples/chelsea.png", vec!["--width", "64"]),
        ("noise", "noise", vec!["--width", "64", "--height", "48"]),
    ] {
        let folder = dir.path().join(name);
        let pattern = folder.join("%04d.png");
        let mut cmd = dreamreel();
        cmd.args(["zoom", input, "-o"]).arg(&pattern).args(["--frames", "6", "--zoom", "1.04"]).args(&extra).args(FAST);
        cmd.assert().success();
        let steps = frame_steps(&folder);
        assert_eq!(steps.len(), 5, "{name}: 6 frames");
        // Each frame moves on from the last, but by much less than a cut to another picture would.
        assert!(steps.iter().all(|&s| s > 0.002 && s < 0.2), "{name}: {steps:?}");
    }
}

/// Resident memory of a command (KiB), sampled from /proc every 20 ms while it runs.
fn rss_samples_kib(mut cmd: std::process::Command) -> Vec<u64> {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut samples = Vec::new();
    while child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            let rss = status.lines().find(|l| l.starts_with("VmRSS:"));
            if let Some(kib) = rss.and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()) {
                samples.push(kib);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    samples
}

#[test]
fn memory_stays_flat_over_ten_thousand_frames() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("long.mp4");
    let mut cmd = dreamreel_process();
    cmd.args(["zoom", "noise", "-o"]).arg(&output);
    cmd.args(["--width", "48", "--height", "48", "--frames", "10000", "--octaves", "1", "--iterations", "1"]);
    cmd.args(["--device", "cpu", "--threads", "1", "--quiet"]);
    let samples = rss_samples_kib(cmd);
    assert!(samples.len() >= 100, "the render was too short to sample: {} samples", samples.len());
    // Once running (start-up done by 20%), memory must not climb: a leaked frame (7 KiB of RGB, a
    // 27 KiB float tensor) would add 35-135 MiB between 40% and 90% of the frames. The last tenth
    // is left out: joining the segments and exiting allocate once, whatever the length.
    let at = |share: usize| samples.len() * share / 100;
    let early = samples[at(20)..at(40)].iter().max().unwrap();
    let late = samples[at(60)..at(90)].iter().max().unwrap();
    assert!(*late < early + 8 * 1024, "resident memory grew from {early} KiB to {late} KiB");
    let frames = probe(&output).iter().find(|s| s.kind == "video").and_then(|s| s.frames);
    assert_eq!(frames, Some(10_000));
}

/// Presentation times of the video frames of a file, in seconds, by ffprobe.
fn frame_times(path: &Path) -> Vec<f64> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=best_effort_timestamp_time",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().trim_end_matches(',').parse().ok()).collect()
}

#[test]
fn variable_frame_rate_timestamps_survive_segments_and_the_join() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("vfr.mkv");
    // Frames 40 ms apart, then 100 ms apart, then 60 ms apart.
    let times = "settb=1/1000,setpts='if(lt(N,4),N*0.04,if(lt(N,8),0.16+(N-4)*0.1,0.56+(N-8)*0.06))/TB'";
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=25",
            "-frames:v",
            "12",
            "-vf",
            times,
        ])
        .args(["-fps_mode", "passthrough", "-enc_time_base:v", "1/1000", "-c:v", "libx264"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success());
    let output = dir.path().join("dreamed.mp4");
    let mut cmd = dreamreel();
    cmd.arg("video").arg(&input).arg("-o").arg(&output).args(["--checkpoint-every", "5"]).args(FAST).arg("-q");
    cmd.assert().success();
    let (before, after) = (frame_times(&input), frame_times(&output));
    assert_eq!(before.len(), 12, "{before:?}");
    assert_eq!(after.len(), before.len(), "{after:?}");
    for (a, b) in before.iter().zip(&after) {
        assert!((a - b).abs() < 0.002, "input times {before:?}, output times {after:?}");
    }
}

#[test]
fn image_sequences_in_by_pattern_or_folder_at_the_asked_rate() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let pattern = frames.join("shot_%04d.png");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-frames:v", "6", pattern.to_str().unwrap()]);
    let by_pattern = dir.path().join("by-pattern.mp4");
    dreamreel()
        .arg("video")
        .arg(&pattern)
        .arg("-o")
        .arg(&by_pattern)
        .args(["--fps", "12", "--quiet"])
        .args(FAST)
        .assert()
        .success();
    let video = &probe(&by_pattern)[0];
    assert_eq!((video.frames, video.rate.as_str(), video.size), (Some(6), "12/1", (64, 48)));
    let by_folder = dir.path().join("by-folder.mkv");
    dreamreel().arg("video").arg(&frames).arg("-o").arg(&by_folder).args(["--quiet"]).args(FAST).assert().success();
    let video = &probe(&by_folder)[0];
    assert_eq!((video.frames, video.rate.as_str()), (Some(6), "24/1"), "--fps defaults to 24");
    std::fs::remove_file(frames.join("shot_0003.png")).unwrap();
    let out =
        dreamreel().arg("video").arg(&frames).arg("-o").arg(dir.path().join("gap.mp4")).args(FAST).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("frame 3 of the sequence is missing"), "{stderr}");
}

#[test]
fn a_gif_out_has_every_frame_at_the_zoom_rate_and_loops() {
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("dream.gif");
    let args =
        ["zoom", "samples/chelsea.png", "--frames", "10", "--fps", "20", "--width", "64", "--checkpoint-every", "4"];
    dreamreel().args(args).arg("-o").arg(&gif).args(FAST).arg("--quiet").assert().success();
    let bytes = std::fs::read(&gif).unwrap();
    assert!(bytes.starts_with(b"GIF89a"), "not a GIF");
    assert!(bytes.windows(11).any(|w| w == b"NETSCAPE2.0"), "the GIF does not loop");
    let video = &probe(&gif)[0];
    // A GIF needs no even size: the cat at 64 wide keeps its 43rd row.
    assert_eq!((video.kind.as_str(), video.frames, video.size), ("video", Some(10), (64, 43)));
    // 20 fps is 5 cs a frame: the ten frames last half a second.
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "packet=duration_time", "-of", "csv=p=0"])
        .arg(&gif)
        .output()
        .unwrap();
    let total: f64 = String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse::<f64>().ok()).sum();
    assert!((total - 0.5).abs() < 0.011, "{total} s");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}
