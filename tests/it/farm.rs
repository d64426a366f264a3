//! Safe on farms, through the binary: Ctrl-C and SIGTERM stop every pipeline at every point
//! after the frames in hand and keep the checkpoint; a run that never started rendering
//! never drops a checkpoint; existing outputs need -y; batch checks every job first; progress
//! lines in logs. Real footage: OpenCV's vtest.avi from Debian's opencv-doc (scripts/setup.sh).
#![cfg(feature = "video")]

use crate::common::{checkpoint_frames, dreamreel_process, ffmpeg, finish, sample, signal, work_folder};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The quickest dream: one octave of one step, on the CPU.
const TINY: [&str; 8] = ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1"];

/// Frames a stopped render may still keep beyond those its last checkpoint held: the rest of the
/// checkpoint's interval (16 in these tests), the frames waiting in the channels to the encoder
/// (2) and in its hands (1), and the frame the dream had in hand (1). A stop that kept dreaming
/// would keep more, or finish (exit 0) instead of 130.
const KEPT_AFTER_THE_SIGNAL: u64 = 16 + 2 + 1 + 1;

/// A 64x48 test pattern clip of `frames` frames at 12 fps.
fn tiny_clip(path: &Path, frames: u32) {
    let frames = frames.to_string();
    let source = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=12", "-frames:v", &frames];
    ffmpeg(&[&source[..], &["-pix_fmt", "yuv420p", path.to_str().unwrap()]].concat());
}

