//! What a new user hit (issue 19), each through the binary: AV1 renders that never finished,
//! codec limits found after the work started, duplicate batch outputs spelled differently, a
//! broken user preset, `compare` of a still, exit codes, options that did nothing, stale PNG
//! frames, zoom noise without --height, and misleading messages. Every refusal is one line naming
//! the option or file, exit 2, and leaves nothing behind.
#![cfg(feature = "video")]

use crate::common::{checkpoint_frames, dreamreel, dreamreel_process, ffmpeg, finish, refused, signal, work_folder};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TINY: [&str; 8] = ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1"];

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `args` followed by the tiny dream settings.
fn with_tiny<'a>(args: &[&'a str]) -> Vec<&'a str> {
    args.iter().copied().chain(TINY).collect()
}

/// Runs `dreamreel ARGS` to the end (a minute at most: the AV1 hang is a test failure, not a
/// stuck suite); its status code and stderr.
fn run_within_a_minute(args: &[&str]) -> (Option<i32>, String) {
    let mut child = dreamreel_process().args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("{args:?} did not finish within a minute: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn stream_entries(path: &Path, stream: &str, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", stream, "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every name in `folder`, hidden ones included, sorted.
fn names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn av1_zooms_finish_and_quiet_means_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [("a.mkv", "128", "96", "3"), ("b.webm", "64", "64", "2")];
    for (name, width, height, frames) in cases {
        let output = dir.path().join(name);
        let args = ["zoom", "noise", "-o", s(&output), "--width", width, "--height", height, "--frames", frames];
        let (code, stderr) = run_within_a_minute(&with_tiny(&[&args[..], &["--codec", "av1", "--quiet"]].concat()));
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert_eq!(stderr, "", "--quiet lets nothing through, not even the AV1 encoder's banner");
        assert_eq!(
            stream_entries(&output, "v:0", "stream=codec_name,width,height,nb_read_frames"),
            format!("av1,{width},{height},{frames}")
        );
    }
    assert_eq!(names(dir.path()), ["a.mkv", "b.webm"], "no partial file, work folder or lock left");
}

#[test]
fn av1_footage_keeps_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("v.mkv");
    let args = ["video", "samples/clip.mp4", "-o", s(&output), "--width", "128", "--frames", "6", "--codec", "av1"];
    let (code, stderr) = run_within_a_minute(&with_tiny(&[&args[..], &["--quiet"]].concat()));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stream_entries(&output, "v:0", "stream=codec_name,nb_read_frames"), "av1,6");
    let audio: f64 = stream_entries(&output, "a:0", "stream=duration").parse().unwrap_or_else(|_| {
        // Matroska keeps the duration in the stream's tags.
        let tags = stream_entries(&output, "a:0", "stream_tags=DURATION");
        let parts: Vec<f64> = tags.split(':').map(|p| p.parse().unwrap()).collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
    });
    assert!((audio - 0.25).abs() < 0.05, "6 frames at 24/s are 0.25 s; the sound is {audio} s");
    assert_eq!(names(dir.path()), ["v.mkv"]);
}

#[test]
fn an_interrupted_av1_render_keeps_its_checkpoint_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("z.mkv");
    let zoom = |extra: &[&str]| {
        let mut command = dreamreel_process();
        command.args(["zoom", "noise", "-o", s(&output), "--width", "64", "--frames", "6", "--codec", "av1"]);
        command.args(["--checkpoint-every", "2", "--quiet"]).args(TINY).args(extra);
        command
    };
    let mut child = zoom(&[]).env("DREAMREEL_SLOW_ENCODE_MS", "300").stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while checkpoint_frames(&output).is_none() {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the render ended before it could be stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "TERM");
    let (status, stderr) = finish(child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    let kept = checkpoint_frames(&output).expect("the checkpoint survives the stop");
    assert!((2..6).contains(&kept), "{kept} frames kept");
    let out = zoom(&["--resume"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stream_entries(&output, "v:0", "stream=codec_name,nb_read_frames"), "av1,6");
    assert!(!work_folder(&output).exists());
    assert_eq!(names(dir.path()), ["z.mkv"]);
}

#[test]
fn codec_limits_are_checked_before_the_first_frame() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (av1, h265, vp9, footage) = (out("a.mkv"), out("h.mp4"), out("v.webm"), out("f.mkv"));
    let zoom = |output: &str, extra: &[&str]| {
        let args = [&["zoom", "noise", "-o", output, "--frames", "2"][..], extra, &TINY[..]].concat();
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let cases: [(Vec<String>, &str); 5] = [
        (
            zoom(&av1, &["--width", "64", "--height", "48", "--codec", "av1"]),
            "--height: a height of 48 is too small for av1, which needs frames of at least 64x64",
        ),
        (
            zoom(&h265, &["--width", "64", "--codec", "h265", "--crf", "60"]),
            "--crf: 60 must be between 0 and 51 for h265",
        ),
        (zoom(&h265, &["--width", "64", "--crf", "55"]), "--crf: 55 must be between 0 and 51 for h264"),
        (zoom(&vp9, &["--width", "64", "--crf", "64"]), "--crf"),
        // Footage 256x170 read 64 wide is 64x42: found when the input is opened, before a frame is dreamed.
        (
            ["video", "samples/clip.mp4", "-o", &footage, "--width", "64", "--codec", "av1", "--frames", "2"]
                .iter()
                .map(|a| a.to_string())
                .chain(TINY.iter().map(|a| a.to_string()))
                .collect(),
            "--width: a height of 42 is too small for av1",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, expected);
    }
    assert!(names(dir.path()).is_empty(), "left behind: {:?}", names(dir.path()));
}

#[test]
fn batch_outputs_are_compared_as_the_file_system_resolves_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("out"), dir.path().join("link")).unwrap();
    for second in ["./out/a.png", "out/../out/a.png", "link/a.png"] {
        let manifest = dir.path().join("m.toml");
        let job = |output: &str| {
            format!(
                "[[job]]\nmode = \"still\"\ninput = \"noise\"\noutput = \"{output}\"\nwidth = 32\noctaves = 1\niterations = 1\n"
            )
        };
        std::fs::write(&manifest, job("out/a.png") + &job(second)).unwrap();
        refused(&["batch", s(&manifest)], &format!("job 2: output: {}", dir.path().join(second).display()));
        assert!(names(&dir.path().join("out")).is_empty(), "{second}: nothing rendered");
    }
}

