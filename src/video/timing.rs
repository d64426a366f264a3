//! Where a container's time starts.
#![cfg(feature = "video")]
use ffmpeg_next as ffmpeg;

/// The container's start time in seconds (0 when unknown): the origin of all `start_seconds`.
pub(crate) fn container_start_seconds(ictx: &ffmpeg::format::context::Input) -> f64 {
    // SAFETY: reading a plain field of a valid, open AVFormatContext.
    let start = unsafe { (*ictx.as_ptr()).start_time };
    if start == ffmpeg::ffi::AV_NOPTS_VALUE { 0.0 } else { start as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE) }
}
