//! dreamreel: DeepDream stills and videos on EfficientNet-Lite, with tch (libtorch) and FFmpeg.
//!
//! The binary (`src/main.rs`) parses arguments into a [`job::Job`] and runs it;
//! everything else lives here, one module per concern:
//! - [`weights`]: reads `torch.save` state dicts (zip + pickle) without Python.
//! - [`network`]: EfficientNet-Lite0/1/2 and its layers; [`googlenet`]: GoogLeNet (torchvision's).
//! - [`objective`]: what a dream maximises (layers, channels, classes, a guide) and its image prior.
//! - [`imagenet`]: the 1,000 ImageNet class names; [`classify`]: what a network sees in an image.
//! - [`dream`]: the octave gradient ascent.
//! - [`image_io`]: stills in and out, pixels to tensors.
//! - [`output`]: safe writing (temporary name, rename on success).
//! - [`settings`]: defaults < preset < command line, checked once.
//! - [`presets`]: named looks shipped in `presets/*.toml` or kept in the user's config folder.
//! - [`transform`]: zoom, rotation, pan, blend and noise between frames.
//! - [`video`]: FFmpeg decode and encode, sound copied or transcoded (feature `video`).
//! - [`pipeline`]: decode, dream and encode threads joined by bounded channels (feature `video`).
//! - [`bench`]: in-memory timing of the dream, for `dreamreel bench` (no FFmpeg needed).
//! - [`checkpoint`]: resumable renders (work folder, checkpoint, output lock).
//! - [`job`]: a render job (still, zoom or footage) as one checked value, built from the command
//!   line or a manifest and run by [`job::Job::run`].
//! - [`render`]: a still's render and the dream engine, reporting progress through [`render::Progress`].
//! - [`versions`]: libtorch, CUDA, cuDNN and FFmpeg versions for `--version`.
//! - [`precision`]: `--precision`, the number format the network runs in.
//! - [`cuda_graph`]: CUDA graphs and GPU memory statistics through a small C++ shim (eager fallback).
//! - [`color`]: colours tied to the source (Lab statistics), saturation and clipping measures.
//! - [`flow`]: optical flow between source frames (OpenCV DIS), occlusion and cut tests (feature `video`).
//! - [`footage`]: carrying the dream along the flow from frame to frame (feature `video`).
//! - [`compare`]: temporal warping error, flicker and colour drift of a dreamed video (feature `video`).
//! - [`batch`]: manifests of render jobs, checked whole, then run one by one or one per GPU.
//! - [`slowdown`]: test hooks that slow the decoder or encoder down (`DREAMREEL_SLOW_*_MS`).
pub mod batch;
pub mod bench;
pub mod checkpoint;
pub mod classify;
pub mod color;
#[cfg(feature = "video")]
pub mod compare;
pub mod cuda_graph;
pub mod device;
pub mod dream;
pub mod error;
#[cfg(feature = "video")]
pub mod flow;
#[cfg(feature = "video")]
pub mod footage;
pub mod googlenet;
pub mod image_io;
pub mod imagenet;
pub mod job;
pub mod network;
pub mod objective;
pub mod output;
#[cfg(feature = "video")]
pub mod pipeline;
pub mod precision;
pub mod presets;
pub mod render;
pub mod settings;
#[cfg(feature = "video")]
pub mod slowdown;
pub mod transform;
pub mod versions;
#[cfg(feature = "video")]
pub mod video;
pub mod weights;

pub use error::{Error, Result};
