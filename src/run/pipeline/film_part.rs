//! A part of a film as the pipeline renders it: which part, its frames, and its record.
use crate::job::render_job::{Job, Part};
use crate::run::parts::{PartRange, PartRecord};
use crate::video::Rational;

/// A part of a film being rendered: which, where it starts and ends, and the film's length.
pub(super) struct PartOfFilm {
    pub(super) part: Part,
    pub(super) range: PartRange,
    pub(super) film_frames: u64,
}

impl PartOfFilm {
    /// A part with no frames of its own (a film shorter than its parts, or a last part after
    /// the film's last cut when parts start at cuts only): finished by definition, recorded so.
    pub(super) fn has_no_frames(&self) -> bool {
        self.range.is_empty() || (self.range.end.is_none() && self.range.start >= self.film_frames)
    }

    /// The part's record as the join reads it, before any frame is written.
    pub(super) fn record(&self, job: &Job, rate: Rational) -> PartRecord {
        PartRecord {
            range: self.range,
            film_frames: self.film_frames,
            split_inside_shots: job.splits_inside_shots(),
            job: job.description().clone(),
            written: 0,
            segments: Vec::new(),
            frame_rate: (rate.num, rate.den),
        }
    }
}
