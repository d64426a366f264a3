//! What to render, as values: a [`render_job::Job`] (mode, input, output, span and the settings
//! groups each stage takes), built alike from the command line and a batch [`manifest`]. Nothing
//! here renders: [`crate::run`] does.
#[cfg(feature = "video")]
pub mod encode_check;
pub mod manifest;
pub mod plan;
pub mod render_job;

pub use render_job::{Input, Job, Mode, RenderOptions, Request, Span, fps_of_a_file};
