//! Links libtorch_cuda even though no symbol of it is used directly (the linker's `--as-needed`
//! would drop it, and CUDA would never be seen), and sets an rpath to libtorch's folder so the
//! binary runs without LD_LIBRARY_PATH. Also records libtorch's version for `--version`.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    println!("cargo:rustc-env=DREAMREEL_LIBTORCH_VERSION={}", libtorch_version(Path::new(&lib)));
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}

/// `__version__` from the `version.py` beside a Python wheel's `lib/` (e.g. `2.11.0+cu130`), or
/// from a standalone libtorch's `build-version`; "unknown" when neither is there.
fn libtorch_version(lib: &Path) -> String {
    let root = lib.parent().unwrap_or(lib);
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        let line = text.lines().find_map(|line| line.strip_prefix("__version__ = "));
        if let Some(version) = line {
            return version.trim_matches(|c| c == '\'' || c == '"').to_string();
        }
    }
    std::fs::read_to_string(root.join("build-version")).map_or_else(|_| "unknown".into(), |v| v.trim().to_string())
}
