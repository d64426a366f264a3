//! Runs one checked job: a still, or a zoom or footage through the one video pipeline.
#[cfg(not(feature = "video"))]
use crate::error::Error;
use crate::error::Result;
use crate::job::render_job::{Job, Mode};
#[cfg(feature = "video")]
use crate::run::pipeline::{VideoReport, render_video};
use crate::run::progress::Progress;
use crate::run::still::{StillReport, render_still};
use std::sync::atomic::AtomicBool;

/// What a finished job did.
pub enum Report {
    Still(StillReport),
    #[cfg(feature = "video")]
    Video(VideoReport),
}

impl Report {
    /// A still's report (`None` for a video's).
    pub fn still(self) -> Option<StillReport> {
        match self {
            Report::Still(report) => Some(report),
            #[cfg(feature = "video")]
            Report::Video(_) => None,
        }
    }

    /// A video's report (`None` for a still's).
    #[cfg(feature = "video")]
    pub fn video(self) -> Option<VideoReport> {
        match self {
            Report::Video(report) => Some(report),
            Report::Still(_) => None,
        }
    }

    /// Frames written, and how many of them a checkpoint held.
    pub fn frames(&self) -> (u64, u64) {
        match self {
            Report::Still(_) => (1, 0),
            #[cfg(feature = "video")]
            Report::Video(report) => (report.frames, report.resumed_frames),
        }
    }
}

/// Renders `job`; `cancel` stops a video after its frame in hand.
pub fn render(job: &Job, progress: &mut dyn Progress, cancel: &AtomicBool) -> Result<Report> {
    match job.mode() {
        Mode::Still => render_still(job, progress).map(Report::Still),
        #[cfg(feature = "video")]
        Mode::Zoom | Mode::Video => render_video(job, progress, cancel).map(Report::Video),
        #[cfg(not(feature = "video"))]
        Mode::Zoom | Mode::Video => {
            let _ = cancel;
            Err(Error::setting("mode", "this dreamreel was built without video"))
        }
    }
}
