//! A zoom or footage render from its checks to its report: the source, the dream and the
//! encoder on their own threads (see the folder's other rooms), joined by small bounded channels.
use super::film_part::PartOfFilm;
use super::frame_loop::DreamStage;
use super::report::VideoReport;
use super::resume::{Resumable, first_to_dream, has_checkpoint, unfinished_sequence};
use super::source::{
    Feed, check_size, footage_facts, frame_format, open_footage, short_span_note, span_frames, zoom_facts,
};
use super::stages::{CHANNEL_FRAMES, ToEncoder, join, spawn_stage};
use crate::engine::fourier::Prior;
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image};
use crate::frame::transform::noise;
use crate::job::plan::FramePlan;
use crate::job::render_job::{Job, Source};
use crate::run::checkpoint::WorkFolder;
use crate::run::dream_setup::DreamSetup;
use crate::run::looping::Loop;
use crate::run::parts;
use crate::run::progress::Progress;
use crate::video::{self, VideoReader};
use crossbeam_channel::{Sender, bounded};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Instant;
use tch::{Device, Tensor};

/// Renders a zoom or footage job: the one video pipeline. Everything that can be checked is
/// checked before the first frame; then the source, the dream and the encoder run on their own
/// threads, and the render ends by joining them in pipeline order.
pub fn render_video(job: &Job, progress: &mut dyn Progress, cancel: &AtomicBool) -> Result<VideoReport> {
    let mut ready = match Ready::check(job, progress)? {
        Checked::Ready(ready) => *ready,
        Checked::NothingToDo(report) => return Ok(report),
    };
    let started = Instant::now();
    // A part dreams from its own first frame (or its warm-up's), a resume from its checkpoint.
    let first_dreamed = ready.state.first_dreamed();
    let skip = first_to_dream(ready.state.frames_done(), first_dreamed);
    let resumed = ready.state.last.take();
    let undecodable = AtomicU64::new(0);
    let undecodable = &undecodable;
    thread::scope(|scope| {
        let mut sources = Vec::new();
        let (facts, plan, mut feed) = match ready.first.take() {
            Some(first) => {
                let facts = zoom_facts(job, &first, ready.looping.as_ref());
                let indices = skip..ready.looping.as_ref().map_or(facts.frames, Loop::dreams);
                let plan = ready.zoom_plan.take().ok_or_else(|| Error::internal("a zoom's plan is made first"))?;
                (facts, plan, Feed::Zoom { first, indices })
            }
            None => {
                let (info, feed) = open_footage(scope, job, (skip, cancel, undecodable), &mut sources)?;
                let mut facts = footage_facts(job, &info);
                if let Some(part) = &ready.part {
                    let end = part.range.end.or(facts.progress_total);
                    facts.progress_total = end.map(|end| end.saturating_sub(part.range.dream_from));
                }
                if let Some(note) = short_span_note(job, &info) {
                    progress.note(&note);
                }
                let plan = crate::run::per_frame::job_plan(job, info.frame_rate.as_f64(), facts.frames)?;
                (facts, plan, feed)
            }
        };
        let (to_encoder, encoder_messages) = bounded(CHANNEL_FRAMES);
        let record = ready.part.as_ref().map(|p| p.record(job, facts.frame_rate));
        let stage = ready.state.encode_stage(job.output(), frame_format(&facts), facts.sound.clone(), record);
        // The writer is made on the encoder's thread, before the first frame: an output that could
        // not be written, or sound that could not go into it, is refused before any dream.
        let (writer_made, readied) = bounded(1);
        let encoder = spawn_stage(scope, "encode", move || stage.run(writer_made, encoder_messages))?;
        match readied.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(join(encoder).err().unwrap_or(Error::Interrupted)),
        }
        progress.start(facts.progress_total);
        progress.advance(skip - first_dreamed);
        let dreamed = ready.dream_stage(job, &to_encoder, &plan, &feed, cancel).run(&mut feed, resumed, progress);
        // A decoder (or flow stage) parked in a full channel's send never sees the cancel flag:
        // closing the channel wakes it, so the joins in `finish` always return.
        drop(feed);
        let written = job.output().written_size(facts.width, facts.height);
        let report = ready.state.finish(dreamed, to_encoder, encoder, sources, written, started);
        let held = ready.looping.as_ref().map_or(0, |l| l.overlap);
        report.map(|report| VideoReport {
            frames: report.frames.saturating_sub(held),
            resumed_frames: report.resumed_frames.min(report.frames.saturating_sub(held)),
            undecodable_frames: undecodable.load(Ordering::SeqCst),
            ..report
        })
    })
}

/// A render checked and ready for its first frame: its network loaded, its first frame (a zoom's)
/// or its footage probed, its plan (a zoom's), the part of a film it renders, and its state
/// (lock, work folder, checkpoint).
struct Ready {
    looping: Option<Loop>,
    zoom_plan: Option<FramePlan>,
    setup: DreamSetup,
    first: Option<Tensor>,
    part: Option<PartOfFilm>,
    state: Resumable,
}

enum Checked {
    Ready(Box<Ready>),
    /// A part of a film with no frames of its own: recorded, so the join goes on.
    NothingToDo(VideoReport),
}

