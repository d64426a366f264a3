//! The output's lock, work folder and checkpoint: whether a render starts afresh, resumes or is
//! refused, what a resume skips, and what a finished or interrupted render leaves behind.
use super::encode_stage::EncodeStage;
use super::frame_loop::Dreamed;
use super::report::VideoReport;
use super::stages::{ToEncoder, join};
use crate::error::{Error, Result, mention};
use crate::job::Output;
use crate::job::render_job::Job;
use crate::run::checkpoint::{Checkpoint, OutputLock, WorkFolder, differences};
use crate::run::parts::{self, PartRange, PartRecord};
use crate::video::{AudioSource, FrameFormat};
use crossbeam_channel::Sender;
use std::thread;
use std::time::Instant;
use tch::{Device, Tensor};

/// Whether an interrupted render left a checkpoint beside the output.
pub(super) fn has_checkpoint(job: &Job) -> bool {
    let work = match job.part() {
        Some(part) => parts::folder(job.output().path(), part),
        None => WorkFolder::for_output(job.output().path()),
    };
    work.file(crate::run::checkpoint::CHECKPOINT).is_file()
}

/// Whether an image sequence's frames are an unfinished render's: its work folder is there (a
/// render killed before its first checkpoint leaves it, with frames written but nothing to
/// resume), so the same command writes them again without `-y`. A finished render removes it.
pub(super) fn unfinished_sequence(job: &Job) -> bool {
    job.part().is_none()
        && job.output().kind() == crate::job::OutputKind::Sequence
        && WorkFolder::for_output(job.output().path()).path().is_dir()
}

/// What an interrupted render left: the frames its checkpoint holds (counted in the film for a
/// part) and, for a video, the partial file beside the output that shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct Left {
    pub frames_done: u64,
    pub partial: Option<std::path::PathBuf>,
}

/// What an interrupted render of `job` left beside its output: `None` when no checkpoint is there.
pub fn left_by_interruption(job: &Job) -> Option<Left> {
    let work = match job.part() {
        Some(part) => parts::folder(job.output().path(), part),
        None => WorkFolder::for_output(job.output().path()),
    };
    let checkpoint = work.load().ok().flatten()?;
    let partial = job.output().partial().map(|p| p.path().to_owned()).filter(|p| job.part().is_none() && p.is_file());
    Some(Left { frames_done: checkpoint.frames_done, partial })
}

/// The output's lock, work folder and checkpoint, from the start of a render to its end.
pub(super) struct Resumable {
    /// A part of a film, and where it starts: its work folder stays for the join.
    pub(super) part: Option<PartRange>,
    pub(super) work: WorkFolder,
    pub(super) checkpoint: Checkpoint,
    pub(super) last: Option<Tensor>,
    pub(super) _lock: OutputLock,
}

impl Resumable {
    /// Locks the output and, on `--resume`, picks up a matching checkpoint. Without `--resume`
    /// an existing checkpoint is refused unless `--restart`: only a render that starts may drop it.
    pub(super) fn open(job: &Job, device: Device, range: Option<PartRange>) -> Result<Self> {
        let (output, options) = (job.output().path(), job.options());
        // A part locks and keeps its state in a folder of its own inside the film's.
        let place = match job.part() {
            Some(part) => {
                let place = parts::place(output, part);
                WorkFolder::for_output(output).prepare(false)?;
                place
            }
            None => output.to_owned(),
        };
        let lock = OutputLock::acquire(&place)?;
        let work = WorkFolder::for_output(&place);
        let saved = if options.restart { None } else { work.load()? };
        let found = Found {
            checkpoint: saved.is_some(),
            part_finished: match job.part() {
                Some(part) => parts::load_record(output, part)?.is_some_and(|record| record.finished()),
                None => false,
            },
            parts_started: !parts::started(output).is_empty(),
        };
        match start(job.part().is_some(), found, options.resume, options.restart) {
            Ok(_) => {}
            Err(Refusal::PartsStarted) => {
                return Err(Error::output(
                    output,
                    format!(
                        "parts of this film are being rendered in '{}': {} them, or add {} to discard them",
                        work.path().display(),
                        mention("join"),
                        mention("restart")
                    ),
                ));
            }
            Err(Refusal::PartFinished) => {
                let part = job.part().map(|part| part.to_string()).unwrap_or_default();
                return Err(Error::output(
                    output,
                    format!(
                        "{part} has finished: {} the parts, or add {} to render it again",
                        mention("join"),
                        mention("restart")
                    ),
                ));
            }
            Err(Refusal::CheckpointLeft) => {
                return Err(Error::output(
                    output,
                    format!(
                        "an earlier render left a checkpoint in '{}': add {} to continue it or {} to discard it",
                        work.path().display(),
                        mention("resume"),
                        mention("restart")
                    ),
                ));
            }
        }
        let (checkpoint, last) = match saved {
            Some(saved) => {
                let changed = differences(&saved.job, job.description());
                if !changed.is_empty() {
                    return Err(Error::setting(
                        "resume",
                        format!("the checkpoint was made with other settings: {}", changed.join(", ")),
                    ));
                }
                let last = work.load_frame(&saved)?.map(|t| t.to_device(device));
                (saved, last)
            }
            None => {
                work.prepare(true)?;
                (Checkpoint { job: job.description().clone(), ..Default::default() }, None)
            }
        };
        Ok(Resumable { part: range, work, checkpoint, last, _lock: lock })
    }

