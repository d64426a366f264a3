//! A job's schedules made ready for the pipeline: its soundtrack analysed, its frame plan
//! evaluated, and each frame's dream parameters built, all before the first frame.
use crate::config::settings::Settings;
use crate::engine::ascent::DreamParams;
#[cfg(feature = "video")]
use crate::error::Error;
use crate::error::Result;
#[cfg(feature = "video")]
use crate::frame::audio_signals::{AudioSignals, SAMPLE_RATE};
use crate::job::plan::FramePlan;
#[cfg(feature = "video")]
use crate::job::{Job, Mode};
use crate::model::network::Network;
#[cfg(feature = "video")]
use std::path::PathBuf;

#[cfg(feature = "video")]
/// Where a job's soundtrack comes from: `--audio`, else a video's own sound.
pub fn soundtrack(job: &Job) -> Option<(PathBuf, f64)> {
    match (&job.settings.audio, job.mode) {
        (Some(path), _) => Some((path.clone(), 0.0)),
        (None, Mode::Video) if job.audio => Some((job.input.path().to_owned(), job.span.start_seconds)),
        _ => None,
    }
}

#[cfg(feature = "video")]
/// The soundtrack's signals for `frames` frames at `fps`, when the job has one and needs it: when
/// a schedule reads a signal, or `--audio` was given (its plan shows them).
pub(crate) fn load_audio(job: &Job, fps: f64, frames: u64) -> Result<Option<AudioSignals>> {
    let wanted = job.settings.schedules.uses_audio() || job.settings.audio.is_some();
    let Some((path, start)) = soundtrack(job).filter(|_| wanted) else { return Ok(None) };
    let given = job.settings.audio.is_some();
    let duration = frames as f64 / fps;
    let samples = crate::video::decode_mono(&path, SAMPLE_RATE, start, Some(duration)).map_err(|e| {
        let message = e.to_string();
        if given { Error::setting("--audio", message) } else { Error::input(&path, message) }
    })?;
    match samples {
        Some(samples) => Ok(Some(AudioSignals::analyse(&samples, fps, frames))),
        None if given => Err(Error::setting("--audio", format!("'{}' has no audio stream", path.display()))),
        // Footage without sound: the schedules' check names the signal that has no source.
        None => Ok(None),
    }
}

#[cfg(feature = "video")]
/// The job's plan for `frames` frames at `fps` (a zoom's own; footage's as decoded).
pub(crate) fn job_plan(job: &Job, fps: f64, frames: u64) -> Result<FramePlan> {
    let audio = load_audio(job, fps, frames)?;
    FramePlan::new(&job.settings, job.mode.default_zoom(), fps, frames, audio)
}

#[cfg(feature = "video")]
/// The plan `dreamreel plan` prints: a zoom's at its rate, footage's as its reader counts it.
pub fn plan_of_job(job: &Job) -> Result<FramePlan> {
    match job.mode {
        Mode::Video => {
            let read = crate::video::ReadOptions {
                start_seconds: job.span.start_seconds,
                max_frames: job.span.frames,
                max_seconds: job.span.seconds,
                width: job.frames.width,
                sequence_fps: Some(job.frames.fps),
            };
            crate::video::init()?;
            let reader = crate::video::VideoReader::open(job.input.path(), &read)?;
            let info = reader.info();
            let fps = info.frame_rate.as_f64();
            let frames = info.frame_count.unwrap_or(1).max(1);
            job_plan(job, fps, frames)
        }
        _ => job_plan(job, job.frames.fps, job.span.frames.unwrap_or(1)),
    }
}

#[cfg(feature = "video")]
/// The plan of a job whose settings change over it; `None` for one of constants, which renders
/// exactly as before schedules existed.
pub fn scheduled_plan(job: &Job, fps: f64, frames: u64) -> Result<Option<FramePlan>> {
    if job.settings.schedules.is_empty() {
        return Ok(None);
    }
    job_plan(job, fps, frames).map(Some)
}

/// What decides a frame's objective: its layers, channels and class.
type ObjectiveKey = (String, Vec<String>, Option<String>);

/// Each frame's dream parameters: one objective per distinct layers, channels and class (each
/// checked against the network here), the numbers of the frame's plan.
pub fn frame_params(plan: &FramePlan, settings: &Settings, network: &Network) -> Result<Vec<DreamParams>> {
    let mut settings = settings.clone();
    settings.schedules = Default::default();
    let mut objectives: Vec<(ObjectiveKey, DreamParams)> = Vec::new();
    let mut params = Vec::with_capacity(plan.rows.len());
    for row in &plan.rows {
        let key = (row.layers.clone(), row.channels.clone(), row.class.clone());
        let objective = match objectives.iter().find(|(k, _)| *k == key) {
            Some((_, params)) => params.clone(),
            None => {
                row.apply_to(&mut settings);
                let made = crate::run::engine::dream_params(&settings, network)?;
                objectives.push((key, made.clone()));
                made
            }
        };
        let default_blur = objective.blur;
        let frame = DreamParams {
            octave_scale: row.octave_scale,
            iterations: row.iterations,
            step: row.step,
            jitter: row.jitter,
            blur: row.blur.unwrap_or(default_blur),
            ..objective
        };
        frame.validate()?;
        params.push(frame);
    }
    Ok(params)
}