fn frames_of(path: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

/// The lock a render takes once its network is loaded and its input opened, just before frame 1.
fn lock_file(output: &Path) -> PathBuf {
    let name = output.file_name().unwrap().to_string_lossy().replace('%', "_");
    output.parent().unwrap().join(format!(".{name}.dreamreel.lock"))
}

/// Every file of the work folder with its bytes: what a refused run must leave as it was.
fn snapshot(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Waits (at most 2 minutes) until `ready` holds while the render still runs.
fn wait_until(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the render ended ({status}) before {what}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Where in a render the signal comes.
#[derive(Clone, Copy, Debug)]
enum Point {
    /// Once the network is loaded and the input open (the output locked), before frame 1.
    BeforeFirstFrame,
    /// A frame has been sent to the encoder but no checkpoint is written yet.
    BeforeFirstCheckpoint,
    AfterFirstCheckpoint,
    /// All frames dreamed, the segments being joined (slowed by DREAMREEL_SLOW_JOIN_MS).
    DuringJoin,
}

struct Interrupt {
    name: &'static str,
    args: Vec<String>,
    output: PathBuf,
    env: Vec<(&'static str, &'static str)>,
    point: Point,
    frames: u64,
}

/// Starts the render, signals it at its point, checks that it stops after the frames in hand with
/// exit 130 (or completes, when the signal came during the join) and keeps what it should.
/// Returns problems.
fn run_interrupt(case: &Interrupt) -> Vec<String> {
    let mut problems = Vec::new();
    let mut child = dreamreel_process()
        .args(&case.args)
        .arg("-o")
        .arg(&case.output)
        .args(TINY)
        .envs(case.env.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let work = work_folder(&case.output);
    // A segment is written under a temporary name (`.segment-N.dreamreel-partial.mkv`) from its
    // first frame and renamed only when its checkpoint is made.
    let segment_started = || {
        std::fs::read_dir(&work)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().contains("segment-")))
            .unwrap_or(false)
    };
    match case.point {
        Point::BeforeFirstFrame => wait_until(&mut child, "the output lock", || lock_file(&case.output).exists()),
        Point::BeforeFirstCheckpoint => {
            wait_until(&mut child, "a first segment", || segment_started() && checkpoint_frames(&case.output).is_none())
        }
        Point::AfterFirstCheckpoint => {
            wait_until(&mut child, "a first checkpoint", || checkpoint_frames(&case.output).is_some())
        }
        Point::DuringJoin => {
            wait_until(&mut child, "the last checkpoint", || checkpoint_frames(&case.output) == Some(case.frames))
        }
    }
    let before = checkpoint_frames(&case.output);
    signal(&child, "INT");
    let (status, stderr) = finish(child);
    if stderr.contains("panicked") {
        problems.push(format!("panicked: {stderr}"));
    }
    match case.point {
        Point::DuringJoin => {
            // The work was done before the signal: the output is complete.
            if status.code() != Some(0) || frames_of(&case.output) != case.frames {
                problems.push(format!("exit {status}, {} frames: {stderr}", frames_of(&case.output)));
            }
        }
        _ => {
            if status.code() != Some(130) {
                problems.push(format!("exit {status} instead of 130: {stderr}"));
            }
            let after = checkpoint_frames(&case.output);
            if before.is_some() && after.is_none_or(|after| after < before.unwrap_or(0)) {
                problems.push(format!("checkpoint lost: {before:?} before, {after:?} after"));
            }
            if matches!(case.point, Point::BeforeFirstCheckpoint) && after.is_none() {
                problems.push("frames were dreamed but no checkpoint kept".into());
            }
            let (held, kept) = (before.unwrap_or(0), after.unwrap_or(0));
            if kept > held + KEPT_AFTER_THE_SIGNAL || kept >= case.frames {
                problems.push(format!("dreamed on after the signal: {held} frames held before it, {kept} after"));
            }
        }
    }
    problems.into_iter().map(|p| format!("{} at {:?}: {p}", case.name, case.point)).collect()
}

#[test]
fn ctrl_c_stops_every_pipeline_at_every_point_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    tiny_clip(&clip, 48);
    let real = sample("vtest.avi");
    let chelsea = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chelsea.png");
    let s = |text: &str| text.to_string();
    let mut number = 0;
    let mut out = |ext: &str| {
        number += 1;
        dir.path().join(format!("out{number}.{ext}"))
    };
    let footage = |input: &Path, extra: &[&str]| {
        // Checkpoints 16 frames apart leave a wide window to signal before the first one.
        let mut args = vec![s("video"), input.to_str().unwrap().to_string(), s("--checkpoint-every"), s("16")];
        args.extend(extra.iter().map(|a| s(a)));
        args
    };
    let zoom = |frames: &str| {
        let chelsea = chelsea.to_str().unwrap().to_string();
        vec![s("zoom"), chelsea, s("--frames"), s(frames), s("--width"), s("64"), s("--checkpoint-every"), s("16")]
    };
    let slow_decode = vec![("DREAMREEL_SLOW_DECODE_MS", "150")];
    let slow_encode = vec![("DREAMREEL_SLOW_ENCODE_MS", "150")];
    let slow_join = vec![("DREAMREEL_SLOW_JOIN_MS", "800")];
    let real_args = footage(&real, &["--width", "64", "--frames", "40"]);
    let case = |name, args: &Vec<String>, output, env: &Vec<_>, point, frames| Interrupt {
        name,
        args: args.clone(),
        output,
        env: env.clone(),
        point,
        frames,
    };
    let none = vec![];
    // 20 ms a frame in the encoder: still a decoder that fills its channel, but a window wide
    // enough to signal between the first segment and the first checkpoint on a busy machine.
    let paced = vec![("DREAMREEL_SLOW_ENCODE_MS", "20")];
    let clip_args = footage(&clip, &[]);
    let cases = [
        case("footage", &clip_args, out("mp4"), &none, Point::BeforeFirstFrame, 48),
        case("footage", &clip_args, out("mp4"), &paced, Point::BeforeFirstCheckpoint, 48),
        case("footage", &clip_args, out("mp4"), &none, Point::AfterFirstCheckpoint, 48),
        case("footage", &clip_args, out("mp4"), &slow_join, Point::DuringJoin, 48),
        case("footage, slow decoder", &clip_args, out("mp4"), &slow_decode, Point::BeforeFirstCheckpoint, 48),
        case("footage, slow decoder", &clip_args, out("mp4"), &slow_decode, Point::AfterFirstCheckpoint, 48),
        case("footage, slow encoder", &clip_args, out("mp4"), &slow_encode, Point::BeforeFirstCheckpoint, 48),
        case("footage, slow encoder", &clip_args, out("mp4"), &slow_encode, Point::AfterFirstCheckpoint, 48),
        case("footage, frames", &clip_args, dir.path().join("frames/%03d.png"), &none, Point::AfterFirstCheckpoint, 48),
        case("vtest.avi", &real_args, out("mp4"), &none, Point::BeforeFirstFrame, 40),
        case("vtest.avi", &real_args, out("mp4"), &none, Point::AfterFirstCheckpoint, 40),
        case("vtest.avi, slow encoder", &real_args, out("mp4"), &slow_encode, Point::BeforeFirstCheckpoint, 40),
        case("zoom", &zoom("48"), out("mp4"), &none, Point::BeforeFirstFrame, 48),
        case("zoom", &zoom("48"), out("mp4"), &none, Point::AfterFirstCheckpoint, 48),
        case("zoom", &zoom("16"), out("mp4"), &slow_join, Point::DuringJoin, 16),
        case("zoom, slow encoder", &zoom("48"), out("mp4"), &slow_encode, Point::BeforeFirstCheckpoint, 48),
    ];
    let problems: Vec<String> = cases.iter().flat_map(run_interrupt).collect();
    assert!(problems.is_empty(), "{problems:#?}");

    // The real footage interrupted after its first checkpoint resumes to every frame.
    let output = &cases[10].output;
    let status =
        dreamreel_process().args(&real_args).arg("-o").arg(output).args(TINY).arg("--resume").output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    assert_eq!(frames_of(output), 40);
    assert!(!work_folder(output).exists());
}

#[test]
fn a_batch_stops_on_ctrl_c_within_the_frame_in_hand_and_keeps_the_checkpoint() {
    // One job at a time, then two at once as under `--devices 0,1` (run on the CPU by a test hook).
    for devices in [None, Some("0,1")] {
        let dir = tempfile::tempdir().unwrap();
        tiny_clip(&dir.path().join("clip.mp4"), 48);
        let job = |output: &str| {
            format!(
                "[[job]]\nmode = \"video\"\ninput = \"clip.mp4\"\noutput = \"{output}\"\noctaves = 1\niterations = 1\n\
                 device = \"cpu\"\nthreads = 1\n"
            )
        };
        let manifest = dir.path().join("m.toml");
        std::fs::write(&manifest, job("a.mp4") + "\n" + &job("b.mp4")).unwrap();
        let (first, second) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"));
        let mut command = dreamreel_process();
        command.arg("batch").arg(&manifest).env("DREAMREEL_SLOW_DECODE_MS", "20");
        if let Some(devices) = devices {
            command.args(["--devices", devices]).env("DREAMREEL_TEST_DEVICES_ON_CPU", "1");
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        wait_until(&mut child, "job 1's first checkpoint", || checkpoint_frames(&first).is_some());
        let held = checkpoint_frames(&first).unwrap_or(0);
        signal(&child, "INT");
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(130), "{devices:?}: {}", String::from_utf8_lossy(&output.stderr));
        let summary = String::from_utf8_lossy(&output.stdout);
        let kept = checkpoint_frames(&first).expect("checkpoint lost");
        assert!(kept >= 24, "checkpoint lost: {kept} frames");
        assert!(
            kept <= held + KEPT_AFTER_THE_SIGNAL && kept < 48,
            "{devices:?}: dreamed on after the signal: {held} frames held before it, {kept} after"
        );
        if devices.is_some() {
            assert_eq!(summary.matches("interrupted").count(), 2, "both jobs ran at once: {summary}");
            assert!(checkpoint_frames(&second).is_some(), "job 2's checkpoint lost: {summary}");
        } else {
            assert!(summary.contains("interrupted") && summary.contains("not run"), "{summary}");
            assert!(!second.exists());
        }
    }
}

#[test]
fn sigterm_stops_like_ctrl_c_with_143_and_a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("z.mp4");
    let zoom = |output: &Path, slow_ms: &str| {
        dreamreel_process()
            .args(["zoom", "noise", "--frames", "200", "--width", "48", "--height", "32", "--checkpoint-every", "4"])
            .arg("-o")
            .arg(output)
            .args(TINY)
            .env("DREAMREEL_SLOW_ENCODE_MS", slow_ms)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = zoom(&output, "20");
    wait_until(&mut child, "a first checkpoint", || checkpoint_frames(&output).is_some());
    let held = checkpoint_frames(&output).unwrap_or(0);
    signal(&child, "TERM");
    let (status, stderr) = finish(child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("SIGTERM: stopping after this frame"), "{stderr}");
    let kept = checkpoint_frames(&output).expect("checkpoint lost");
    // Checkpoints 4 frames apart here, not 16.
    assert!(kept <= held + 4 + 2 + 1 + 1, "dreamed on after SIGTERM: {held} frames held before it, {kept} after");

    // An encoder taking 1.5 s a frame makes the orderly stop slow; the second signal cuts it short.
    let output = dir.path().join("y.mp4");
    let mut child = zoom(&output, "1500");
    let partial = work_folder(&output).join(".segment-00000000.dreamreel-partial.mkv");
    wait_until(&mut child, "a first segment", || partial.exists());
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, "INT");
    let (status, stderr) = finish(child);
    // The first signal decides the exit code of an orderly stop (143 here); 130 is the second
    // signal's stop at once, which does not wait for the encoder to close its segment and keep a
    // checkpoint of it.
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(checkpoint_frames(&output), None, "the stop waited for the encoder: {stderr}");
    assert!(!output.exists(), "a render stopped at once leaves no output");
}

