//! Helpers shared by the integration tests. Every run of the binary is isolated from the user's
//! own configuration (`XDG_CONFIG_HOME` points nowhere), so a user's presets never change a result.
#![allow(dead_code)]

use dreamreel::frame::image_io::{image_to_tensor, load_image};
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::{ModelKind, Network};
use std::path::{Path, PathBuf};
use std::process::Stdio;
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

/// Runs FFmpeg quietly, overwriting, and asserts that it succeeded.
pub fn ffmpeg(args: &[&str]) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg {args:?}");
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
