//! Kill it anywhere, lose nothing: a seeded, bounded run that stops every kind of render with
//! SIGINT, SIGTERM or SIGKILL at a random moment (before the first frame, mid-frame, mid-checkpoint,
//! mid-join, mid-mux: random delays, with the test hooks slowing a stage), reruns the same command
//! with and without `--resume`, and checks after every step what must always hold:
//! - a finished output is never replaced by anything shorter;
//! - a part counts as finished only when all its frames are written;
//! - `--join` joins only finished parts, else exits 2 naming the unfinished part, nothing written
//!   or deleted;
//! - a resumed render's frames equal an uninterrupted render's (PNG, or `--crf 0` decoded);
//! - no file outside the render's work folder and output is deleted or changed;
//! - the exit codes are 130, 143, or death by SIGKILL (a shell's 137), then 0 on the rerun.
//!
//! Every violation is collected and reported together. The suite runs a sample
//! (`DREAMREEL_INTERRUPT_POINTS`, 30 by default, each mode 3 or 4 times; `DREAMREEL_INTERRUPT_SEED`
//! picks them), `DREAMREEL_INTERRUPT_WORKERS` points at once (3 by default: a tiny render spends
//! most of its time starting, loading libtorch); `scripts/interrupt-bench.sh N` runs hundreds.
//! What each point starts from (a finished output, a film's parts) is rendered once and copied.
#![cfg(feature = "video")]

use crate::common::{clip_with_sound, dreamreel_process, one_at_a_time, work_folder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The quickest dream, at 48 pixels.
const TINY: [&str; 12] =
    ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1", "--seed", "3", "--width", "48"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Still,
    ZoomMp4,
    ZoomFrames,
    Footage,
    Part,
    Join,
    Batch,
    OverwriteFinished,
    OverwriteSequence,
}

const MODES: [Mode; 9] = [
    Mode::Still,
    Mode::ZoomMp4,
    Mode::ZoomFrames,
    Mode::Footage,
    Mode::Part,
    Mode::Join,
    Mode::Batch,
    Mode::OverwriteFinished,
    Mode::OverwriteSequence,
];

#[derive(Clone, Copy, Debug)]
enum Signal {
    Int,
    Term,
    Kill,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
        }
    }

    /// Whether `status` is what this signal must end a render with.
    fn ended(self, status: ExitStatus) -> bool {
        match self {
            Signal::Int => status.code() == Some(130),
            Signal::Term => status.code() == Some(143),
            Signal::Kill => status.signal() == Some(9),
        }
    }
}

/// One point of the run: what is rendered, how it is stopped and when.
#[derive(Debug)]
struct Point {
    mode: Mode,
    signal: Signal,
    delay_ms: u64,
    /// The test hook that slows a stage, and its delay.
    slow: Option<(&'static str, &'static str)>,
    /// Whether the first rerun asks for `--resume` (the second always does, if it is needed).
    resume_first: bool,
}

/// The inputs every point shares, made once: a clip with sound, and the reference renders.
struct Inputs {
    dir: tempfile::TempDir,
    clip: PathBuf,
    film: PathBuf,
    references: BTreeMap<Mode, Vec<u8>>,
}

/// A render made before the points: a reference's frames, or `None` for a starting state.
type Rendering<'a> = Box<dyn FnOnce() -> Option<(Mode, Vec<u8>)> + Send + 'a>;

