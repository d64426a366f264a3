//! Video input/output: FFmpeg-readable files decoded into RGB frames, RGB frames (with a file's
//! sound) encoded into a container, a GIF or PNG frames. FFmpeg objects stay on the thread that
//! made them. [`codec`] is always built (settings name codecs without FFmpeg); every other file
//! holds `#![cfg(feature = "video")]`.
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
mod sound_plan;
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
    concat::{ConcatOptions, concat_segments, join_segments},
    decode::{ReadOptions, VideoInfo, VideoReader},
    encode::{
        AudioSource, VideoWriter, WriteOptions, existing_frames, is_image_sequence, remove_frames_after, sequence_frame,
    },
    error::VideoError,
    rational::Rational,
    sequence::is_sequence_input,
    setup::{ffmpeg_version, init},
    sound_plan::{SoundAction, SoundPlan, SoundTrack, plan_sound},
};
