//! The video pipeline, one for zoom and footage, in rooms: `render.rs` checks a job and runs its
//! stages; `source.rs` is where frames come from (a zoom's previous dream, or footage decoded and
//! followed by its flow); `frame_loop.rs` dreams them; `encode_stage.rs` writes them through the
//! output's writer; `resume.rs` keeps the lock, work folder and checkpoint, and decides whether a
//! render starts, resumes or is refused; `film_part.rs` is a part of a film; `stages.rs` joins
//! the threads; `report.rs` is what a render did.
//!
//! Videos are encoded as segments of `checkpoint_every` frames in a work folder beside the output
//! (see [`crate::run::checkpoint`]); after each segment the last dreamed frame is checkpointed, and
//! at the end the segments are joined with the sound into the output. So a killed render loses at
//! most one segment, and `--resume` continues where the checkpoint ends.
mod encode_stage;
mod film_part;
mod frame_loop;
mod render;
mod report;
mod resume;
mod source;
mod stages;

pub use render::render_video;
pub use report::VideoReport;
pub use resume::{Left, left_by_interruption};
pub(crate) use source::{film_output, span_frames};
