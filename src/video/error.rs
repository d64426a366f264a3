//! Every failure of FFmpeg decoding and encoding, each message one line naming the file, and
//! how it becomes the library's [`crate::Error`].
#![cfg(feature = "video")]
use crate::video::codec::Codec;
use ffmpeg_next as ffmpeg;
use std::path::Path;

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
impl VideoError {
    /// The user's file or choice was wrong (exit 2), not the work (exit 1).
    pub(crate) fn is_bad_input(&self) -> bool {
        matches!(
            self,
            VideoError::NotFound { .. }
                | VideoError::EmptyFile { .. }
                | VideoError::NotMedia { .. }
                | VideoError::NoVideoStream { .. }
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

impl From<VideoError> for crate::Error {
    fn from(error: VideoError) -> crate::Error {
        let bad_input = error.is_bad_input();
        crate::Error::Video { source: Box::new(error), bad_input }
    }
}
