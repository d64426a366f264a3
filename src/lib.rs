//! dreamreel: DeepDream stills and videos on EfficientNet-Lite (or GoogLeNet), with tch (libtorch)
//! and FFmpeg.
//!
//! The binary (`src/main.rs`, `src/cli/`) turns arguments into settings and a [`job::Job`], and
//! hands it to [`run`]. The library's folders, each using only the ones after it:
//! - [`studio`]: `dreamreel studio`, a local web page that previews looks, queues renders (as
//!   the command line runs them) and hands them on as presets, manifest lines and commands.
//! - [`run`]: running a job: a still, the decode -> dream -> encode pipeline, checkpoints and
//!   resume, batches, `bench`, and the one adapter from settings to the engine.
//! - [`job`]: a render job as one checked value, and batch manifests; nothing renders here.
//! - [`config`]: every setting, layered defaults < preset < command line, checked in one place;
//!   presets.
//! - [`engine`]: the octave gradient ascent, tiles, objectives, CUDA graphs.
//! - [`frame`]: stills in and out, transforms between frames, colour, optical flow, footage carry,
//!   `compare`.
//! - [`video`]: FFmpeg decode and encode, sound copied or transcoded (feature `video`), the codecs.
//! - [`model`]: the networks (EfficientNet-Lite, GoogLeNet), their weights, ImageNet classes,
//!   devices and precision.
//! - [`output`]: safe writing (temporary name, rename on success); [`error`]: the error type.
//!
//! See ARCHITECTURE.md for the arrows between them.
pub mod config;
pub mod engine;
pub mod error;
pub mod frame;
pub mod job;
pub mod model;
pub mod output;
pub mod run;
pub mod studio;
pub mod video;

pub use error::{Error, Result};