#[test]
fn a_broken_user_preset_is_listed_with_its_error_among_the_others() {
    let config = tempfile::tempdir().unwrap();
    let folder = config.path().join("dreamreel/presets");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("bad.toml"), "octaves = 0\n").unwrap();
    std::fs::write(folder.join("mine.toml"), "description = \"my look\"\noctaves = 2\n").unwrap();
    let out = dreamreel().env("XDG_CONFIG_HOME", config.path()).arg("presets").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("classic ")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("mine ") && l.contains("my look")), "{stdout}");
    let bad = stdout.lines().find(|l| l.starts_with("bad ")).expect("the broken preset is listed");
    assert!(bad.contains("BROKEN") && bad.contains("bad.toml:1") && bad.contains("octaves"), "{bad}");
}

#[test]
fn compare_needs_two_frames_and_warns_about_a_doubtful_pair() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", "1", "-pix_fmt", "yuv420p", s(&one)]);
    refused(&["compare", "samples/clip.mp4", "samples/chelsea.png"], "chelsea.png: has 1 frame(s): compare measures");
    refused(&["compare", s(&one), "samples/clip.mp4"], "one.mp4: has 1 frame(s)");

    let other = dir.path().join("other.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=96x48:rate=12", "-frames:v", "5", "-pix_fmt", "yuv420p", s(&other)]);
    let out = dreamreel().args(["compare", "samples/clip.mp4", s(&other)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("dreamreel: warning: ")).collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    assert!(warnings[0].contains("48 frames and the dreamed video 5"), "{stderr}");
    assert!(warnings[1].contains("aspect ratio") && warnings[2].contains("24.000 frames/s"), "{stderr}");
}

#[test]
fn a_start_past_the_end_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("v.mp4");
    refused(
        &with_tiny(&["video", "samples/clip.mp4", "-o", s(&output), "--start", "5"]),
        "clip.mp4: --start 5: no video frames at or after 5.000s (the video is 2.000s long)",
    );
    assert!(names(dir.path()).is_empty());
}

#[test]
fn options_that_would_do_nothing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (png, gif, mp4, seq) =
        (dir.path().join("a.png"), dir.path().join("v.gif"), dir.path().join("v.mp4"), dir.path().join("f/%03d.png"));
    // `--class banana --layers blocks.3` is no longer refused: the dream raises both (issue 17).
    refused(
        &with_tiny(&["video", "samples/clip.mp4", "-o", s(&mp4), "--fps", "10"]),
        "--fps: 'samples/clip.mp4' is a video file",
    );
    refused(
        &with_tiny(&["zoom", "noise", "-o", s(&gif), "--width", "32", "--frames", "2", "--codec", "h265"]),
        "--codec: a .gif",
    );
    refused(
        &with_tiny(&["zoom", "noise", "-o", s(&seq), "--width", "32", "--frames", "2", "--crf", "20"]),
        "--crf: an image sequence",
    );
    let manifest = dir.path().join("m.toml");
    let clip = std::fs::canonicalize("samples/clip.mp4").unwrap();
    let job = format!("[[job]]\nmode = \"video\"\ninput = \"{}\"\noutput = \"v.mp4\"\nfps = 10\n", clip.display());
    std::fs::write(&manifest, job).unwrap();
    refused(&["batch", s(&manifest)], "m.toml:5: job 1: fps: ");
    // A preset that picks layers may still be given a class: the command line's objective wins.
    let out = dreamreel()
        .args(with_tiny(&[
            "still",
            "noise",
            "-o",
            s(&png),
            "--width",
            "32",
            "--preset",
            "classic",
            "--class",
            "banana",
        ]))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(names(dir.path()), ["a.png", "m.toml"]);
}

