//! Links libtorch_cuda even though no symbol of it is used directly (the linker's `--as-needed`
//! would drop it, and CUDA would never be seen), and sets an rpath to libtorch's folder so the
//! binary runs without LD_LIBRARY_PATH. With the `video` feature it also compiles the optical-flow
//! shim (csrc/dis_flow.cpp) against OpenCV's core, imgproc and video modules.
use std::path::Path;

fn main() {
    if std::env::var_os("CARGO_FEATURE_VIDEO").is_some() {
        build_flow_shim();
    }
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
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