    pub(super) fn frames_done(&self) -> u64 {
        self.checkpoint.frames_done
    }

    /// The first frame this render dreams when it starts afresh (a part's, else 0).
    pub(super) fn first_dreamed(&self) -> u64 {
        self.part.map_or(0, |range| range.dream_from)
    }

    /// The encode stage's state, handed to its thread.
    pub(super) fn encode_stage<'a>(
        &self,
        output: &'a Output,
        frames: FrameFormat,
        sound: Option<AudioSource>,
        record: Option<PartRecord>,
    ) -> EncodeStage<'a> {
        EncodeStage { output, work: self.work.clone(), checkpoint: self.checkpoint.clone(), frames, sound, record }
    }

    /// Ends the render: reports the first real error in pipeline order rather than the channel
    /// closures it caused; on success the work folder goes, on Ctrl-C it stays for `--resume`.
    pub(super) fn finish(
        self,
        dreamed: Result<Dreamed>,
        to_encoder: Sender<ToEncoder>,
        encoder: thread::ScopedJoinHandle<'_, Result<()>>,
        sources: Vec<thread::ScopedJoinHandle<'_, Result<()>>>,
        (width, height): (u32, u32),
        started: Instant,
    ) -> Result<VideoReport> {
        // Only a render that dreamed every frame makes its output (or a part its record); an
        // interrupted one leaves the output as it was and its frames beside it, partial.
        if let Ok(done) = &dreamed
            && done.frames + self.frames_done() > 0
        {
            let _ = to_encoder.send(if done.interrupted { ToEncoder::Stopped } else { ToEncoder::Finish });
        }
        drop(to_encoder);
        let encoded = join(encoder);
        // In pipeline order: the decoder's (and flow's) errors first, then the dream's, then the encoder's.
        let sourced: Vec<Result<()>> = sources.into_iter().map(join).collect();
        for result in sourced {
            result?;
        }
        let done = dreamed?;
        encoded?;
        if done.interrupted {
            return Err(Error::Interrupted);
        }
        // Frames from the first written one (a part's warm-up is not written) to the last dreamed.
        let first_written = self.part.map_or(0, |range| range.start);
        let (frames, resumed_frames) = written(self.frames_done(), self.first_dreamed(), done.frames, first_written);
        if self.part.is_none() {
            self.work.remove();
        }
        Ok(VideoReport {
            frames,
            resumed_frames,
            width,
            height,
            elapsed: started.elapsed(),
            dream_time: done.dream_time,
            last_objective: done.last_objective,
            cuts: done.cuts,
            undecodable_frames: 0,
        })
    }
}

impl Drop for Resumable {
    /// A render that ends before its first checkpoint (a bad input, an unknown extension) leaves
    /// nothing to resume: its work folder goes, so failed runs do not litter the output's folder.
    /// A part's record (a part with no frames of its own has no checkpoint) stays for the join.
    fn drop(&mut self) {
        let kept = [crate::run::checkpoint::CHECKPOINT, parts::RECORD];
        if !kept.iter().any(|name| self.work.file(name).exists()) {
            self.work.remove();
        }
    }
}

/// What an earlier render left beside the output.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Found {
    /// A checkpoint: an interrupted render that can be resumed.
    pub(super) checkpoint: bool,
    /// This part's record: the part finished.
    pub(super) part_finished: bool,
    /// Parts of this film in its work folder.
    pub(super) parts_started: bool,
}

/// How a render begins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Start {
    Afresh,
    /// From the checkpoint: its frames are not dreamed again.
    Resume,
}