/// Runs each of `work` on a thread of its own, at once; their results in order.
fn all_at_once<T: Send>(work: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = work.into_iter().map(|w| scope.spawn(w)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Copies the files under `from` into `to`, folders and hidden files too.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn make_inputs() -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let film = dir.path().join("film.mp4");
    // 8 and 12 frames at 12 fps, with sound.
    clip_with_sound(&clip, "48x32", 12, 8.0 / 12.0, "aac");
    clip_with_sound(&film, "48x32", 12, 1.0, "aac");
    let mut inputs = Inputs { dir, clip, film, references: BTreeMap::new() };
    // The uninterrupted renders the resumed ones must equal, each in a folder of its own, and what
    // the points start from: a film's parts 1 and 2 (for a join), part 2 alone (for part 1's join).
    let rendered = {
        let inputs = &inputs;
        let succeed = |what: String, mut cmd: Command| {
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let mut work: Vec<Rendering<'_>> = Vec::new();
        for mode in [Mode::Still, Mode::ZoomMp4, Mode::ZoomFrames, Mode::Footage] {
            work.push(Box::new(move || {
                let folder = inputs.dir.path().join(format!("reference-{mode:?}"));
                std::fs::create_dir(&folder).unwrap();
                succeed(format!("reference {mode:?}"), command(inputs, mode, &folder, false));
                Some((mode, output_bytes(&output_of(mode, &folder))))
            }));
        }
        // A film's join is the one-process render of the film.
        work.push(Box::new(move || {
            let folder = inputs.dir.path().join("reference-film");
            std::fs::create_dir(&folder).unwrap();
            let mut one = dreamreel_process();
            one.args(["video", inputs.film.to_str().unwrap(), "-o", folder.join("one.mp4").to_str().unwrap()]);
            one.args(TINY).args(["--crf", "0", "--quiet"]);
            succeed("the one-process film".into(), one);
            Some((Mode::Join, output_bytes(&folder.join("one.mp4"))))
        }));
        for (template, parts) in [("template-join", &["1/2", "2/2"][..]), ("template-part", &["2/2"][..])] {
            work.push(Box::new(move || {
                let folder = inputs.dir.path().join(template);
                std::fs::create_dir(&folder).unwrap();
                for part in parts {
                    succeed(format!("{template}: part {part}"), part_command(inputs, &folder, part));
                }
                None
            }));
        }
        all_at_once(work)
    };
    inputs.references.extend(rendered.into_iter().flatten());
    inputs
}

/// Where a mode's render writes in `folder`.
fn output_of(mode: Mode, folder: &Path) -> PathBuf {
    match mode {
        Mode::Still => folder.join("still.png"),
        Mode::ZoomFrames | Mode::OverwriteSequence => folder.join("frames/%04d.png"),
        Mode::Batch => folder.join("out"),
        Mode::Part | Mode::Join => folder.join("film.mp4"),
        _ => folder.join("out.mp4"),
    }
}

/// The command of `mode` in `folder` (with `--resume` when `resume`).
fn command(inputs: &Inputs, mode: Mode, folder: &Path, resume: bool) -> Command {
    let out = output_of(mode, folder);
    let out = out.to_str().unwrap();
    let mut cmd = dreamreel_process();
    let zoom = ["zoom", "samples/chelsea.png", "-o", out, "--frames", "6", "--checkpoint-every", "2"];
    match mode {
        Mode::Still => cmd.args(["still", "samples/chelsea.png", "-o", out]),
        Mode::ZoomMp4 | Mode::OverwriteFinished => cmd.args(zoom).args(["--crf", "0"]),
        Mode::ZoomFrames => cmd.args(zoom),
        Mode::OverwriteSequence => cmd.args(["zoom", "samples/chelsea.png", "-o", out, "--frames", "3"]),
        Mode::Footage => cmd.args(["video", inputs.clip.to_str().unwrap(), "-o", out, "--crf", "0"]),
        Mode::Part => cmd.args(["video", inputs.film.to_str().unwrap(), "-o", out, "--crf", "0", "--part", "1/2"]),
        Mode::Join => cmd.args(["video", inputs.film.to_str().unwrap(), "-o", out, "--crf", "0", "--join"]),
        Mode::Batch => cmd.arg("batch").arg(folder.join("jobs.toml")),
    };
    if mode != Mode::Batch {
        cmd.args(TINY).arg("--quiet");
    }
    if matches!(mode, Mode::OverwriteFinished | Mode::OverwriteSequence) {
        cmd.arg("-y");
    }
    // A batch resumes an unfinished job by itself; a still and a join have nothing to resume.
    if resume && !matches!(mode, Mode::Still | Mode::Join | Mode::Batch) {
        cmd.arg("--resume");
    }
    cmd
}

/// Part `part` of the film in `folder` (`--join` as the part: the join alone).
fn part_command(inputs: &Inputs, folder: &Path, part: &str) -> Command {
    let args: Vec<String> = command(inputs, Mode::Part, folder, false)
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .map(|a| if a == "--part" && part == "--join" { "--join".into() } else { a })
        .filter(|a| !(a == "1/2" && part == "--join"))
        .map(|a| if a == "1/2" { part.to_string() } else { a })
        .collect();
    let mut cmd = dreamreel_process();
    cmd.args(args);
    cmd
}

/// What a point's folder holds before its render: earlier finished work and the user's own files.
fn prepare(inputs: &Inputs, mode: Mode, folder: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(folder.join("notes.txt"), "the user's own file\n").unwrap();
    let template = |name: &str| inputs.dir.path().join(name);
    match mode {
        Mode::OverwriteFinished => {
            std::fs::copy(output_of(Mode::ZoomMp4, &template("reference-ZoomMp4")), output_of(mode, folder)).unwrap();
        }
        Mode::Part => copy_tree(&template("template-part"), folder),
        Mode::OverwriteSequence => {
            std::fs::create_dir(folder.join("frames")).unwrap();
            let photo = std::fs::read("samples/chelsea.png").unwrap();
            for i in 1..=12 {
                let mut bytes = photo.clone();
                bytes.extend_from_slice(format!("photo {i}").as_bytes()); // each its own bytes
                std::fs::write(folder.join(format!("frames/{i:04}.png")), bytes).unwrap();
            }
        }
        Mode::Join => copy_tree(&template("template-join"), folder),
        Mode::Batch => {
            let settings = "octaves = 1\niterations = 1\ndevice = \"cpu\"\nthreads = 1\nseed = 3\nwidth = 48\n";
            let job = |mode: &str, output: &str, extra: &str| {
                format!(
                    "[[job]]\nmode = \"{mode}\"\ninput = \"{}\"\noutput = \"{output}\"\n{extra}{settings}\n",
                    Path::new("samples/chelsea.png").canonicalize().unwrap().display()
                )
            };
            std::fs::create_dir(folder.join("out")).unwrap();
            let jobs = [
                job("still", "out/a.png", ""),
                job("zoom", "out/b.mp4", "frames = 4\ncrf = 0\ncheckpoint-every = 2\n"),
                job("zoom", "out/c/%04d.png", "frames = 4\ncheckpoint-every = 2\n"),
            ];
            std::fs::write(folder.join("jobs.toml"), jobs.concat()).unwrap();
        }
        _ => {}
    }
}

/// Every file under `folder` with its bytes, by path relative to it.
fn files_in(folder: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![folder.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.insert(path.strip_prefix(folder).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// Whether `relative` (a path in a point's folder) belongs to the render of `mode`: its output,
/// its frames, its work folder or its temporary files.
fn owned_by_render(mode: Mode, relative: &Path) -> bool {
    let text = relative.to_string_lossy();
    let frame_of_render = |limit: u32| {
        text.strip_prefix("frames/")
            .and_then(|name| name.strip_suffix(".png"))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=limit).contains(&n))
    };
    text.contains(".dreamreel")
        || text.contains("partial")
        || match mode {
            Mode::Still => text.starts_with("still"),
            Mode::ZoomFrames => frame_of_render(6),
            Mode::OverwriteSequence => frame_of_render(3),
            Mode::Batch => text.starts_with("out/"),
            Mode::Part | Mode::Join => text.starts_with("film"),
            _ => text.starts_with("out"),
        }
}

/// A render's output as bytes to compare: a picture's or a sequence's files, a video's decoded
/// frames (RGB, lossless at `--crf 0`).
fn output_bytes(output: &Path) -> Vec<u8> {
    let text = output.to_string_lossy();
    if text.contains('%') {
        let folder = output.parent().unwrap();
        return crate::common::sorted_pngs(folder)
            .iter()
            .filter(|p| p.file_name().unwrap().len() == 8)
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect();
    }
    if text.ends_with(".png") {
        return std::fs::read(output).unwrap_or_default();
    }
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i", output.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    if out.status.success() { out.stdout } else { Vec::new() }
}

/// Whether the render of `mode` in `folder` has done all its work: its output is the uninterrupted
/// render's (or, for a part, its record says all its frames are written).
fn complete(inputs: &Inputs, mode: Mode, folder: &Path) -> bool {
    let output = output_of(mode, folder);
    match mode {
        Mode::Part => std::fs::read(work_folder(&output).join(".part-0001-of-0002.dreamreel/part.json")).is_ok(),
        Mode::OverwriteFinished => {
            !work_folder(&output).exists() && output_bytes(&output) == inputs.references[&Mode::ZoomMp4]
        }
        Mode::Batch | Mode::OverwriteSequence => false,
        Mode::ZoomFrames => !work_folder(&output).exists() && output_bytes(&output) == inputs.references[&mode],
        mode => output.exists() && output_bytes(&output) == inputs.references[&mode],
    }
}

/// Frames decoded from a video (0 when it cannot be read).
fn frames_decoded(video: &Path) -> usize {
    output_bytes(video).len() / (48 * 32 * 3)
}

/// Waits (at most 60 s) until process `pid` catches SIGINT and SIGTERM (`SigCgt` in its
/// `/proc` status), or has ended.
pub(crate) fn handling_signals(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return };
        if status.lines().any(|l| l.starts_with("State:") && l.contains("Z")) {
            return;
        }
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        // Bits 2 (SIGINT) and 15 (SIGTERM), counted from 1.
        if caught & (1 << 1) != 0 && caught & (1 << 14) != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs one point; its violations, each naming the point, and whether the signal found the
/// render still running.
fn run_point(inputs: &Inputs, number: usize, point: &Point) -> (Vec<String>, bool) {
    let mut signalled = false;
    let violations = run_point_signalled(inputs, number, point, &mut signalled);
    (violations, signalled)
}

fn run_point_signalled(inputs: &Inputs, number: usize, point: &Point, signalled_out: &mut bool) -> Vec<String> {
    let mut violations = Vec::new();
    let mut violated = |what: String| violations.push(format!("point {number} {point:?}: {what}"));
    let folder = inputs.dir.path().join(format!("point-{number}"));
    prepare(inputs, point.mode, &folder);
    let output = output_of(point.mode, &folder);
    let before = files_in(&folder);
    let finished_before = (point.mode == Mode::OverwriteFinished).then(|| output_bytes(&output));

    // The render, stopped.
    let mut cmd = command(inputs, point.mode, &folder, false);
    if let Some((name, value)) = point.slow {
        cmd.env(name, value);
    }
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    // The delay counts from `main` (the handler installed): no program can act on a signal that
    // arrives while the loader is still mapping libtorch.
    handling_signals(child.id());
    // Until the moment drawn, or the render's end if it comes first.
    let moment = Instant::now() + Duration::from_millis(point.delay_ms);
    while Instant::now() < moment && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let signalled = child.try_wait().unwrap().is_none();
    *signalled_out = signalled;
    if signalled {
        // To the render itself: a background child of a non-interactive shell may ignore SIGINT.
        let status =
            Command::new("kill").args([&format!("-{}", point.signal.name()), &child.id().to_string()]).status();
        assert!(status.unwrap().success());
    }
    let (status, stderr) = crate::common::finish(child);
    if signalled && !status.success() && !point.signal.ended(status) {
        violated(format!("stopped by SIG{} with {status:?}: {}", point.signal.name(), stderr.trim()));
    }
    // A signal that lands after the work is done (the output renamed into place, the part
    // recorded) finds a finished render: its rerun would rightly be refused ("already exists").
    let finished = status.success() || complete(inputs, point.mode, &folder);
    if stderr.contains("panicked") {
        violated(format!("a panic: {stderr}"));
    }

    // After the stop: nothing of the user's touched; a finished output not replaced by less.
    let after = files_in(&folder);
    for (path, bytes) in &before {
        // A join that is not complete must leave the parts' work folders whole.
        if owned_by_render(point.mode, path) && (point.mode != Mode::Join || finished) {
            continue;
        }
        match after.get(path) {
            None => violated(format!("{} was deleted", path.display())),
            Some(now) if now != bytes && point.mode != Mode::OverwriteFinished => {
                violated(format!("{} was changed", path.display()))
            }
            _ => {}
        }
    }
    if let Some(finished_output) = &finished_before {
        let now = output_bytes(&output);
        if now.len() < finished_output.len() {
            violated(format!(
                "the finished output was replaced by {} of its {} bytes of frames",
                now.len(),
                finished_output.len()
            ));
        }
    }
    if point.mode == Mode::Join && !finished {
        // An interrupted join leaves both parts and writes nothing under the output's name.
        if output.exists() && frames_decoded(&output) != 12 {
            violated(format!(
                "an interrupted join left {} of 12 frames in {}",
                frames_decoded(&output),
                output.display()
            ));
        }
        if !output.exists() && !work_folder(&output).exists() {
            violated("an interrupted join deleted the parts without writing the film".into());
        }
    }
    if point.mode == Mode::Part && !finished {
        check_part_record(inputs, &folder, &mut violated);
    }

    // The reruns: the same command, with or without `--resume`, then with it if refused.
    let rerun = |resume: bool| {
        let out = command(inputs, point.mode, &folder, resume).output().unwrap();
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // A render that finished before the signal is not run again (without -y it would be refused).
    if !finished {
        let (mut status, mut stderr) = rerun(point.resume_first);
        if !status.success() && !point.resume_first && stderr.contains("--resume") {
            (status, stderr) = rerun(true);
        }
        if !status.success() {
            violated(format!("the rerun exited {:?}: {}", status.code(), stderr.trim()));
            return violations;
        }
    }
    if point.mode == Mode::Part {
        // Part 2 (copied in before), then the join: the film must be whole.
        let out = part_command(inputs, &folder, "--join").output().unwrap();
        if !out.status.success() {
            violated(format!(
                "part 2 and the join exited {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        } else if output_bytes(&output) != inputs.references[&Mode::Join] {
            violated(format!("the joined film ({} frames) is not the one-process render", frames_decoded(&output)));
        }
    }
    let reference = match point.mode {
        Mode::OverwriteFinished => inputs.references.get(&Mode::ZoomMp4),
        mode => inputs.references.get(&mode),
    };
    if let Some(reference) = reference
        && output_bytes(&output) != *reference
    {
        violated(format!("the rerun's frames differ from an uninterrupted render's ({})", output.display()));
    }
    // After the rerun too, the user's files stay.
    let end = files_in(&folder);
    for path in before.keys().filter(|p| !owned_by_render(point.mode, p)) {
        if !end.contains_key(path) {
            violated(format!("{} was deleted by the rerun", path.display()));
        }
    }
    if point.mode == Mode::Batch {
        for name in ["out/a.png", "out/b.mp4", "out/c/0004.png"] {
            if !folder.join(name).exists() {
                violated(format!("the batch's rerun did not write {name}"));
            }
        }
    }
    violations
}

/// An interrupted part 1: unless all its frames are written, it does not count as finished, and
/// `--join` refuses it (exit 2, naming it, nothing written or deleted). Part 2 is there whole
/// (copied in before), so the join has only part 1 to judge.
fn check_part_record(inputs: &Inputs, folder: &Path, violated: &mut impl FnMut(String)) {
    let output = output_of(Mode::Part, folder);
    let before = files_in(folder);
    let out = part_command(inputs, folder, "--join").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        violated(format!(
            "--join accepted an interrupted part 1: '{}', {} frames of 12",
            stderr.trim(),
            frames_decoded(&output)
        ));
        // Undo what the join did, so the rerun's checks still mean something.
        let _ = std::fs::remove_file(&output);
        return;
    }
    if out.status.code() != Some(2) || !stderr.contains("part 1") {
        violated(format!("--join of an unfinished part 1 exited {:?}: {}", out.status.code(), stderr.trim()));
    }
    if files_in(folder) != before {
        violated("a refused --join wrote or deleted files".into());
    }
}

/// The points of a seed: each mode in turn, a signal, a delay and a slowed stage drawn at random.
fn points(seed: u64, count: usize) -> Vec<Point> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let mode = MODES[i % MODES.len()];
            let signal = [Signal::Int, Signal::Term, Signal::Kill][rng.random_range(0..3)];
            // Before the first frame (model loading), mid-frame, mid-checkpoint, mid-join or mid-mux.
            let slow = match (mode, rng.random_range(0..4)) {
                (Mode::Join, _) => Some(("DREAMREEL_SLOW_JOIN_MS", "600")),
                (Mode::Still, _) | (_, 0) => None,
                (_, 1) => Some(("DREAMREEL_SLOW_ENCODE_MS", "120")),
                (_, 2) => Some(("DREAMREEL_SLOW_DECODE_MS", "120")),
                _ => Some(("DREAMREEL_SLOW_JOIN_MS", "600")),
            };
            // From the handler's install: the network loads, then a tiny render takes about a second.
            Point { mode, signal, delay_ms: rng.random_range(0..1500), slow, resume_first: rng.random_bool(0.5) }
        })
        .collect()
}

/// A SIGTERM or Ctrl-C right after the start (arguments read, the network loading) ends the
/// process with 143 or 130, not by the signal: `classify` never polls the flag, a zoom polls it
/// from its render on; either way the exit code says which signal stopped it.
#[test]
fn a_signal_right_after_the_start_exits_143_or_130() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let video = dir.path().join(format!("{signal}.mp4"));
        for args in [
            vec!["classify", "samples/chelsea.png", "--device", "cpu"],
            vec!["zoom", "samples/chelsea.png", "-o", video.to_str().unwrap(), "--frames", "50", "-y"],
        ] {
            let child = dreamreel_process()
                .args(&args)
                .args(&TINY[..if args[0] == "zoom" { TINY.len() } else { 0 }])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            handling_signals(child.id());
            let kill = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
            assert!(kill.unwrap().success());
            let (status, stderr) = crate::common::finish(child);
            assert_eq!(status.code(), Some(code), "SIG{signal} to {args:?}: {status:?} {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

/// `-y` over a sequence folder removes only the frames its record says dreamreel wrote: the
/// user's own numbered files stay, before and after dreamreel's frames (issue 36, item 3).
#[test]
fn overwriting_a_sequence_keeps_the_users_numbered_files() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("photos");
    std::fs::create_dir(&frames).unwrap();
    let photo = |i: u32| format!("the user's photo {i}").into_bytes();
    for i in 1..=12 {
        std::fs::write(frames.join(format!("{i:04}.png")), photo(i)).unwrap();
    }
    let pattern = frames.join("%04d.png");
    let zoom = |count: &str| {
        let out = dreamreel_process()
            .args(["zoom", "noise", "-o", pattern.to_str().unwrap(), "--frames", count, "-y", "--quiet"])
            .args(TINY)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    zoom("3");
    for i in 4..=12 {
        assert_eq!(std::fs::read(frames.join(format!("{i:04}.png"))).unwrap(), photo(i), "photo {i} kept");
    }
    // An earlier, longer render's own frames go; the user's files past them stay.
    let remove = |range: std::ops::RangeInclusive<u32>| {
        for i in range {
            std::fs::remove_file(frames.join(format!("{i:04}.png"))).unwrap();
        }
    };
    remove(4..=12);
    zoom("6");
    for i in 7..=9 {
        std::fs::write(frames.join(format!("{i:04}.png")), photo(i)).unwrap();
    }
    zoom("3");
    let names: Vec<String> = crate::common::sorted_pngs(&frames)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["0001.png", "0002.png", "0003.png", "0007.png", "0008.png", "0009.png"]);
    for i in 7..=9 {
        assert_eq!(std::fs::read(frames.join(format!("{i:04}.png"))).unwrap(), photo(i), "photo {i} kept");
    }
}

#[test]
fn killed_anywhere_nothing_is_lost() {
    let _cores = one_at_a_time();
    let setting = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let count = setting("DREAMREEL_INTERRUPT_POINTS", 30) as usize;
    let seed = setting("DREAMREEL_INTERRUPT_SEED", 36);
    let workers = setting("DREAMREEL_INTERRUPT_WORKERS", 3).max(1) as usize;
    let inputs = make_inputs();
    let points = points(seed, count);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found = std::sync::Mutex::new((Vec::new(), BTreeMap::<String, usize>::new(), 0usize));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let number = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(point) = points.get(number) else { break };
                    let (violations, signalled) = run_point(&inputs, number, point);
                    // Each point's folder goes once it is checked: hundreds of points stay small.
                    let _ = std::fs::remove_dir_all(inputs.dir.path().join(format!("point-{number}")));
                    let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
                    if !violations.is_empty() {
                        *found.1.entry(format!("{:?}", point.mode)).or_default() += 1;
                    }
                    found.0.extend(violations);
                    found.2 += usize::from(signalled);
                }
            });
        }
    });
    let (violations, broken, signalled) = found.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut modes: BTreeMap<String, usize> = BTreeMap::new();
    for point in &points {
        *modes.entry(format!("{:?}/{}", point.mode, point.signal.name())).or_default() += 1;
    }
    eprintln!(
        "interrupts: {count} points (seed {seed}, {workers} at once; {signalled} signalled while running, the rest had finished): {} violations; points broken by mode: {broken:?}; points by mode and signal: {modes:?}",
        violations.len()
    );
    assert!(violations.is_empty(), "{} violations:\n{}", violations.len(), violations.join("\n"));
}
