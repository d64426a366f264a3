//! What a finished (or interrupted) video render did.
use std::time::Duration;

/// What a finished (or interrupted) video render did.
#[derive(Clone, Debug)]
pub struct VideoReport {
    /// Frames in the output.
    pub frames: u64,
    /// Frames taken from a checkpoint rather than dreamed in this run.
    pub resumed_frames: u64,
    pub width: u32,
    pub height: u32,
    pub elapsed: Duration,
    /// Time spent inside the dream itself; the rest is decoding, encoding and copies not overlapped.
    pub dream_time: Duration,
    /// Objective of the last dreamed frame.
    pub last_objective: f64,
    /// Footage frames (from 0) found to start a new shot, where the dream started afresh.
    pub cuts: Vec<u64>,
    /// Footage frames the decoder could not decode (a damaged file), skipped.
    pub undecodable_frames: u64,
}

impl VideoReport {
    /// A render with nothing to do (a part of a film that has no frames of its own).
    pub(super) fn empty(width: u32, height: u32) -> VideoReport {
        VideoReport {
            frames: 0,
            resumed_frames: 0,
            width,
            height,
            elapsed: Duration::ZERO,
            dream_time: Duration::ZERO,
            last_objective: 0.0,
            cuts: Vec::new(),
            undecodable_frames: 0,
        }
    }
}
