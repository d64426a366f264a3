//! Before `scripts/setup.sh` has run, a plain `cargo build` would fail deep inside torch-sys with
//! pages of C++ errors. This script has no dependencies, so Cargo runs it first; it stops the build
//! with one line when no libtorch can be found the ways torch-sys looks for one.
use std::path::Path;

fn main() {
    for name in ["LIBTORCH", "LIBTORCH_USE_PYTORCH", "LIBTORCH_INCLUDE"] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() || std::env::var_os("LIBTORCH_INCLUDE").is_some() {
        return;
    }
    let libtorch = std::env::var_os("LIBTORCH");
    if let Some(libtorch) = &libtorch {
        let header = Path::new(libtorch).join("include/torch/csrc/api/include/torch/torch.h");
        println!("cargo:rerun-if-changed={}", header.display());
        if header.exists() {
            return;
        }
    }
    if Path::new("/usr/lib/libtorch.so").exists() {
        return;
    }
    let place = libtorch.map_or("LIBTORCH is not set".into(), |p| format!("no libtorch at {}", p.to_string_lossy()));
    println!("cargo::error=dreamreel: libtorch is not installed ({place}): run scripts/setup.sh first");
}
