//! Video input/output: decode any FFmpeg-readable file into RGB frames, and encode RGB frames
//! (plus sound taken from a source file) into a container, a GIF or a PNG image sequence. FFmpeg
//! objects stay on the thread that made them; only plain data (`Frame`, infos, options) travels.
//! [`codec`] is always built (settings name codecs without FFmpeg); each other file holds
//! `#![cfg(feature = "video")]`.
mod audio;
mod audio_samples;
pub mod codec;
mod colorspace;
mod concat;
pub mod container;
mod decode;
mod encode;
mod error;
mod gif;
mod rational;
mod sequence;
mod setup;
mod testutil;
mod timing;

pub use codec::Codec;
#[cfg(feature = "video")]
pub(crate) use {
    crate::frame::rgb::Frame, colorspace::set_sws_colorspace, error::show, timing::container_start_seconds,
};
#[cfg(feature = "video")]
pub use {
    audio_samples::decode_mono,
    concat::{ConcatOptions, concat_segments},
    decode::{ReadOptions, VideoInfo, VideoReader},
    encode::{
        AudioSource, VideoWriter, WriteOptions, existing_frames, is_image_sequence, remove_frames_after, sequence_frame,
    },
    error::VideoError,
    rational::Rational,
    sequence::is_sequence_input,
    setup::{ffmpeg_version, init},
};
