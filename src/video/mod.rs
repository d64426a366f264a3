//! Video in and out through one [`FrameWriter`]; `codec`, `container`, `rational`, `writer` need no FFmpeg.
pub(crate) mod apng;
mod audio;
mod audio_samples;
pub mod codec;
mod colorspace;
pub(crate) mod concat;
pub mod container;
mod decode;
mod encode;
mod error;
pub(crate) mod gif;
pub mod rational;
pub(crate) mod segments;
mod sequence;
mod setup;
mod sound_plan;
mod testutil;
mod timing;
pub mod writer;
pub use codec::Codec;
pub use rational::Rational;
pub use writer::{AudioSource, FrameFormat, FrameWriter};
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
        StreamSpec, VideoWriter, WriteOptions, existing_frames, is_image_sequence, remove_frames_after, sequence_frame,
    },
    error::VideoError,
    sequence::is_sequence_input,
    setup::{ffmpeg_version, init},
    sound_plan::{SoundAction, SoundPlan, SoundTrack, plan_sound},
};
