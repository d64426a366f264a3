//! Running jobs: [`render`] dispatches a job to a [`still`] or the video [`pipeline`]
//! (decode -> dream -> encode, resumable through [`checkpoint`]); [`batch`] runs a manifest's
//! jobs; [`bench`] times the dream in memory. [`engine`] is the one adapter from settings to the
//! dream engine; [`progress`] is how the library reports to the binary; [`compare`] measures a
//! dreamed video against its source.
pub mod batch;
pub mod bench;
pub mod checkpoint;
#[cfg(feature = "video")]
pub mod compare;
pub mod engine;
#[cfg(feature = "video")]
pub mod looping;
#[cfg(feature = "video")]
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod render;
pub mod scheduled;
#[cfg(feature = "video")]
pub mod slowdown;
pub mod still;
