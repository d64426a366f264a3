//! Links libtorch_cuda even though no symbol of it is used directly (the linker's `--as-needed`
//! would drop it, and CUDA would never be seen), and sets an rpath to libtorch's folder so the
//! binary runs without LD_LIBRARY_PATH. Also records libtorch's version for `--version`.
//!
//! Also compiles the CUDA-graph shim (`csrc/cuda_graph.cpp`, see `src/cuda_graph.rs`): against
//! libtorch's headers and the CUDA runtime headers when libtorch is a CUDA build and those headers
//! are found (the torch wheel's `nvidia-*` packages ship them), else as a stub that reports
//! "unavailable". `DREAMREEL_CUDA_GRAPHS=0` forces the stub.
//!
//! With the `video` feature it also compiles the optical-flow shim (csrc/dis_flow.cpp) against
//! OpenCV's core, imgproc and video modules.
use std::path::{Path, PathBuf};

fn main() {
    if std::env::var_os("CARGO_FEATURE_VIDEO").is_some() {
        build_flow_shim();
    }
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=DREAMREEL_CUDA_GRAPHS");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    println!("cargo:rerun-if-changed=csrc/cuda_graph.cpp");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok().map(PathBuf::from);
    if let Some(lib) = &lib {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        println!("cargo:rustc-env=DREAMREEL_LIBTORCH_VERSION={}", libtorch_version(lib));
        if lib.join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
    let cuda = lib.as_deref().and_then(cuda_build);
    let mut build = cc::Build::new();
    build.cpp(true).file("csrc/cuda_graph.cpp").flag_if_supported("-std=c++17").warnings(false);
    build.flag_if_supported("-Wno-interference-size");
    if let Some((_, include, cuda_include, _)) = &cuda {
        build.define("DREAMREEL_CUDA", None).include(include).include(cuda_include);
        // libtorch's headers need its ABI flag; the PyPI wheels are built with the new ABI.
        build.define("_GLIBCXX_USE_CXX11_ABI", "1");
    } else {
        println!("cargo:warning=dreamreel: CUDA-graph shim built as a stub (no CUDA libtorch or CUDA headers)");
    }
    build.compile("dreamreel_cuda_graph");
    println!("cargo::rustc-check-cfg=cfg(dreamreel_cuda_shim)");
    // After the archive, so that the linker resolves its symbols from these.
    if let Some((lib, _, _, cudart)) = &cuda {
        println!("cargo:rustc-link-search=native={}", lib.display());
        for name in ["torch_cuda", "c10_cuda", "c10"] {
            println!("cargo:rustc-link-lib=dylib={name}");
        }
        if let Some(cudart) = cudart {
            // The wheel ships only libcudart.so.N (no unversioned name for -l), and an rpath to it.
            println!("cargo:rustc-link-arg={}", cudart.display());
            if let Some(dir) = cudart.parent() {
                println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
            }
        }
        println!("cargo:rustc-cfg=dreamreel_cuda_shim");
    }
}

/// libtorch's folder, its include folder, the CUDA runtime headers and libcudart, when this
/// libtorch is a CUDA build and all of them are here.
fn cuda_build(lib: &Path) -> Option<(PathBuf, PathBuf, PathBuf, Option<PathBuf>)> {
    if std::env::var("DREAMREEL_CUDA_GRAPHS").is_ok_and(|v| v == "0") || !lib.join("libc10_cuda.so").exists() {
        return None;
    }
    let include = lib.parent()?.join("include");
    if !include.join("ATen/cuda/CUDAGraph.h").exists() {
        return None;
    }
    // The wheel's CUDA packages: nvidia/cu13/{include,lib} (CUDA 13) or nvidia/cuda_runtime/... (12);
    // else a toolkit under $CUDA_HOME or /usr/local/cuda.
    let site = lib.parent()?.parent()?.join("nvidia");
    let mut roots: Vec<PathBuf> =
        std::fs::read_dir(&site).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    roots.sort();
    roots.extend(std::env::var_os("CUDA_HOME").map(PathBuf::from));
    roots.push(PathBuf::from("/usr/local/cuda"));
    // crt/host_config.h comes from the `nvidia-cuda-crt` wheel (scripts/setup.sh installs it).
    let headers =
        |r: &PathBuf| r.join("include/cuda_runtime_api.h").exists() && r.join("include/crt/host_config.h").exists();
    let root = roots.into_iter().find(headers)?;
    let cudart = std::fs::read_dir(root.join("lib"))
        .into_iter()
        .chain(std::fs::read_dir(root.join("lib64")))
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libcudart.so")));
    Some((lib.to_owned(), include, root.join("include"), cudart))
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

/// OpenCV DIS flow behind one C function: a few seconds to compile, against Debian's
/// libopencv-video-dev (headers in /usr/include/opencv4; `OPENCV_INCLUDE` overrides).
fn build_flow_shim() {
    println!("cargo:rerun-if-changed=csrc/dis_flow.cpp");
    println!("cargo:rerun-if-env-changed=OPENCV_INCLUDE");
    let include = std::env::var("OPENCV_INCLUDE").unwrap_or_else(|_| "/usr/include/opencv4".into());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(include)
        .file("csrc/dis_flow.cpp")
        .warnings(false)
        .compile("dreamreel_flow");
    for module in ["opencv_video", "opencv_imgproc", "opencv_core"] {
        println!("cargo:rustc-link-lib={module}");
    }
}
