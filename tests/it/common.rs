//! Helpers shared by the integration tests. Every run of the binary is isolated from the user's
//! own configuration (`XDG_CONFIG_HOME` points nowhere), so a user's presets never change a result.
#![allow(dead_code)]

use dreamreel::frame::image_io::{image_to_tensor, load_image};
use dreamreel::model::kind::ModelKind;
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::Network;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use tch::{Device, Tensor};

/// The binary under test, as `assert_cmd` runs it, isolated from the user's config.
pub fn dreamreel() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_dreamreel"));
    command.env("XDG_CONFIG_HOME", "/nonexistent/dreamreel-tests");
    command
}

/// The binary as a plain process (to signal, wait for or time it), isolated from the user's
/// config, with no standard input.
pub fn dreamreel_process() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dreamreel"));
    command.env("XDG_CONFIG_HOME", "/nonexistent/dreamreel-tests").stdin(Stdio::null());
    command
}

/// The least dream a render takes: one octave, one step, on one CPU thread.
pub const QUICK_DREAM: [&str; 8] = ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1"];

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `dreamreel ARGS` with [`QUICK_DREAM`] and the variables `env`: its exit code and stderr.
pub fn quick(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = dreamreel().args(args).args(QUICK_DREAM).envs(env.iter().copied()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs FFmpeg quietly, overwriting, and asserts that it succeeded.
pub fn ffmpeg(args: &[&str]) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg {args:?}");
}

/// A clip of FFmpeg's test pattern, `size` at `rate` fps for `seconds`, with a 440 Hz tone
/// encoded by `sound_encoder` ("libvorbis", "libopus", "aac"), written to `path` (its extension
/// picks the container): footage with the sound a test needs.
pub fn clip_with_sound(path: &Path, size: &str, rate: u32, seconds: f64, sound_encoder: &str) {
    let picture = format!("testsrc=size={size}:rate={rate}:duration={seconds}");
    let tone = format!("sine=frequency=440:duration={seconds}");
    let codecs = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", sound_encoder];
    let path = path.to_str().unwrap();
    ffmpeg(&[&["-f", "lavfi", "-i", &picture, "-f", "lavfi", "-i", &tone][..], &codecs, &[path]].concat());
}

/// `samples/chelsea.png` (the cat) at `width` (or its own size), as a 1 x 3 x H x W tensor on the CPU.
pub fn chelsea(width: impl Into<Option<u32>>) -> Tensor {
    image_to_tensor(&load_image(Path::new("samples/chelsea.png"), width.into()).unwrap(), Device::Cpu).unwrap()
}

/// EfficientNet-Lite0 with its installed weights on the CPU, prepared as renders prepare it.
pub fn lite0() -> Network {
    lite0_with(NetworkOptions::default())
}

/// EfficientNet-Lite0 on the CPU, prepared by `options`.
pub fn lite0_with(options: NetworkOptions) -> Network {
    Network::load_installed(ModelKind::Lite0, Device::Cpu, options).expect("run scripts/setup.sh first")
}

/// A sample that `scripts/test.sh` extracts from a registry package (`bikes.mp4`, `vtest.avi`).
pub fn sample(name: &str) -> PathBuf {
    let home = std::env::var_os("DREAMREEL_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/dreamreel"));
    let path = home.join("samples").join(name);
    assert!(path.is_file(), "{} is missing: run scripts/test.sh", path.display());
    path
}

/// Waits for a render that was signalled to stop (two minutes at most, else it is killed and the
/// test fails: a guard against a hang, not a measure of speed): its exit status and its stderr.
pub fn finish(mut child: Child) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the render did not stop within two minutes of the signal");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    (status, String::from_utf8_lossy(&stderr).into_owned())
}

/// The work folder a resumable render keeps beside `output` (a `%` of a pattern becomes `_`).
pub fn work_folder(output: &Path) -> PathBuf {
    let name = output.file_name().unwrap().to_string_lossy().replace('%', "_");
    output.parent().unwrap().join(format!(".{name}.dreamreel"))
}

/// The frames a render's checkpoint says are done, if it has one.
pub fn checkpoint_frames(output: &Path) -> Option<u64> {
    let bytes = std::fs::read(work_folder(output).join("checkpoint.json")).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["frames_done"].as_u64()
}

/// Asserts that `dreamreel ARGS` is refused: exit 2, one line naming `expected`, no panic.
pub fn refused(args: &[&str], expected: &str) {
    let out = dreamreel().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: expected '{expected}' in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
}

/// Asserts that `dreamreel ARGS` is refused with exit 2 and exactly `dreamreel: MESSAGE`.
pub fn refused_exactly(args: &[&str], message: &str) {
    let out = dreamreel().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end(), format!("dreamreel: {message}"), "{args:?}");
}

/// Sends the signal `name` (`TERM`, `INT`, `KILL`) to a running render.
pub fn signal(child: &Child, name: &str) {
    let status =
        std::process::Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Held by each test that keeps every core busy (libtorch's OpenMP threads, in-process or in the
/// binary), whatever its module: two of them at once fight at OpenMP's barriers and took three to
/// six times as long as one after the other. Tests on one torch thread (`--threads 1`) run beside
/// them. Dropped at the end of the test; a failed test's poison is ignored.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static CORES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CORES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `cmd` and SIGKILLs it once its checkpoint records at least `frames` frames (two minutes
/// at most, else the test fails).
pub fn kill_after_checkpoint(mut cmd: std::process::Command, output: &Path, frames: u64) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no checkpoint of {frames} frames appeared");
        assert!(child.try_wait().unwrap().is_none(), "the render ended before it could be killed");
        if checkpoint_frames(output).is_some_and(|done| done >= frames) {
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            child.wait().unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The PNG files in `folder`, sorted by name.
pub fn sorted_pngs(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "png"));
    files.sort();
    files
}

/// The dream parameters of constant `settings` on `network`, as a render builds them.
pub fn dream_params(
    settings: &dreamreel::config::settings::Settings,
    network: &dreamreel::model::network::Network,
) -> dreamreel::engine::ascent::DreamParams {
    let spec = dreamreel::job::DreamSpec::of(settings);
    let plan = dreamreel::job::plan::PlanSpec::of(settings, 1.0);
    dreamreel::run::dream_setup::dream_params(&spec, plan.constants(), network).unwrap()
}
