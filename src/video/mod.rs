//! Video input/output: decode any FFmpeg-readable file into RGB frames, and
//! encode RGB frames (plus audio taken from a source file) into a container
//! or a PNG image sequence.
//!
//! All FFmpeg objects stay on the thread that created them: `VideoReader` and
//! `VideoWriter` are not `Send`; only plain data (`Frame`, infos, options) is.
//!
//! [`codec`] (the codecs a render can ask for) is always built, so settings can name a codec in a
//! build without FFmpeg; everything else needs the `video` feature.

pub mod codec;

/// Items that need FFmpeg (feature `video`), as `cfg_if` would gate them.
macro_rules! with_ffmpeg {
    ($($item:item)*) => { $( #[cfg(feature = "video")] $item )* };
}

with_ffmpeg! {

mod audio;
mod audio_samples;
mod concat;
pub mod container;
mod decode;
mod encode;
mod gif;
mod sequence;
mod sound_plan;

pub use audio_samples::decode_mono;
pub use concat::{ConcatOptions, concat_segments};
pub use concat::join_segments;
pub use sound_plan::{SoundAction, SoundPlan, SoundTrack, plan_sound};
pub use decode::{ReadOptions, VideoInfo, VideoReader};
pub use encode::{
    AudioSource, VideoWriter, WriteOptions, existing_frames, is_image_sequence, remove_frames_after, sequence_frame,
};

use std::fmt;
use std::path::Path;

/// True when `path` names an image-sequence input: a `%d` pattern or a folder of numbered images.
pub(crate) fn is_sequence_input(path: &Path) -> bool {
    path.is_dir() || is_image_sequence(path)
}
use std::sync::OnceLock;

use ffmpeg_next as ffmpeg;

pub use crate::frame::rgb::Frame;

/// A time base or frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rational {
    pub num: i32,
    pub den: i32,
}

impl Rational {
    pub fn new(num: i32, den: i32) -> Self {
        Rational { num, den }
    }

    /// The value as a float (0 when the denominator is 0).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 { 0.0 } else { f64::from(self.num) / f64::from(self.den) }
    }

    pub(crate) fn is_valid(self) -> bool {
        self.num > 0 && self.den > 0
    }
}

impl From<ffmpeg::Rational> for Rational {
    fn from(r: ffmpeg::Rational) -> Self {
        Rational::new(r.numerator(), r.denominator())
    }
}

impl From<Rational> for ffmpeg::Rational {
    fn from(r: Rational) -> Self {
        ffmpeg::Rational::new(r.num, r.den)
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Every failure of this module; each message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("FFmpeg initialisation failed: {0}")]
    Init(String),
    #[error("{path}: file not found")]
    NotFound { path: String },
    #[error("{path}: file is empty")]
    EmptyFile { path: String },
    #[error("{path}: not a media file FFmpeg can read ({reason})")]
    NotMedia { path: String, reason: String },
    /// `what` is "audio only" or "no audio or video streams".
    #[error("{path}: no video stream ({what})")]
    NoVideoStream { path: String, what: String },
    #[error("{path}: {}", unknown_extension(ext))]
    UnknownExtension { path: String, ext: String },
    #[error("{path}: codec {codec} cannot be written in .{ext}")]
    IncompatibleCodec { path: String, codec: Codec, ext: String },
    #[error("{path}: no encoder available for {what}")]
    NoEncoder { path: String, what: String },
    #[error("{path}: {what}")]
    Invalid { path: String, what: String },
    /// A span that starts after the input's last frame.
    #[error("{path}: {what}")]
    PastTheEnd { path: String, what: String },
    /// An image-sequence input with a gap, mixed names or no numbered images.
    #[error("{path}: {what}")]
    BadSequence { path: String, what: String },
    #[error("{path}: {what}: {source}")]
    Ffmpeg {
        path: String,
        what: String,
        #[source]
        source: ffmpeg::Error,
    },
    #[error("{path}: {what}: {source}")]
    Io {
        path: String,
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// "no output format for extension .avi", or for a name without one what it could be.
fn unknown_extension(ext: &str) -> String {
    if ext.is_empty() {
        return "has no extension: end it in .mp4, .mov, .mkv, .webm or .gif, or write a %05d.png sequence".into();
    }
    format!("no output format for extension .{ext}")
}

impl VideoError {
    /// The user's file or choice was wrong (exit 2), not the work (exit 1).
    pub(crate) fn is_bad_input(&self) -> bool {
        matches!(
            self,
            VideoError::NotFound { .. }
                | VideoError::EmptyFile { .. }
                | VideoError::NotMedia { .. }
                | VideoError::NoVideoStream { .. }
                | VideoError::UnknownExtension { .. }
                | VideoError::IncompatibleCodec { .. }
                | VideoError::BadSequence { .. }
                | VideoError::PastTheEnd { .. }
        )
    }

    pub(crate) fn ffmpeg(path: &Path, what: impl Into<String>, source: ffmpeg::Error) -> Self {
        VideoError::Ffmpeg { path: show(path), what: what.into(), source }
    }

    pub(crate) fn io(path: &Path, what: impl Into<String>, source: std::io::Error) -> Self {
        VideoError::Io { path: show(path), what: what.into(), source }
    }

    pub(crate) fn invalid(path: &Path, what: impl Into<String>) -> Self {
        VideoError::Invalid { path: show(path), what: what.into() }
    }
}

/// Path as shown in error messages.
pub(crate) fn show(path: &Path) -> String {
    path.display().to_string()
}

pub use codec::Codec;

/// Initialise FFmpeg once and quiet its log to fatal errors only (our own errors name the file
/// and the problem in one line); safe to call repeatedly.
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

/// Point a swscale context's YUV side at the given matrix/range (RGB side is full range).
///
/// swscale ignores frame colour tags, so without this every YUV<->RGB conversion
/// would use BT.601 limited range regardless of what the stream says.
pub(crate) fn set_sws_colorspace(
    sws: &mut ffmpeg::software::scaling::Context,
    yuv_space: ffmpeg::color::Space,
    yuv_full_range: bool,
    yuv_is_source: bool,
) {
    use ffmpeg::ffi;
    let cs = match yuv_space {
        ffmpeg::color::Space::BT709 => ffi::SWS_CS_ITU709,
        ffmpeg::color::Space::FCC => ffi::SWS_CS_FCC,
        ffmpeg::color::Space::SMPTE240M => ffi::SWS_CS_SMPTE240M,
        ffmpeg::color::Space::BT2020NCL | ffmpeg::color::Space::BT2020CL => ffi::SWS_CS_BT2020,
        _ => ffi::SWS_CS_ITU601,
    };
    let yuv_range = i32::from(yuv_full_range);
    // SAFETY: the context pointer is valid for the lifetime of `sws`; the
    // coefficient tables returned by sws_getCoefficients are static.
    unsafe {
        let yuv_table = ffi::sws_getCoefficients(cs);
        let rgb_table = ffi::sws_getCoefficients(ffi::SWS_CS_DEFAULT);
        let (src_table, src_range, dst_table, dst_range) =
            if yuv_is_source { (yuv_table, yuv_range, rgb_table, 1) } else { (rgb_table, 1, yuv_table, yuv_range) };
        ffi::sws_setColorspaceDetails(
            sws.as_mut_ptr(),
            src_table,
            src_range,
            dst_table,
            dst_range,
            0,
            1 << 16,
            1 << 16,
        );
    }
}

/// The container's start time in seconds (0 when unknown): the origin of all `start_seconds`.
pub(crate) fn container_start_seconds(ictx: &ffmpeg::format::context::Input) -> f64 {
    // SAFETY: reading a plain field of a valid, open AVFormatContext.
    let start = unsafe { (*ictx.as_ptr()).start_time };
    if start == ffmpeg::ffi::AV_NOPTS_VALUE { 0.0 } else { start as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE) }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the decode/encode tests: generate tiny clips with the CLI.
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// Run the ffmpeg CLI quietly; panics (test only) if it fails.
    pub fn ffmpeg(args: &[&str]) {
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-y"])
            .args(args)
            .status()
            .expect("ffmpeg CLI runs");
        assert!(status.success(), "ffmpeg {args:?} failed");
    }

    /// Names of the temporary (`.dreamreel-partial`) files left in `dir`.
    pub fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(crate::output::PARTIAL))
            .collect()
    }

    /// 64x48, 25 fps testsrc + 440 Hz sine, `seconds` long, H.264 + AAC in mp4.
    pub fn make_clip(dir: &Path, name: &str, seconds: f64) -> PathBuf {
        let path = dir.join(name);
        let src = format!("testsrc=size=64x48:rate=25:duration={seconds}");
        let sine = format!("sine=frequency=440:duration={seconds}");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &src,
            "-f",
            "lavfi",
            "-i",
            &sine,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            path.to_str().expect("utf-8 temp path"),
        ]);
        path
    }

    /// (first pts, end) in seconds of the packets of the first stream of `kind`.
    pub(crate) fn stream_span(path: &Path, kind: ffmpeg_next::media::Type) -> Option<(f64, f64)> {
        let mut ictx = ffmpeg_next::format::input(&path).ok()?;
        let index = ictx.streams().find(|s| s.parameters().medium() == kind)?.index();
        let tb = f64::from(ictx.stream(index)?.time_base());
        let mut first = f64::MAX;
        let mut end = f64::MIN;
        for (stream, packet) in ictx.packets() {
            if stream.index() != index {
                continue;
            }
            if let Some(pts) = packet.pts() {
                first = first.min(pts as f64 * tb);
                end = end.max((pts + packet.duration()) as f64 * tb);
            }
        }
        (first <= end).then_some((first, end))
    }
}
}