#[test]
fn a_checkpoint_is_kept_by_every_run_that_does_not_start_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    tiny_clip(&clip, 24);
    std::fs::write(dir.path().join("notes.mp4"), "not a video\n").unwrap();
    std::fs::create_dir(dir.path().join("folder.mp4")).unwrap();
    let output = dir.path().join("film.mp4");
    let render = |input: &str, output: &Path, extra: &[&str]| {
        dreamreel_process()
            .arg("video")
            .arg(dir.path().join(input))
            .arg("-o")
            .arg(output)
            .args(TINY)
            .args(["--checkpoint-every", "4"])
            .args(extra)
            .output()
            .unwrap()
    };
    // A checkpoint at frame 8 or more, as a long render interrupted would leave.
    let mut child = dreamreel_process()
        .arg("video")
        .arg(&clip)
        .arg("-o")
        .arg(&output)
        .args(TINY)
        .args(["--checkpoint-every", "4"])
        .env("DREAMREEL_SLOW_ENCODE_MS", "40")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(&mut child, "a checkpoint", || checkpoint_frames(&output).is_some_and(|f| f >= 8));
    signal(&child, "INT");
    assert_eq!(finish(child).0.code(), Some(130));
    let kept = snapshot(&work_folder(&output));
    let cases: [(&str, &str, PathBuf, Vec<&str>); 7] = [
        ("typo input", "typo.mp4", output.clone(), vec![]),
        ("input not a video", "notes.mp4", output.clone(), vec![]),
        ("input a folder", "folder.mp4", output.clone(), vec![]),
        ("output folder gone", "clip.mp4", dir.path().join("gone/film.mp4"), vec![]),
        ("same command without --resume", "clip.mp4", output.clone(), vec![]),
        ("settings changed", "clip.mp4", output.clone(), vec!["--blend", "0.7"]),
        ("settings changed with --resume", "clip.mp4", output.clone(), vec!["--blend", "0.7", "--resume"]),
    ];
    let expected = [
        "typo.mp4: file not found",
        "notes.mp4: not a media file",
        // A folder is read as an image sequence: this one holds no numbered images.
        "folder.mp4: holds no numbered images",
        "does not exist",
        "add --resume to continue it or --restart to discard it",
        "add --resume to continue it or --restart to discard it",
        "blend (was 0.5, now 0.7)",
    ];
    for ((name, input, out, extra), expected) in cases.iter().zip(expected) {
        let result = render(input, out, extra);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected) && stderr.trim_end().lines().count() == 1, "{name}: {stderr}");
        assert!(snapshot(&work_folder(&output)) == kept, "{name}: the checkpoint changed");
    }
    // --restart discards it (an earlier output, here the interrupted render's partial file,
    // needs -y), --resume continues it.
    let restarted = dir.path().join("again.mp4");
    std::fs::copy(dir.path().join("film.partial.mp4"), &restarted).unwrap();
    std::fs::create_dir(work_folder(&restarted)).unwrap();
    for (name, bytes) in &kept {
        std::fs::write(work_folder(&restarted).join(name), bytes).unwrap();
    }
    let refused = render("clip.mp4", &restarted, &["--restart"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists: add -y"));
    let result = render("clip.mp4", &restarted, &["--restart", "-y"]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert!(!String::from_utf8_lossy(&result.stderr).contains("resum"));
    let result = render("clip.mp4", &output, &["--resume"]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    assert_eq!((frames_of(&output), frames_of(&restarted)), (24, 24));
}

#[test]
fn an_existing_output_is_refused_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    tiny_clip(&clip, 3);
    let chelsea = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chelsea.png");
    let chelsea = chelsea.to_str().unwrap();
    let clip = clip.to_str().unwrap();
    let commands: [(&str, Vec<&str>); 3] = [
        ("o.png", vec!["still", chelsea, "--width", "48"]),
        ("z.mp4", vec!["zoom", chelsea, "--width", "48", "--frames", "2"]),
        ("v.mp4", vec!["video", clip]),
    ];
    for (name, args) in commands {
        let output = dir.path().join(name);
        std::fs::write(&output, "an earlier render").unwrap();
        let run = |extra: &[&str]| {
            dreamreel_process().args(&args).arg("-o").arg(&output).args(TINY).args(extra).output().unwrap()
        };
        let refused = run(&[]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}: already exists: add -y (--overwrite) to replace it")), "{stderr}");
        assert_eq!(std::fs::read(&output).unwrap(), b"an earlier render");
        for flag in ["-y", "--overwrite"] {
            let replaced = run(&[flag]);
            assert!(replaced.status.success(), "{name} {flag}: {}", String::from_utf8_lossy(&replaced.stderr));
            assert_ne!(std::fs::read(&output).unwrap(), b"an earlier render");
            std::fs::write(&output, "an earlier render").unwrap();
        }
    }
    // An image sequence exists when its first frame does.
    let frames = dir.path().join("frames/%03d.png");
    let sequence = |extra: &[&str]| {
        let args = ["zoom", "noise", "--width", "32", "--height", "32", "--frames", "2"];
        dreamreel_process().args(args).arg("-o").arg(&frames).args(TINY).args(extra).output().unwrap()
    };
    assert!(sequence(&[]).status.success());
    let refused = sequence(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("001.png: already exists: add -y"));
    assert!(sequence(&["-y"]).status.success());

    // Batch: a finished output is skipped, --force renders it again.
    let manifest = dir.path().join("m.toml");
    let quick = "octaves = 1\niterations = 1\ndevice = \"cpu\"\nthreads = 1\nwidth = 48\n";
    std::fs::write(&manifest, format!("[[job]]\nmode = \"still\"\ninput = \"{chelsea}\"\noutput = \"o.png\"\n{quick}"))
        .unwrap();
    let skipped = dreamreel_process().arg("batch").arg(&manifest).output().unwrap();
    assert!(skipped.status.success() && String::from_utf8_lossy(&skipped.stdout).contains("skipped"));
    assert_eq!(std::fs::read(dir.path().join("o.png")).unwrap(), b"an earlier render");
    let forced = dreamreel_process().arg("batch").arg(&manifest).arg("--force").output().unwrap();
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    assert_ne!(std::fs::read(dir.path().join("o.png")).unwrap(), b"an earlier render");
}

#[test]
fn a_batch_checks_every_job_before_the_first_starts() {
    let dir = tempfile::tempdir().unwrap();
    tiny_clip(&dir.path().join("clip.mp4"), 3);
    std::fs::write(dir.path().join("notes.mp4"), "not a video\n").unwrap();
    // A batch makes a missing output folder, but not through a file in its way.
    std::fs::write(dir.path().join("gone"), "a file, not a folder\n").unwrap();
    let chelsea = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chelsea.png");
    let job = |mode: &str, input: &str, output: &str| {
        let frames = if mode == "still" { "" } else { "frames = 1\n" };
        format!("[[job]]\nmode = \"{mode}\"\ninput = \"{input}\"\noutput = \"{output}\"\n{frames}octaves = 1\n")
    };
    let manifest = dir.path().join("m.toml");
    let jobs = [
        job("still", chelsea.to_str().unwrap(), "first.png"),
        job("video", "clip.mp4", "ok.mp4"),
        job("video", "missing.mp4", "a.mp4"),
        job("video", "notes.mp4", "b.mp4"),
        job("zoom", chelsea.to_str().unwrap(), "gone/c.mp4"),
        job("still", "notes.mp4", "d.png"),
        job("still", chelsea.to_str().unwrap(), "e.png") + "weights = \"nothing.pth\"\n",
        job("still", chelsea.to_str().unwrap(), "f.png") + "layers = \"blocks.99\"\n",
        job("zoom", chelsea.to_str().unwrap(), "g.mp4") + "channels = [\"blocks.3:9999\"]\n",
        job("still", chelsea.to_str().unwrap(), "h.png") + "guide = \"no-guide.png\"\n",
    ];
    std::fs::write(&manifest, jobs.join("\n")).unwrap();
    let out = dreamreel_process().arg("batch").arg(&manifest).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let expected = [
        "job 3: ",
        "missing.mp4: file not found",
        "job 4: ",
        "notes.mp4: not a media file",
        "job 5: ",
        "gone' cannot be made",
        "job 6: ",
        "notes.mp4: not an image",
        "job 7: ",
        "nothing.pth: weights file not found",
        "job 8: ",
        "layers: 'blocks.99' is not a layer of lite0",
        "job 9: ",
        "channels: channel 9999 of blocks.3",
        "job 10: ",
        "no-guide.png",
    ];
    assert_eq!(lines.len(), 9, "one line per bad job and a total: {stderr}");
    for (line, pair) in lines.iter().zip(expected.chunks(2)) {
        assert!(line.contains(pair[0]) && line.contains(pair[1]), "{line} should hold {pair:?}");
    }
    assert!(lines[8].contains("8 job(s) cannot run: nothing was started"), "{stderr}");
    assert!(!dir.path().join("first.png").exists(), "job 1 ran before the check");
}

#[test]
fn progress_is_a_plain_line_every_few_seconds_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("z.mp4");
    let zoom = ["zoom", "noise", "--frames", "12", "--width", "48", "--height", "32"];
    let out = dreamreel_process()
        .args(zoom)
        .arg("-o")
        .arg(&output)
        .args(TINY)
        .env("DREAMREEL_SLOW_ENCODE_MS", "100")
        .env("DREAMREEL_PROGRESS_SECONDS", "0.3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("dreamreel: ") && l.contains(" frames, ")).collect();
    assert!(lines.len() >= 2, "expected progress lines: {stderr}");
    for line in &lines {
        let (head, rest) = line.split_once(" frames, ").unwrap();
        let done = head.trim_start_matches("dreamreel: ");
        assert!(done.ends_with("/12") && done.split('/').next().unwrap().parse::<u64>().is_ok(), "{line}");
        assert!(rest.contains(" frames/s, ETA "), "{line}");
    }
    let quiet =
        dreamreel_process().args(zoom).arg("-o").arg(&output).args(TINY).args(["-y", "--quiet"]).output().unwrap();
    assert!(quiet.status.success() && quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));

    // Batch: the same lines headed by the job, and a line per finished job.
    let manifest = dir.path().join("m.toml");
    let job = "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\nframes = 12\nwidth = 48\nheight = 32\noctaves = 1\n\
               iterations = 1\ndevice = \"cpu\"\nthreads = 1\n";
    std::fs::write(&manifest, format!("{job}output = \"a.mp4\"\n\n{job}output = \"b.mp4\"\n")).unwrap();
    let out = dreamreel_process()
        .arg("batch")
        .arg(&manifest)
        .env("DREAMREEL_SLOW_ENCODE_MS", "100")
        .env("DREAMREEL_PROGRESS_SECONDS", "0.3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for number in [1, 2] {
        assert!(stderr.contains(&format!("job {number}: done: 12 frames in ")), "{stderr}");
        assert!(
            stderr.lines().any(|l| l.starts_with(&format!("job {number}: ")) && l.contains("/12 frames, ")),
            "{stderr}"
        );
    }
}
