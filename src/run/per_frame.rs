//! A job's per-frame plan made ready for the pipeline: its soundtrack analysed and every frame's
//! values evaluated and checked, before the first frame (a render of constants is identical rows).
#![cfg(feature = "video")]
use crate::error::{Error, Result};
use crate::frame::audio_signals::{AudioSignals, SAMPLE_RATE};
use crate::job::plan::{FramePlan, FullDreams};
use crate::job::{Job, Mode};
use std::path::PathBuf;

/// Where a job's soundtrack comes from: `--audio`, else footage's own sound (unless `--no-audio`).
pub fn soundtrack(job: &Job) -> Option<(PathBuf, f64)> {
    match (job.soundtrack(), job.mode()) {
        (Some(path), _) => Some((path.to_owned(), 0.0)),
        (None, Mode::Video) if job.keeps_sound() => Some((job.source().path().to_owned(), job.span().start_seconds)),
        _ => None,
    }
}

/// The soundtrack's signals for `frames` frames at `fps`, when the job has one and needs it: when
/// a schedule reads a signal, or `--audio` was given (its plan shows them).
fn load_audio(job: &Job, fps: f64, frames: u64) -> Result<Option<AudioSignals>> {
    let given = job.soundtrack().is_some();
    let wanted = job.per_frame().uses_audio() || given;
    let Some((path, start)) = soundtrack(job).filter(|_| wanted) else { return Ok(None) };
    // The whole soundtrack: onsets, tempo and levels are the whole file's, so renders of its parts
    // (`--start`, a film's parts) agree on every frame they share.
    let samples = crate::video::decode_mono(&path, SAMPLE_RATE, 0.0, None).map_err(|e| {
        let message = e.to_string();
        if given { Error::setting("audio", message) } else { Error::input(&path, message) }
    })?;
    match samples {
        Some(samples) => Ok(Some(AudioSignals::analyse_from(&samples, fps, start, frames))),
        None if given => Err(Error::setting("audio", format!("'{}' has no audio stream", path.display()))),
        // Footage without sound: the schedules' check names the signal that has no source.
        None => Ok(None),
    }
}

/// The job's plan for `frames` frames at `fps` (a zoom's own; footage's as decoded).
pub fn job_plan(job: &Job, fps: f64, frames: u64) -> Result<FramePlan> {
    let audio = load_audio(job, fps, frames)?;
    let carry = job.dream().carry();
    let full_dreams = match job.mode() {
        Mode::Still => FullDreams::Every,
        Mode::Zoom => FullDreams::First(carry),
        Mode::Video if job.between_frames().flow => FullDreams::FirstAndCuts(carry),
        Mode::Video => FullDreams::Every,
    };
    Ok(FramePlan::new(job.per_frame(), fps, frames, audio)?.with_full_dreams(full_dreams))
}

/// The plan `dreamreel plan` prints and the batch pre-check checks: a zoom's at its rate,
/// footage's as its reader counts it.
pub fn plan_of_job(job: &Job) -> Result<FramePlan> {
    match job.mode() {
        Mode::Video => {
            crate::video::init()?;
            let reader = crate::video::VideoReader::open(job.source().path(), &read_options(job))?;
            let info = reader.info();
            let fps = info.frame_rate.as_f64();
            let frames = info.frame_count.unwrap_or(1).max(1);
            job_plan(job, fps, frames)
        }
        Mode::Zoom | Mode::Still => job_plan(job, job.frame_format().fps, job.span().frames.unwrap_or(1)),
    }
}

/// What to read of a footage job's input.
pub(crate) fn read_options(job: &Job) -> crate::video::ReadOptions {
    let span = job.span();
    crate::video::ReadOptions {
        start_seconds: span.start_seconds,
        max_frames: span.frames,
        max_seconds: span.seconds,
        width: job.frame_format().width,
        sequence_fps: Some(job.frame_format().fps),
    }
}