impl Ready {
    /// Every check that needs no frame: the output's place and overwrite, the loop, a zoom's plan
    /// (schedules evaluated, the soundtrack analysed) before the weights load, the input opened
    /// and sized before the checkpoint is looked at (a typo never costs it), and the part's range.
    fn check(job: &Job, progress: &mut dyn Progress) -> Result<Checked> {
        let output = job.output();
        let inputs: Vec<&Path> = job.source().file().into_iter().collect();
        output.check_place(&inputs)?;
        // A part rendered unlike its film's other parts is refused before the weights load.
        parts::check_alike(job)?;
        output.make_folder()?;
        video::init()?;
        // A loop dreams on past the output's frames and fades those dreams into its first ones.
        let looping = match (job.is_loop(), job.span().frames) {
            (true, Some(frames)) => {
                Some(Loop::new(frames, job.frame_format().fps, WorkFolder::for_output(output.path()).path())?)
            }
            _ => None,
        };
        if let Some(looping) = &looping {
            progress.note(&looping.progress_note());
        }
        let zoom_plan = match job.source() {
            Source::Footage(_) => None,
            _ => Some(crate::run::per_frame::job_plan(job, job.frame_format().fps, job.span().frames.unwrap_or(1))?),
        };
        let setup = DreamSetup::load(job.dream())?;
        let device = setup.network().device();
        let first = first_frame(job, device)?;
        let probed = match job.source() {
            Source::Footage(input) => {
                let probe = VideoReader::open(input, &crate::run::per_frame::read_options(job))?;
                check_size(job, probe.info().width, probe.info().height)?;
                Some(probe.info().clone())
            }
            _ => None,
        };
        if let Some(first) = &first {
            let size = first.size();
            check_size(job, size[3] as u32, size[2] as u32)?;
        }
        // A part of a film checks the output as the first part to start does; the others find its
        // work folder (and, for an image sequence, its frames) there.
        let sibling_started = job.part().is_some() && !parts::started(output.path()).is_empty();
        output.check_overwrite(
            job.options().overwrite
                || sibling_started
                || (has_checkpoint(job) && !job.options().restart)
                || unfinished_sequence(job),
        )?;
        // A part of a film: where it starts and ends, found from the film's cuts.
        let part = match (job.part(), &probed) {
            (Some(part), Some(info)) => {
                let film_frames = span_frames(job, info, info.frame_rate.as_f64());
                Some(PartOfFilm { part, range: parts::range(job, part, film_frames)?, film_frames })
            }
            _ => None,
        };
        let state = Resumable::open(job, device, part.as_ref().map(|p| p.range))?;
        if let (Some(part), Some(info)) = (&part, &probed)
            && part.has_no_frames()
        {
            // Finished by definition: its record (in the work folder, which stays) lets the join on.
            parts::save_record(output.path(), part.part, &part.record(job, info.frame_rate))?;
            let checkpoint = state.work.file(crate::run::checkpoint::CHECKPOINT);
            let _ = std::fs::remove_file(checkpoint);
            return Ok(Checked::NothingToDo(VideoReport::empty(info.width, info.height)));
        }
        Ok(Checked::Ready(Box::new(Ready { looping, zoom_plan, setup, first, part, state })))
    }

    /// The dream stage of this render, sending to `to_encoder`.
    fn dream_stage<'a>(
        &'a self,
        job: &'a Job,
        to_encoder: &'a Sender<ToEncoder>,
        plan: &'a FramePlan,
        feed: &Feed,
        cancel: &'a AtomicBool,
    ) -> DreamStage<'a> {
        // From noise under the Fourier prior, frame 1 grows from a spectrum, not from the noise.
        let noise_start = matches!(job.source(), Source::Noise { .. }) && job.dream().noise_prior() == Prior::Fourier;
        let zoom_first = match feed {
            Feed::Zoom { first, .. } => Some(first.shallow_clone()),
            Feed::Footage { .. } => None,
        };
        let looping = self.looping.as_ref();
        DreamStage {
            to_encoder,
            checkpoint_every: job.options().checkpoint_every,
            cancel,
            colors: job.between_frames().colors,
            carry: job.dream().carry(),
            // A zoom keeps the colours of its start: matching each frame to the zoomed last one
            // alone greys them out within a few dozen frames. From noise under the Fourier prior
            // the start is frame 1's object, which the stage grows.
            color_reference: zoom_first.as_ref().filter(|_| !noise_start).map(Tensor::shallow_clone),
            noise_start: zoom_first.filter(|_| noise_start),
            plan,
            plan_index: Box::new(move |index| looping.map_or(index, |l| l.output_index(index))),
            looping,
            setup: &self.setup,
            part: self.part.as_ref().map(|p| p.range),
            device: self.setup.network().device(),
        }
    }
}

/// A zoom's first frame: the picture at the job's width, or noise of its size; footage has none.
fn first_frame(job: &Job, device: Device) -> Result<Option<Tensor>> {
    Ok(match job.source() {
        Source::Image(path) => Some(image_to_tensor(&load_image(path, job.frame_format().width)?, device)?),
        Source::Noise { width, height } => Some(noise(*height as i64, *width as i64, job.dream().seed(), device)?),
        Source::Footage(_) => None,
    })
}
