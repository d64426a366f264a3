//! Running jobs: [`render`] dispatches a job to a [`still`] or the one video [`pipeline`]
//! (source -> dream -> encode, resumable through [`checkpoint`]); [`batch`] runs a manifest's
//! jobs; [`bench`] times the dream in memory. [`dream_setup`] loads a job's network and builds
//! each frame's dream parameters; [`frame_memory`] refuses a frame too small or too big to
//! dream; [`per_frame`] evaluates a job's plan (with its soundtrack); [`parts`] splits one film
//! for many machines and [`film`] joins it; [`progress`] is how the library reports to the
//! binary; [`compare`] measures a dreamed video against its source; [`test_hooks`] is the test
//! suite's one seam.
pub mod batch;
pub mod bench;
pub mod checkpoint;
#[cfg(feature = "video")]
pub mod compare;
pub mod dream_setup;
#[cfg(feature = "video")]
pub mod film;
pub mod frame_memory;
#[cfg(feature = "video")]
pub mod looping;
#[cfg(feature = "video")]
pub mod parts;
pub mod per_frame;
#[cfg(feature = "video")]
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod still;
pub(crate) mod test_hooks;
