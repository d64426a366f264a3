//! What `dreamreel --version` reports: dreamreel's own version and the libtorch, CUDA, cuDNN and
//! FFmpeg it runs with, so a bug report or a farm log says exactly which stack rendered.
use tch::Cuda;

/// One line per component.
pub fn describe() -> String {
    let libtorch = option_env!("DREAMREEL_LIBTORCH_VERSION").unwrap_or("unknown");
    let mut lines = vec![format!("dreamreel {}", env!("CARGO_PKG_VERSION")), format!("libtorch {libtorch}")];
    lines.push(cuda());
    #[cfg(feature = "video")]
    lines.push(dreamreel::video::ffmpeg_version());
    #[cfg(not(feature = "video"))]
    lines.push("FFmpeg: not built in (built without the `video` feature)".into());
    lines.join("\n")
}

/// CUDA runtime and cuDNN versions as libtorch sees them, only asked when a GPU is there
/// (libtorch throws on a machine without one).
fn cuda() -> String {
    if !Cuda::is_available() {
        return "CUDA: no GPU found (the CPU is used)".into();
    }
    // SAFETY: plain getters of libtorch's global context, which catch their own exceptions.
    let (cudart, cudnn) = unsafe { (torch_sys::at_context_version_cudart(), torch_sys::at_context_version_cudnn()) };
    // Those getters leave any exception text behind; clear it so it is not blamed on the next call.
    // SAFETY: returns a malloc'd string or null; freeing it is ours.
    unsafe {
        let left = torch_sys::get_and_reset_last_err();
        if !left.is_null() {
            libc_free(left.cast());
        }
    }
    format!(
        "CUDA runtime {}, cuDNN {}, {} GPU(s)",
        dotted(cudart, &[1000, 10]),
        dotted(cudnn, &[10000, 100]),
        Cuda::device_count()
    )
}

unsafe extern "C" {
    #[link_name = "free"]
    fn libc_free(pointer: *mut std::ffi::c_void);
}

/// A packed version number as dotted parts: 13000 with [1000, 10] is 13.0; 91000 with
/// [10000, 100] is 9.10.0. Zero (unknown) stays "unknown".
fn dotted(packed: i64, divisors: &[i64]) -> String {
    if packed <= 0 {
        return "unknown".into();
    }
    let mut parts = Vec::new();
    let mut rest = packed;
    for &divisor in divisors {
        parts.push((rest / divisor).to_string());
        rest %= divisor;
    }
    parts.push(rest.to_string());
    if divisors.len() == 2 && divisors[0] == 1000 {
        // CUDA packs major * 1000 + minor * 10: the last part is always 0.
        parts.pop();
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_versions_read_as_people_write_them() {
        assert_eq!(dotted(13000, &[1000, 10]), "13.0");
        assert_eq!(dotted(12080, &[1000, 10]), "12.8");
        assert_eq!(dotted(91000, &[10000, 100]), "9.10.0");
        assert_eq!(dotted(0, &[1000, 10]), "unknown");
    }

    #[test]
    fn the_description_names_every_component() {
        let text = describe();
        assert!(text.starts_with(&format!("dreamreel {}\nlibtorch 2.", env!("CARGO_PKG_VERSION"))), "{text}");
        assert!(text.contains("CUDA"), "{text}");
        assert!(text.contains("FFmpeg"), "{text}");
    }
}
