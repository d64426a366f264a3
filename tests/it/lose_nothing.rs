//! Issue 36's items through the binary, each a case the interrupt harness found or a new user hit:
//! an interrupted part is not finished and is not joined (item 1); `-y` then Ctrl-C keeps the
//! finished output and says where the partial frames are and how to go on (items 2 and 9); a part
//! with no frames joins (item 4); a part rendered with other settings is refused before its first
//! frame, and `--part I/N --join` on a finished part joins (item 5).
#![cfg(feature = "video")]

use crate::common::{dreamreel_process, ffmpeg, finish, signal, work_folder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The quickest dream, at 48 pixels.
const TINY: [&str; 12] =
    ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1", "--seed", "3", "--width", "48"];

/// A 48x32 test clip of `frames` frames at 12 fps, with no cut.
fn clip(path: &Path, frames: u32) {
    let frames = frames.to_string();
    let (input, path) = ("testsrc2=size=48x32:rate=12", path.to_str().unwrap());
    ffmpeg(&["-f", "lavfi", "-i", input, "-frames:v", &frames, "-c:v", "libx264", "-pix_fmt", "yuv420p", path]);
}

/// An 18-frame film of three shots of 6 frames (cuts at 6 and 12): its 3 parts start at cuts.
fn film_with_cuts(path: &Path) {
    let shots = "[2]trim=end_frame=6[m];[0][1][m]concat=n=3:v=1";
    let (a, b) = ("testsrc2=size=48x32:rate=12:d=0.5", "smptebars=size=48x32:rate=12:d=0.5");
    let c = "mandelbrot=size=48x32:rate=12";
    let inputs = ["-f", "lavfi", "-i", a, "-f", "lavfi", "-i", b, "-f", "lavfi", "-i", c];
    let encode = ["-filter_complex", shots, "-c:v", "libx264", "-pix_fmt", "yuv420p", path.to_str().unwrap()];
    ffmpeg(&[&inputs[..], &encode[..]].concat());
}

/// `dreamreel video FILM -o OUT ARGS` at the tiny settings, lossless.
fn tiny_video(film: &Path, output: &Path, args: &[&str]) -> Command {
    let mut cmd = dreamreel_process();
    cmd.args(["video", film.to_str().unwrap(), "-o", output.to_str().unwrap(), "--crf", "0"]);
    cmd.args(TINY).args(args);
    cmd
}

fn exit_and_stderr(mut cmd: Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stderr)
}

/// Frames decoded from a video (0 when it cannot be read).
fn frames_in(video: &Path) -> usize {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i", video.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    if out.status.success() { out.stdout.len() / (48 * 32 * 3) } else { 0 }
}

/// Every file under `folder` with its bytes.
fn every_file(folder: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![folder.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}

/// Starts `cmd` (its encoder slowed), waits until `checkpoint` exists, sends `name`, and returns
/// the exit code and stderr.
fn stop_after_checkpoint(mut cmd: Command, checkpoint: &Path, name: &str) -> (Option<i32>, String) {
    cmd.env("DREAMREEL_SLOW_ENCODE_MS", "150").stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !checkpoint.is_file() {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the render ended before it could be stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, name);
    let (status, stderr) = finish(child);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.code(), stderr)
}

/// Item 1: a part stopped by Ctrl-C or SIGTERM is not finished: its rerun never says so, `--join`
/// refuses it (exit 2, naming it, nothing written or deleted), and `--resume` finishes it.
#[test]
fn an_interrupted_part_is_not_finished_and_not_joined() {
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("film12.mp4");
    clip(&film, 12);
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let output = dir.path().join(format!("{name}.mp4"));
        let part = |index: &str, extra: &[&str]| {
            tiny_video(&film, &output, &[&["--part", index, "--checkpoint-every", "2"], extra].concat())
        };
        let checkpoint = work_folder(&output).join(".part-0001-of-0002.dreamreel/checkpoint.json");
        let (status, stderr) = stop_after_checkpoint(part("1/2", &[]), &checkpoint, name);
        assert_eq!(status, Some(code), "{stderr}");
        let (status, stderr) = exit_and_stderr(part("2/2", &["--quiet"]));
        assert_eq!(status, Some(0), "{stderr}");
        // The same command again: not "has finished", but the checkpoint to go on from.
        let (status, stderr) = exit_and_stderr(part("1/2", &["--quiet"]));
        assert!(!stderr.contains("has finished"), "{stderr}");
        assert_eq!(status, Some(2), "{stderr}");
        assert!(stderr.contains("--resume"), "{stderr}");
        // The join refuses the unfinished part and changes nothing.
        let before = every_file(dir.path());
        let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &["--join"]));
        assert_eq!(status, Some(2), "{stderr}");
        assert!(stderr.contains("part 1 of 2 has not finished"), "{stderr}");
        assert_eq!(every_file(dir.path()), before, "a refused join wrote or deleted files");
        // Resumed, the part finishes; then the film joins whole.
        let (status, stderr) = exit_and_stderr(part("1/2", &["--resume", "--quiet"]));
        assert_eq!(status, Some(0), "{stderr}");
        let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &["--join", "--quiet"]));
        assert_eq!(status, Some(0), "{stderr}");
        assert_eq!(frames_in(&output), 12);
    }
}

