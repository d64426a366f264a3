//! FFmpeg set up once for the process: initialised, its log (and SVT-AV1's) quietened; its version.
#![cfg(feature = "video")]
use crate::video::error::VideoError;
use ffmpeg_next as ffmpeg;
use std::sync::OnceLock;

/// The FFmpeg release and libavcodec/libavformat versions this binary runs with.
pub fn ffmpeg_version() -> String {
    let packed = |v: u32| format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    // SAFETY: av_version_info returns a static NUL-terminated string.
    let release = unsafe { std::ffi::CStr::from_ptr(ffmpeg::ffi::av_version_info()) }.to_string_lossy().into_owned();
    format!(
        "FFmpeg {release} (libavcodec {}, libavformat {})",
        packed(ffmpeg::codec::version()),
        packed(ffmpeg::format::version())
    )
}

/// Initialise FFmpeg once and quiet its log to fatal errors only (our own errors name the file
/// and the problem in one line); safe to call repeatedly.
pub fn init() -> Result<(), VideoError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg::init().map_err(|e| e.to_string())?;
        ffmpeg::log::set_level(ffmpeg::log::Level::Fatal);
        route_svt_log(ffmpeg::log::Level::Fatal);
        Ok(())
    })
    .clone()
    .map_err(VideoError::Init)
}

/// SVT-AV1 prints to stderr past FFmpeg's log, at its own level read from `SVT_LOG` when an
/// encoder opens: give it FFmpeg's level (SVT: 0 fatal, 1 error, 2 warning, 3 info), unless the
/// user set one. The binary calls `init` first thing, while it has one thread.
fn route_svt_log(level: ffmpeg::log::Level) {
    use ffmpeg::log::Level;
    if std::env::var_os("SVT_LOG").is_some() {
        return;
    }
    let svt = match level {
        Level::Quiet | Level::Panic | Level::Fatal => "0",
        Level::Error => "1",
        Level::Warning => "2",
        _ => "3",
    };
    // SAFETY: set before any encoder opens; the binary gets here before it starts a thread.
    unsafe { std::env::set_var("SVT_LOG", svt) };
}
