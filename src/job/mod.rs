//! What to render, as values: a [`render_job::Job`] (its source, [`output`], span, the
//! [`dream`]'s settings and the per-frame [`plan`]), built alike from the command line and a
//! batch [`manifest`], checked once. Nothing here renders: [`crate::run`] does. [`plot`] draws a plan.
pub mod bench;
pub mod dream;
pub mod manifest;
pub mod output;
pub mod plan;
pub mod plot;
pub mod render_job;
pub mod request;

pub use dream::DreamSpec;
pub use output::{Output, OutputKind};
pub use render_job::{Job, Source};
pub use request::{Mode, RenderOptions, Request, Span};