/// Why a render may not begin: each would lose or repeat work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Refusal {
    /// A whole render of a film whose parts are being rendered.
    PartsStarted,
    /// A part rendered again without `--resume` or `--restart`.
    PartFinished,
    /// A checkpoint that only `--resume` may continue or `--restart` drop.
    CheckpointLeft,
}

/// Whether a render (a part of a film or not) starts afresh, resumes or is refused, from what
/// earlier renders left and `--resume` / `--restart`: only a render that starts may drop work.
pub(super) fn start(is_part: bool, found: Found, resume: bool, restart: bool) -> std::result::Result<Start, Refusal> {
    if restart {
        return Ok(Start::Afresh);
    }
    if !is_part && found.parts_started {
        return Err(Refusal::PartsStarted);
    }
    if is_part && found.part_finished && !resume {
        return Err(Refusal::PartFinished);
    }
    match (found.checkpoint, resume) {
        (true, false) => Err(Refusal::CheckpointLeft),
        (true, true) => Ok(Start::Resume),
        (false, _) => Ok(Start::Afresh),
    }
}

/// The first frame a render dreams: after its checkpoint's frames, and never before its own
/// first (a part's warm-up, else 0).
pub(super) fn first_to_dream(frames_done: u64, first_dreamed: u64) -> u64 {
    frames_done.max(first_dreamed)
}

/// The frames the output holds when the render ends, and how many of them came from the
/// checkpoint: counted from the first written frame (a part's warm-up is dreamed, not written).
pub(super) fn written(frames_done: u64, first_dreamed: u64, dreamed_now: u64, first_written: u64) -> (u64, u64) {
    let next = first_to_dream(frames_done, first_dreamed) + dreamed_now;
    (next.saturating_sub(first_written), frames_done.saturating_sub(first_written))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTHING: Found = Found { checkpoint: false, part_finished: false, parts_started: false };

    #[test]
    fn a_render_starts_afresh_resumes_or_is_refused() {
        assert_eq!(start(false, NOTHING, false, false), Ok(Start::Afresh));
        // An interrupted render: its checkpoint is kept until --resume or --restart says what to do.
        let interrupted = Found { checkpoint: true, ..NOTHING };
        assert_eq!(start(false, interrupted, false, false), Err(Refusal::CheckpointLeft));
        assert_eq!(start(false, interrupted, true, false), Ok(Start::Resume));
        assert_eq!(start(false, interrupted, false, true), Ok(Start::Afresh));
        // --resume with nothing to resume starts afresh.
        assert_eq!(start(false, NOTHING, true, false), Ok(Start::Afresh));
    }

    #[test]
    fn parts_and_a_whole_render_of_one_film_never_undo_each_other() {
        let parts = Found { parts_started: true, ..NOTHING };
        assert_eq!(start(false, parts, false, false), Err(Refusal::PartsStarted));
        assert_eq!(start(false, parts, true, false), Err(Refusal::PartsStarted));
        assert_eq!(start(false, parts, false, true), Ok(Start::Afresh));
        // Another part starting beside them is no refusal.
        assert_eq!(start(true, parts, false, false), Ok(Start::Afresh));
        // A finished part is not rendered again by accident.
        let finished = Found { part_finished: true, parts_started: true, ..NOTHING };
        assert_eq!(start(true, finished, false, false), Err(Refusal::PartFinished));
        assert_eq!(start(true, finished, false, true), Ok(Start::Afresh));
        // An interrupted part resumes from its own checkpoint.
        let interrupted = Found { checkpoint: true, parts_started: true, ..NOTHING };
        assert_eq!(start(true, interrupted, false, false), Err(Refusal::CheckpointLeft));
        assert_eq!(start(true, interrupted, true, false), Ok(Start::Resume));
    }

    #[test]
    fn a_resume_skips_the_checkpoints_frames_and_a_part_its_warm_up() {
        // A whole render resumed after 8 of its frames dreams from frame 8.
        assert_eq!(first_to_dream(8, 0), 8);
        // A part warming up from frame 40 (written from 52) starts there, or at its checkpoint.
        assert_eq!(first_to_dream(0, 40), 40);
        assert_eq!(first_to_dream(56, 40), 56);
        // 12 more frames after a checkpoint of 8: 20 written, 8 of them from the checkpoint.
        assert_eq!(written(8, 0, 12, 0), (20, 8));
        // The part: 12 warm-up frames and 20 of its own dreamed, only its own written.
        assert_eq!(written(0, 40, 32, 52), (20, 0));
        // Interrupted inside the warm-up: nothing of the part written yet.
        assert_eq!(written(0, 40, 5, 52), (0, 0));
        assert_eq!(written(56, 40, 10, 52), (14, 4));
    }
}