/// Items 2 and 9: `-y` over a finished video, stopped by Ctrl-C, leaves the finished video as it
/// was; the frames so far are beside it in `NAME.partial.mp4`, and the message says so, with the
/// frames kept and the exact command that goes on. That command finishes the render.
#[test]
fn an_interrupted_overwrite_keeps_the_finished_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("keep.mp4");
    let zoom = |extra: &[&str]| {
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "samples/chelsea.png", "-o", output.to_str().unwrap(), "--frames", "8", "--crf", "0"]);
        cmd.args(TINY).args(["--checkpoint-every", "2"]).args(extra);
        cmd
    };
    let (status, stderr) = exit_and_stderr(zoom(&["--quiet"]));
    assert_eq!(status, Some(0), "{stderr}");
    let finished = std::fs::read(&output).unwrap();
    let (status, stderr) = stop_after_checkpoint(zoom(&["-y"]), &work_folder(&output).join("checkpoint.json"), "INT");
    assert_eq!(status, Some(130), "{stderr}");
    assert_eq!(std::fs::read(&output).unwrap(), finished, "the finished output was replaced: {stderr}");
    let partial = dir.path().join("keep.partial.mp4");
    let kept = frames_in(&partial);
    assert!((2..8).contains(&kept), "{kept} frames in the partial file: {stderr}");
    assert!(stderr.contains(&format!("{kept} of 8 frames are kept")), "{stderr}");
    assert!(stderr.contains(partial.to_str().unwrap()), "{stderr}");
    let command = stderr.lines().find_map(|l| l.strip_prefix("dreamreel: to go on: dreamreel ")).expect(&stderr);
    let expected = format!(
        "zoom samples/chelsea.png -o {} --frames 8 --crf 0 {} --checkpoint-every 2 -y --resume",
        output.display(),
        TINY.join(" ")
    );
    assert_eq!(command, expected);
    let (status, stderr) = exit_and_stderr({
        let mut cmd = dreamreel_process();
        cmd.args(command.split(' '));
        cmd
    });
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(frames_in(&output), 8);
    assert!(!partial.exists(), "the partial file goes once the output is whole");
}

/// Item 4: a film shorter than its parts, and a last part after the film's last cut when parts
/// start at cuts only, have parts with no frames: each is finished by definition (recorded at
/// once), the join goes on, and `plan --parts` says so.
#[test]
fn parts_with_no_frames_are_finished_and_joined() {
    let dir = tempfile::tempdir().unwrap();
    for (frames, count, extra) in [(2, 3, &[][..]), (6, 2, &["--split-inside-shots", "false"][..])] {
        let film = dir.path().join(format!("film{frames}.mp4"));
        clip(&film, frames);
        let output = dir.path().join(format!("out{frames}.mp4"));
        let mut plan = dreamreel_process();
        plan.args(["plan", "video", film.to_str().unwrap(), "-o", output.to_str().unwrap(), "--parts"]);
        plan.arg(count.to_string()).args(TINY).args(extra);
        let out = plan.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("no frames of its own") && text.contains("have no frames"), "{text}");
        for index in 1..=count {
            let part = format!("{index}/{count}");
            let (status, stderr) =
                exit_and_stderr(tiny_video(&film, &output, &[&["--part", part.as_str()], extra].concat()));
            assert_eq!(status, Some(0), "part {part}: {stderr}");
            assert!(!stderr.contains("NaN"), "{stderr}");
        }
        let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &[&["--join"], extra].concat()));
        assert_eq!(status, Some(0), "{stderr}");
        assert_eq!(frames_in(&output), frames as usize);
    }
}

/// Item 5: a part rendered with other settings than the film's earlier parts is refused before
/// its first frame (exit 2, naming the option, nothing of it made); `--part 3/3 --join` on a
/// finished part joins instead of asking for the join.
#[test]
fn a_part_unlike_the_others_is_refused_and_a_finished_part_joins() {
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("cuts.mp4");
    film_with_cuts(&film);
    let output = dir.path().join("film.mp4");
    for part in ["1/3", "2/3"] {
        let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &["--part", part, "--quiet"]));
        assert_eq!(status, Some(0), "{stderr}");
    }
    let mut other = tiny_video(&film, &output, &["--part", "3/3"]);
    other.args(["--blend", "0.7"]);
    let (status, stderr) = exit_and_stderr(other);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("--blend") && stderr.contains("part 1 of 3"), "{stderr}");
    assert!(!work_folder(&output).join(".part-0003-of-0003.dreamreel").exists(), "the refused part began");
    let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &["--part", "3/3", "--quiet"]));
    assert_eq!(status, Some(0), "{stderr}");
    let (status, stderr) = exit_and_stderr(tiny_video(&film, &output, &["--part", "3/3", "--join"]));
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("3 parts joined"), "{stderr}");
    assert_eq!(frames_in(&output), 18);
}