#[test]
fn a_png_sequence_replaces_an_earlier_longer_one_and_its_folder_must_be_writable() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("seq/%05d.png");
    let zoom = |frames: &str, extra: &[&str]| {
        dreamreel()
            .args(with_tiny(&["zoom", "noise", "-o", s(&pattern), "--width", "32", "--frames", frames]))
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(zoom("6", &[]).status.success());
    let refused_run = zoom("3", &[]);
    assert_eq!(refused_run.status.code(), Some(2), "an existing sequence needs -y");
    let out = zoom("3", &["-y"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        names(&dir.path().join("seq")),
        [".%05d.png.written-by-dreamreel", "00001.png", "00002.png", "00003.png"],
        "frames 4-6 of the old render are gone; the record of the frames written stays"
    );

    // Only frames 2.. of an earlier render left: still an existing sequence.
    std::fs::remove_file(dir.path().join("seq/00001.png")).unwrap();
    assert_eq!(zoom("2", &[]).status.code(), Some(2));

    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let mut permissions = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o555);
    std::fs::set_permissions(&locked, permissions).unwrap();
    let inside = locked.join("frames/%03d.png");
    refused(&with_tiny(&["zoom", "noise", "-o", s(&inside), "--width", "32", "--frames", "2"]), "is not writable");
    let manifest = dir.path().join("m.toml");
    std::fs::write(
        &manifest,
        "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"locked/f/%03d.png\"\nframes = 2\nwidth = 32\n",
    )
    .unwrap();
    // The batch's pre-check says it for each job, then that nothing was started.
    let out = dreamreel().args(["batch", s(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.lines().next().unwrap().contains("job 1: ") && stderr.contains("locked' is not writable"),
        "{stderr}"
    );
    assert!(names(&locked).is_empty());
}

#[test]
fn zoom_noise_is_square_without_a_height_as_still_noise_is() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("z.mp4");
    let out = dreamreel()
        .args(with_tiny(&["zoom", "noise", "-o", s(&output), "--width", "64", "--frames", "2", "--quiet"]))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stream_entries(&output, "v:0", "stream=width,height"), "64,64");
}

#[test]
fn messages_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("v.mp4");
    let zoom = |extra: &[&str]| -> Vec<String> {
        let args = [&["zoom", "noise", "-o", s(&mp4), "--frames", "2"][..], extra, &TINY[..]].concat();
        args.iter().map(|a| a.to_string()).collect()
    };
    let noext = dir.path().join("noext");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            ["zoom", "noise", "-o", s(&noext), "--width", "64", "--frames", "2"]
                .iter()
                .map(|a| a.to_string())
                .collect(),
            "noext: has no extension: end it in .mp4, .mov, .mkv, .webm, .gif or .apng, or write a %05d.png sequence",
        ),
        (zoom(&["--width", "20"]), "'--width <WIDTH>': 20 must be between 32 and 16384 pixels"),
        (
            zoom(&["--crf", "-1"]),
            "'--crf <CRF>': must be between 0 and 63 (0-51 for h264, 0-51 for h265, 0-63 for vp9, 0-63 for av1)",
        ),
        (zoom(&["--pan", "1e9,1e9"]), "--pan: '1e9,1e9': each must be within ±10000 pixels per frame"),
        (
            ["still", "noise", "-o", "a.png", "--codec", "h264"].iter().map(|a| a.to_string()).collect(),
            "unexpected argument '--codec': `still` takes no --codec (only zoom and video do)",
        ),
        (
            zoom(&["--cdec", "h264"]),
            "unexpected argument '--cdec' (did you mean '--codec'?): see dreamreel zoom --help",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, expected);
        let stderr = String::from_utf8_lossy(&dreamreel().args(&args).output().unwrap().stderr).into_owned();
        assert!(!stderr.contains("4294967295") && !stderr.contains("--model"), "{stderr}");
    }
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_resume_with_other_frames_names_frames() {
    let dir = tempfile::tempdir().unwrap();
    let output: PathBuf = dir.path().join("z/%03d.png");
    let zoom = |frames: &str, extra: &[&str]| {
        let mut command = dreamreel_process();
        command.args([
            "zoom",
            "noise",
            "-o",
            s(&output),
            "--width",
            "32",
            "--frames",
            frames,
            "--checkpoint-every",
            "1",
        ]);
        command.args(TINY).args(extra);
        command
    };
    let mut child = zoom("30", &[]).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while checkpoint_frames(&output).is_none() {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = zoom("4", &["--resume"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("other settings: --frames (was 30, now 4)"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
