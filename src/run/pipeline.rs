//! The video pipeline, one for zoom and footage: the source (a zoom's own previous dream, or
//! footage decoded and followed by its optical flow), the dream and the encoder on their own
//! threads, joined by small bounded channels, so decoding and encoding overlap the dream and memory
//! stays flat however long the video. Each hop has its own message: decoded [`Frame`]s, frames
//! with their motion ([`FollowedFrame`]), dreamed frames and checkpoints ([`ToEncoder`]). Each
//! FFmpeg object lives on the thread that made it.
//!
//! Videos are encoded as segments of `checkpoint_every` frames in a work folder beside the output
//! (see [`crate::run::checkpoint`]); after each segment the last dreamed frame is checkpointed, and at
//! the end the segments are joined by stream copy with the sound into the output. So a killed
//! render loses at most one segment, and `--resume` continues where the checkpoint ends.
use crate::engine::ascent::Dreamer;
use crate::engine::fourier::Prior;
use crate::error::{Error, Result};
use crate::frame::color::ColorMode;
use crate::frame::footage::{Carry, FollowedFrame, carried_iterations, follow};
use crate::frame::image_io::{image_to_tensor, load_image, rgb8_to_tensor, tensor_to_rgb8};
use crate::frame::rgb::Frame;
use crate::frame::transform::{blend, noise};
use crate::job::Output;
use crate::job::plan::{FramePlan, FrameValues};
use crate::job::render_job::{Job, Part, Source};
use crate::run::checkpoint::{Checkpoint, OutputLock, WorkFolder, differences};
use crate::run::dream_setup::DreamSetup;
use crate::run::looping::Loop;
use crate::run::parts::{self, PartRange, PartRecord};
use crate::run::progress::Progress;
use crate::video::{self, AudioSource, FrameFormat, FrameWriter, Rational, ReadOptions, VideoInfo, VideoReader};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use tch::{Device, Tensor};

/// Frames in flight between two stages: enough to overlap them, little enough to keep memory flat.
const CHANNEL_FRAMES: usize = 2;

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
    fn empty(width: u32, height: u32) -> VideoReport {
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

/// What the dream stage sends the encoder.
enum ToEncoder {
    Frame(Frame),
    /// A frame of a part's cross-fade, kept as a picture in the work folder for the join.
    Aside(Frame),
    /// Close the segment and record that `frames_done` frames are safe, ending on `last`.
    Checkpoint {
        frames_done: u64,
        last: Tensor,
    },
    /// Join the segments into the output. A channel that closes without it means the render
    /// failed: the open segment is thrown away and the output left as it was.
    Finish,
}

/// Where the dream stage takes its frames from.
enum Feed<'a> {
    /// A zoom: frame `index` is the previous dream moved by the frame's motion; the first is `first`.
    Zoom { first: Tensor, indices: std::ops::Range<u64> },
    /// Footage: decoded frames (with the source's motion when flow is on), into which the previous
    /// dream is carried.
    Footage { frames: Box<dyn Iterator<Item = Result<FollowedFrame>> + 'a>, carry: Carry, flow: bool },
}

/// One frame as the dream stage receives it: its place in the video and, for footage, its pixels
/// and the source's motion from the frame before.
struct Incoming {
    index: u64,
    pts: i64,
    footage: Option<FollowedFrame>,
}

impl Iterator for Feed<'_> {
    type Item = Result<Incoming>;

    fn next(&mut self) -> Option<Result<Incoming>> {
        match self {
            Feed::Zoom { indices, .. } => {
                indices.next().map(|index| Ok(Incoming { index, pts: index as i64, footage: None }))
            }
            Feed::Footage { frames, .. } => frames.next().map(|followed| {
                followed.map(|(frame, motion)| Incoming {
                    index: frame.index,
                    pts: frame.pts,
                    footage: Some((frame, motion)),
                })
            }),
        }
    }
}

/// The image to dream for one frame, the image a mask's black keeps, and what the carry found.
struct Prepared {
    image: Tensor,
    kept: Tensor,
    /// Footage: the frame starts a new shot.
    cut: bool,
    /// Footage with flow: the frame carries the previous dream (and is dreamed with fewer iterations).
    carried: bool,
}

impl Feed<'_> {
    /// The image to dream for `incoming` from the previous dream, with `values`' motion and blend.
    fn prepare(
        &self,
        previous: Option<&Tensor>,
        incoming: &Incoming,
        values: &FrameValues,
        device: Device,
    ) -> Result<Prepared> {
        match (self, &incoming.footage) {
            (Feed::Zoom { first, .. }, _) => {
                let image = match previous {
                    None => first.shallow_clone(),
                    Some(previous) => values.motion().apply(previous)?,
                };
                Ok(Prepared { kept: image.shallow_clone(), image, cut: false, carried: false })
            }
            (Feed::Footage { carry, flow, .. }, Some((frame, frame_motion))) => {
                let new = rgb8_to_tensor(&frame.rgb, frame.width, frame.height, device)?;
                let carry = Carry { motion: values.motion(), blend: values.numbers.blend, ..*carry };
                if *flow {
                    let carried = carry.prepare(previous, &new, frame_motion.as_ref())?;
                    return Ok(Prepared {
                        image: carried.image,
                        kept: new,
                        cut: carried.cut,
                        carried: carried.carried,
                    });
                }
                let image = match previous {
                    Some(previous) if previous.size() == new.size() => {
                        blend(&carry.motion.apply(previous)?, &new, carry.blend)?
                    }
                    _ => new.shallow_clone(),
                };
                Ok(Prepared { image, kept: new, cut: false, carried: false })
            }
            (Feed::Footage { .. }, None) => Err(Error::internal("a footage frame came without its pixels")),
        }
    }
}

/// What the source stage found: the frames' size, time base, rate and count, and its sound.
struct SourceFacts {
    width: u32,
    height: u32,
    time_base: Rational,
    frame_rate: Rational,
    /// The frames the plan covers (footage: the span's, else the reader's estimate).
    frames: u64,
    /// Frames for the progress display (`None`: unknown).
    progress_total: Option<u64>,
    /// The sound to mux in, before it is planned for the output's container.
    sound: Option<AudioSource>,
}

/// Renders a zoom or footage job: the one video pipeline.
pub fn render_video(job: &Job, progress: &mut dyn Progress, cancel: &AtomicBool) -> Result<VideoReport> {
    let output = job.output();
    let inputs: Vec<&Path> = job.source().file().into_iter().collect();
    output.check_place(&inputs)?;
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
    // A zoom's plan (schedules evaluated and checked, the soundtrack analysed) comes before the
    // weights load; footage's once the decoder has said how many frames it holds.
    let zoom_plan = match job.source() {
        Source::Footage(_) => None,
        _ => Some(crate::run::per_frame::job_plan(job, job.frame_format().fps, job.span().frames.unwrap_or(1))?),
    };
    let setup = DreamSetup::load(job.dream())?;
    let device = setup.network().device();
    let first = match job.source() {
        Source::Image(path) => Some(image_to_tensor(&load_image(path, job.frame_format().width)?, device)?),
        Source::Noise { width, height } => Some(noise(*height as i64, *width as i64, job.dream().seed(), device)?),
        Source::Footage(_) => None,
    };
    // The input is opened and checked before the checkpoint is looked at: a typo never costs it.
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
        job.options().overwrite || sibling_started || (has_checkpoint(job) && !job.options().restart),
    )?;
    // A part of a film: where it starts and ends, found from the film's cuts.
    let part = match (job.part(), &probed) {
        (Some(part), Some(info)) => {
            let film_frames = span_frames(job, info, info.frame_rate.as_f64());
            Some(PartOfFilm { part, range: parts::range(job, part, film_frames)?, film_frames })
        }
        _ => None,
    };
    let mut state = Resumable::open(job, device, part.as_ref().map(|p| p.range))?;
    if let (Some(part), Some(info)) = (&part, &probed)
        && part.range.is_empty()
    {
        // Nothing of its own (cut-only parts of a film with few cuts): recorded, so the join goes on.
        parts::save_record(output.path(), part.part, &part.record(job, info.frame_rate))?;
        state.work.remove();
        return Ok(VideoReport::empty(info.width, info.height));
    }
    let started = Instant::now();
    // A part dreams from its own first frame (or its warm-up's), a resume from its checkpoint.
    let first_dreamed = state.first_dreamed();
    let (resumed, skip) = (state.last.take(), state.frames_done().max(first_dreamed));
    let undecodable = AtomicU64::new(0);
    let undecodable = &undecodable;
    thread::scope(|scope| {
        let mut sources = Vec::new();
        let (facts, plan, mut feed) = match first {
            Some(first) => {
                let facts = zoom_facts(job, &first, looping.as_ref());
                let indices = skip..looping.as_ref().map_or(facts.frames, Loop::dreams);
                let plan = zoom_plan.ok_or_else(|| Error::internal("a zoom's plan is made before its pipeline"))?;
                (facts, plan, Feed::Zoom { first, indices })
            }
            None => {
                // With flow, a resume decodes the frame before its first again: the flow starts from it.
                let flow = job.between_frames().flow;
                let decode_from = if flow { skip.saturating_sub(1) } else { skip };
                let (info_tx, info_rx) = bounded::<Result<VideoInfo>>(1);
                let (to_flow, decoded) = bounded(CHANNEL_FRAMES);
                let read = crate::run::per_frame::read_options(job);
                let input = job.source().path();
                let decoder = spawn_stage(scope, "decode", move || {
                    decode(input, &read, (decode_from, cancel, undecodable), info_tx, to_flow)
                })?;
                let info = match info_rx.recv() {
                    Ok(Ok(info)) => info,
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Err(join(decoder).err().unwrap_or(Error::Interrupted)),
                };
                sources.push(decoder);
                let mut facts = footage_facts(job, &info);
                if let Some(part) = &part {
                    let end = part.range.end.or(facts.progress_total);
                    facts.progress_total = end.map(|end| end.saturating_sub(part.range.dream_from));
                }
                if let Some(note) = short_span_note(job, &info) {
                    progress.note(&note);
                }
                let plan = crate::run::per_frame::job_plan(job, info.frame_rate.as_f64(), facts.frames)?;
                let frames: Box<dyn Iterator<Item = Result<FollowedFrame>>> = match flow {
                    true => {
                        let (to_dream, followed) = bounded(CHANNEL_FRAMES);
                        sources.push(spawn_stage(scope, "flow", move || follow(decoded, skip, to_dream))?);
                        Box::new(followed.into_iter())
                    }
                    false => Box::new(decoded.into_iter().map(|frame| frame.map(|frame| (frame, None)))),
                };
                let between = job.between_frames();
                let carry = Carry {
                    motion: crate::frame::transform::Motion::NONE,
                    blend: 1.0,
                    scene_threshold: between.scene_threshold,
                    colors: between.colors,
                };
                (facts, plan, Feed::Footage { frames, carry, flow })
            }
        };
        let (to_encoder, encoder_messages) = bounded(CHANNEL_FRAMES);
        let record = part.as_ref().map(|p| p.record(job, facts.frame_rate));
        let stage = state.encode_stage(job.output(), frame_format(&facts), facts.sound.clone(), record);
        // The writer is made on the encoder's thread, before the first frame: an output that could
        // not be written, or sound that could not go into it, is refused before any dream.
        let (ready, readied) = bounded(1);
        let encoder = spawn_stage(scope, "encode", move || stage.run(ready, encoder_messages))?;
        match readied.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(join(encoder).err().unwrap_or(Error::Interrupted)),
        }
        progress.start(facts.progress_total);
        progress.advance(skip - first_dreamed);
        // From noise under the Fourier prior, frame 1 grows from a spectrum, not from the noise.
        let noise_start = matches!(job.source(), Source::Noise { .. }) && job.dream().noise_prior() == Prior::Fourier;
        let zoom_first = match &feed {
            Feed::Zoom { first, .. } => Some(first.shallow_clone()),
            Feed::Footage { .. } => None,
        };
        let stage = DreamStage {
            to_encoder: &to_encoder,
            checkpoint_every: job.options().checkpoint_every,
            cancel,
            colors: job.between_frames().colors,
            // A zoom keeps the colours of its start: matching each frame to the zoomed last one
            // alone greys them out within a few dozen frames. From noise under the Fourier prior
            // the start is frame 1's object, which `run` grows.
            color_reference: zoom_first.as_ref().filter(|_| !noise_start),
            noise_start: zoom_first.as_ref().filter(|_| noise_start),
            plan: &plan,
            plan_index: &|index| looping.as_ref().map_or(index, |l| l.output_index(index)),
            looping: looping.as_ref(),
            setup: &setup,
            part: part.as_ref().map(|p| p.range),
        };
        let dreamed = stage.run(&mut feed, resumed, progress, device);
        // A decoder (or flow stage) parked in a full channel's send never sees the cancel flag:
        // closing the channel wakes it, so the joins in `finish` always return.
        drop(feed);
        let written = job.output().written_size(facts.width, facts.height);
        let report = state.finish(dreamed, to_encoder, encoder, sources, written, started);
        let held = looping.as_ref().map_or(0, |l| l.overlap);
        report.map(|report| VideoReport {
            frames: report.frames.saturating_sub(held),
            resumed_frames: report.resumed_frames.min(report.frames.saturating_sub(held)),
            undecodable_frames: undecodable.load(Ordering::SeqCst),
            ..report
        })
    })
}

/// A zoom's frames: the first frame's size, the job's rate, the soundtrack.
fn zoom_facts(job: &Job, first: &Tensor, looping: Option<&Loop>) -> SourceFacts {
    let size = first.size();
    let frame_rate = fps_rational(job.frame_format().fps);
    let frames = job.span().frames.unwrap_or(1);
    SourceFacts {
        width: size[3] as u32,
        height: size[2] as u32,
        time_base: Rational::new(frame_rate.den, frame_rate.num),
        frame_rate,
        frames,
        progress_total: Some(looping.map_or(frames, Loop::dreams)),
        sound: job.soundtrack().map(|path| AudioSource {
            path: path.to_owned(),
            start_seconds: 0.0,
            duration_seconds: None,
        }),
    }
}

/// How a film's frames are written and the sound its output gets (`--audio`, else the footage's
/// own, none under `--no-audio`), as a one-process render decides them: what `--join` writes a
/// cross-fade with and muxes into the joined parts.
pub(crate) fn film_output(job: &Job) -> Result<(FrameFormat, Option<AudioSource>)> {
    video::init()?;
    let reader = VideoReader::open(job.source().path(), &crate::run::per_frame::read_options(job))?;
    let facts = footage_facts(job, reader.info());
    Ok((frame_format(&facts), facts.sound))
}

/// A part of a film being rendered: which, where it starts and ends, and the film's length.
struct PartOfFilm {
    part: Part,
    range: PartRange,
    film_frames: u64,
}

impl PartOfFilm {
    /// The part's record as the join reads it, before any frame is written.
    fn record(&self, job: &Job, rate: Rational) -> PartRecord {
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

/// Footage's frames as the decoder found them, and its sound: `--audio`, else the source's own
/// (cut to the same span), none under `--no-audio`.
fn footage_facts(job: &Job, info: &VideoInfo) -> SourceFacts {
    let own_sound = (info.audio_streams > 0).then(|| AudioSource {
        path: job.source().path().to_owned(),
        start_seconds: info.start_seconds,
        duration_seconds: None,
    });
    let soundtrack =
        job.soundtrack().map(|path| AudioSource { path: path.to_owned(), start_seconds: 0.0, duration_seconds: None });
    SourceFacts {
        width: info.width,
        height: info.height,
        time_base: info.time_base,
        frame_rate: info.frame_rate,
        frames: span_frames(job, info, info.frame_rate.as_f64()),
        progress_total: info.frame_count,
        sound: if job.keeps_sound() { soundtrack.or(own_sound) } else { None },
    }
}

/// The codec's limits at the frames' real size. Footage's height follows its aspect, so `--width`
/// is what changes either side of it.
fn check_size(job: &Job, width: u32, height: u32) -> Result<()> {
    crate::run::frame_memory::check_frame(job, width, height)?;
    job.output().check_size(Some(width), Some(height)).map_err(|(key, message)| match job.source() {
        Source::Footage(_) => Error::setting("width", format!("{message} (footage keeps its shape: raise --width)")),
        _ => Error::setting(key, message),
    })
}

/// Whether an interrupted render left a checkpoint beside the output.
fn has_checkpoint(job: &Job) -> bool {
    let work = match job.part() {
        Some(part) => parts::folder(job.output().path(), part),
        None => WorkFolder::for_output(job.output().path()),
    };
    work.file(crate::run::checkpoint::CHECKPOINT).is_file()
}

/// The output's lock, work folder and checkpoint, from the start of a render to its end.
struct Resumable {
    /// A part of a film, and where it starts: its work folder stays for the join.
    part: Option<PartRange>,
    work: WorkFolder,
    checkpoint: Checkpoint,
    last: Option<Tensor>,
    _lock: OutputLock,
}

impl Resumable {
    /// Locks the output and, on `--resume`, picks up a matching checkpoint. Without `--resume`
    /// an existing checkpoint is refused unless `--restart`: only a render that starts may drop it.
    fn open(job: &Job, device: Device, range: Option<PartRange>) -> Result<Self> {
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
        let parts_started = parts::started(output);
        if job.part().is_none() && !parts_started.is_empty() && !options.restart {
            return Err(Error::output(
                output,
                format!(
                    "parts of this film are being rendered in '{}': --join them, or add --restart to discard them",
                    work.path().display()
                ),
            ));
        }
        if let Some(part) = job.part().filter(|_| !options.restart && !options.resume)
            && parts::load_record(output, part)?.is_some()
        {
            return Err(Error::output(
                output,
                format!("{part} has finished: --join the parts, or add --restart to render it again"),
            ));
        }
        let saved = if options.restart { None } else { work.load()? };
        if saved.is_some() && !options.resume {
            return Err(Error::output(
                output,
                format!(
                    "an earlier render left a checkpoint in '{}': add --resume to continue it or --restart to discard it",
                    work.path().display()
                ),
            ));
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

    fn frames_done(&self) -> u64 {
        self.checkpoint.frames_done
    }

    /// The first frame this render dreams when it starts afresh (a part's, else 0).
    fn first_dreamed(&self) -> u64 {
        self.part.map_or(0, |range| range.dream_from)
    }

    /// The encode stage's state, handed to its thread.
    fn encode_stage<'a>(
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
    fn finish(
        self,
        dreamed: Result<Dreamed>,
        to_encoder: Sender<ToEncoder>,
        encoder: thread::ScopedJoinHandle<'_, Result<()>>,
        sources: Vec<thread::ScopedJoinHandle<'_, Result<()>>>,
        (width, height): (u32, u32),
        started: Instant,
    ) -> Result<VideoReport> {
        if dreamed.as_ref().is_ok_and(|done| done.frames + self.frames_done() > 0) {
            let _ = to_encoder.send(ToEncoder::Finish);
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
        let next = self.frames_done().max(self.first_dreamed()) + done.frames;
        let first_written = self.part.map_or(0, |range| range.start);
        if self.part.is_none() {
            self.work.remove();
        }
        Ok(VideoReport {
            frames: next.saturating_sub(first_written),
            resumed_frames: self.frames_done().saturating_sub(first_written),
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
    fn drop(&mut self) {
        if !self.work.file(crate::run::checkpoint::CHECKPOINT).exists() {
            self.work.remove();
        }
    }
}

/// Frames the dream stage has done, and how.
struct Dreamed {
    frames: u64,
    dream_time: Duration,
    last_objective: f64,
    interrupted: bool,
    /// Footage frames found to start a new shot.
    cuts: Vec<u64>,
}

struct DreamStage<'a> {
    to_encoder: &'a Sender<ToEncoder>,
    checkpoint_every: u64,
    cancel: &'a AtomicBool,
    /// Ties each dreamed frame's colours to `color_reference` (else to the image it was dreamed
    /// from), so feedback cannot drift.
    colors: ColorMode,
    color_reference: Option<&'a Tensor>,
    /// The noise that the first frame grows from ([`Dreamer::dream_from_noise`]); without a
    /// `color_reference` the later frames keep that first frame's colours.
    noise_start: Option<&'a Tensor>,
    /// Every frame's values; a frame's row is `plan_index(index)` (a loop's dreams share rows).
    plan: &'a FramePlan,
    plan_index: &'a dyn Fn(u64) -> u64,
    /// A looping zoom's hold and fade of its dreams (see `crate::run::looping`).
    looping: Option<&'a Loop>,
    setup: &'a DreamSetup,
    /// A part of a film: frames before its start are its warm-up (dreamed, not written), it ends
    /// where the next part starts (or a cross-fade later), and sets the frames of its cross-fades
    /// aside.
    part: Option<PartRange>,
}

impl DreamStage<'_> {
    /// For each incoming frame, the feed makes the image to dream from the previous dreamed frame
    /// (and the image a mask's black keeps); the result goes to the encoder, with a checkpoint
    /// every few frames and at the end. Stops early on `cancel`, or when the encoder has gone
    /// (its error is reported).
    fn run(
        &self,
        feed: &mut Feed,
        mut last: Option<Tensor>,
        progress: &mut dyn Progress,
        device: Device,
    ) -> Result<Dreamed> {
        let mut done = Dreamed {
            frames: 0,
            dream_time: Duration::ZERO,
            last_objective: 0.0,
            interrupted: false,
            cuts: Vec::new(),
        };
        let mut dreamer = self.setup.dreamer(self.setup.params(self.plan.frame((self.plan_index)(0)))?)?;
        let mut row_in_use = (self.plan_index)(0);
        let mut next_index = None;
        // The first frame grown from noise, the colour reference of the later ones (see
        // `noise_start`): dreamed in the loop, or again (seeded per frame, so the same) when a
        // resume starts past it.
        let mut grown = match (self.noise_start, &last) {
            (Some(noise), Some(_)) => {
                self.begin_frame(&mut dreamer, &mut row_in_use, 0)?;
                Some(dreamer.dream_from_noise(noise)?)
            }
            _ => None,
        };
        while let Some(incoming) = feed.next() {
            if self.cancel.load(Ordering::SeqCst) {
                done.interrupted = true;
                break;
            }
            let incoming = incoming?;
            if self.part.and_then(|p| p.dream_until()).is_some_and(|until| incoming.index >= until) {
                break;
            }
            let started = Instant::now();
            self.begin_frame(&mut dreamer, &mut row_in_use, incoming.index)?;
            let values = self.plan.frame((self.plan_index)(incoming.index));
            let prepared = feed.prepare(last.as_ref(), &incoming, values, device)?;
            if prepared.cut {
                done.cuts.push(incoming.index);
            }
            let image = &prepared.image;
            let dreamed = if self.noise_start.is_some() && last.is_none() {
                let dreamed = dreamer.dream_from_noise(image)?;
                grown = Some(dreamed.shallow_clone());
                dreamed
            } else {
                let reference = self.color_reference.or(grown.as_ref()).unwrap_or(image);
                let iterations = match prepared.carried {
                    true => carried_iterations(dreamer.params().iterations),
                    false => dreamer.params().iterations,
                };
                crate::frame::color::settle(dreamer.dream_iterations(image, iterations)?, reference, self.colors)?
            };
            // Colours settle over the whole frame: the mask is applied again after them.
            let dreamed = match &dreamer.params().mask {
                Some(mask) => {
                    let size = dreamed.size();
                    crate::frame::mask::apply(&mask.at(size[2], size[3], dreamed.device())?, &prepared.kept, &dreamed)?
                }
                None => dreamed,
            };
            let (width, height, rgb) = tensor_to_rgb8(&dreamed)?;
            done.dream_time += started.elapsed();
            let out = Frame { index: incoming.index, pts: incoming.pts, width, height, rgb };
            let out = match self.looping {
                _ if self.part.is_some_and(|p| out.index < p.start) => None,
                Some(looping) => looping.output(out)?,
                None => Some(out),
            };
            let message = match out {
                Some(out) if self.part.is_some_and(|p| p.set_aside(out.index)) => Some(ToEncoder::Aside(out)),
                out => out.map(ToEncoder::Frame),
            };
            if let Some(message) = message
                && self.to_encoder.send(message).is_err()
            {
                break; // the encoder failed; its error is reported by `finish`
            }
            last = Some(dreamed);
            next_index = Some(incoming.index + 1);
            done.frames += 1;
            progress.advance(1);
            if (incoming.index + 1) % self.checkpoint_every == 0 && !self.checkpoint(incoming.index + 1, &last)? {
                break;
            }
        }
        // The decoder also stops on Ctrl-C, which ends the source early: that is an interruption too.
        done.interrupted |= self.cancel.load(Ordering::SeqCst);
        if let (Some(frames_done), Some(_)) = (next_index, &last)
            && frames_done % self.checkpoint_every != 0
        {
            self.checkpoint(frames_done, &last)?;
        }
        if let Some(last) = &last {
            done.last_objective = dreamer.params().objective.value_of(dreamer.network(), last)?;
        }
        progress.finish();
        Ok(done)
    }

    /// Sets up the dreamer for frame `index`: its row's dream parameters when they differ from the
    /// row in use, and its seeds.
    fn begin_frame(&self, dreamer: &mut Dreamer, row_in_use: &mut u64, index: u64) -> Result<()> {
        let row = (self.plan_index)(index);
        if self.plan.frame(row) != self.plan.frame(*row_in_use) {
            dreamer.set_params(self.setup.params(self.plan.frame(row))?)?;
            *row_in_use = row;
        }
        dreamer.start_frame(index);
        Ok(())
    }

    /// Asks the encoder to make `frames_done` frames safe; false when the encoder has gone.
    fn checkpoint(&self, frames_done: u64, last: &Option<Tensor>) -> Result<bool> {
        let Some(last) = last else { return Ok(true) };
        let last = last.f_to_device(Device::Cpu)?;
        Ok(self.to_encoder.send(ToEncoder::Checkpoint { frames_done, last }).is_ok())
    }
}

/// The encode stage: the output's writer (segments in the work folder, or frames straight into
/// an image sequence), a checkpoint after each segment, and the output made at the end.
struct EncodeStage<'a> {
    output: &'a Output,
    work: WorkFolder,
    checkpoint: Checkpoint,
    frames: FrameFormat,
    sound: Option<AudioSource>,
    /// A part of a film: what its record says, written instead of the output.
    record: Option<PartRecord>,
}

impl EncodeStage<'_> {
    /// Makes the output's writer (saying on `ready` whether it could), then writes what the
    /// dream sends. A writer dropped unfinished removes what it wrote since the last checkpoint,
    /// and only that.
    fn run(mut self, ready: Sender<Result<()>>, messages: Receiver<ToEncoder>) -> Result<()> {
        let mut writer = match self.output.writer(self.frames, self.work.path(), self.sound.as_ref()) {
            Ok(writer) => writer,
            Err(e) => {
                let _ = ready.send(Err(e));
                return Ok(());
            }
        };
        let _ = ready.send(Ok(()));
        for message in messages {
            match message {
                ToEncoder::Frame(frame) => {
                    writer.write(&frame)?;
                    crate::run::test_hooks::pause(crate::run::test_hooks::Stage::Encode);
                }
                ToEncoder::Aside(frame) => self.set_aside(&frame)?,
                ToEncoder::Checkpoint { frames_done, last } => {
                    self.checkpoint.segments.extend(writer.checkpoint()?);
                    self.checkpoint.frames_done = frames_done;
                    self.work.save(&mut self.checkpoint, &last)?;
                }
                ToEncoder::Finish => return self.finish(writer),
            }
        }
        writer.abandon();
        Ok(())
    }

    /// Saves a frame of a cross-fade as a PNG in the work folder, atomically.
    fn set_aside(&self, frame: &Frame) -> Result<()> {
        let path = self.work.file(&parts::fade_name(frame.index, frame.pts));
        crate::frame::image_io::save_rgb8(frame.width, frame.height, frame.rgb.clone(), &path, image::ImageFormat::Png)
    }

    /// Makes the output of the finished segments, with the sound; a part of a film records
    /// itself instead, for the join.
    fn finish(self, writer: Box<dyn FrameWriter>) -> Result<()> {
        if let Some(record) = &self.record {
            writer.abandon();
            let part = record.range.part();
            let last = record.range.end.map_or(self.checkpoint.frames_done, |end| end.min(self.checkpoint.frames_done));
            let record = PartRecord {
                written: last.saturating_sub(record.range.start),
                segments: self.checkpoint.segments.clone(),
                ..record.clone()
            };
            return parts::save_record(self.output.path(), part, &record);
        }
        crate::run::test_hooks::pause(crate::run::test_hooks::Stage::Join);
        if self.sound.is_some() && crate::run::test_hooks::fail_sound_mux() {
            let path = self.output.path();
            return Err(Error::write(path, "the sound could not be muxed (DREAMREEL_TEST_FAIL_SOUND_MUX)"));
        }
        let segments: Vec<PathBuf> = self.checkpoint.segments.iter().map(|name| self.work.file(name)).collect();
        // A join that fails keeps the segments and the checkpoint: `--resume` (with `--no-audio`,
        // which changes no frame, if the sound was at fault) joins them again.
        writer.finish(&segments, self.checkpoint.frames_done)
    }
}

fn spawn_stage<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    work: impl FnOnce() -> Result<T> + Send + 'scope,
) -> Result<thread::ScopedJoinHandle<'scope, Result<T>>> {
    thread::Builder::new().name(name.into()).spawn_scoped(scope, work).map_err(|e| Error::io(PathBuf::from(name), e))
}

/// A stage's result; a stage that panicked is a bug, reported as one.
fn join<T>(handle: thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    let name = handle.thread().name().unwrap_or("pipeline").to_string();
    handle.join().unwrap_or_else(|_| Err(Error::internal(format!("the {name} thread panicked"))))
}

/// The decode stage: opens the file on this thread, says what it found, skips the frames a
/// checkpoint already holds, then sends frames until the span ends or the dream stage stops.
fn decode(
    input: &Path,
    read: &ReadOptions,
    (skip, cancel, undecodable): (u64, &AtomicBool, &AtomicU64),
    info: Sender<Result<VideoInfo>>,
    frames: Sender<Result<Frame>>,
) -> Result<()> {
    let mut reader = match VideoReader::open(input, read) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = info.send(Err(e.into()));
            return Ok(());
        }
    };
    let _ = info.send(Ok(reader.info().clone()));
    loop {
        // Skipping a long checkpoint's frames can take a while: stop there too on Ctrl-C.
        if cancel.load(Ordering::SeqCst) {
            return Ok(());
        }
        let next = reader.next_frame();
        crate::run::test_hooks::pause(crate::run::test_hooks::Stage::Decode);
        match next {
            Ok(Some(frame)) if frame.index < skip => continue,
            Ok(Some(frame)) => {
                if frames.send(Ok(frame)).is_err() {
                    return Ok(());
                }
            }
            Ok(None) => {
                undecodable.store(reader.undecodable_frames(), Ordering::SeqCst);
                return Ok(());
            }
            Err(e) => {
                let _ = frames.send(Err(e.into()));
                return Ok(());
            }
        }
    }
}

/// The frames' size and timing, as the writer takes them.
fn frame_format(facts: &SourceFacts) -> FrameFormat {
    FrameFormat { width: facts.width, height: facts.height, time_base: facts.time_base, frame_rate: facts.frame_rate }
}

/// "The input has 48 frames from --start 1.9 s: 100 asked for, 48 will be rendered", when the
/// span asks for more frames than the input holds (by the reader's count before the first frame).
fn short_span_note(job: &Job, info: &VideoInfo) -> Option<String> {
    let span = job.span();
    let rate = info.frame_rate.as_f64();
    let asked = span.frames.or(span.seconds.map(|seconds| (seconds * rate).round() as u64))?;
    let holds = info.frame_count.or(info.duration_seconds.map(|s| (s * rate).round() as u64))?;
    let start = span.start_seconds;
    let from = if start > 0.0 { format!(" from --start {start} s") } else { String::new() };
    (holds < asked)
        .then(|| format!("the input has {holds} frame(s){from}: {asked} asked for, {holds} will be rendered"))
}

/// The frames a footage job will dream, for its plan: the span's, else the reader's estimate.
pub(crate) fn span_frames(job: &Job, info: &VideoInfo, frame_rate: f64) -> u64 {
    let span = job.span();
    let by_seconds = span.seconds.map(|seconds| (seconds * frame_rate).round() as u64);
    let estimate = info.frame_count.or(info.duration_seconds.map(|s| (s * frame_rate).round() as u64));
    let frames = match (span.frames, by_seconds) {
        (Some(frames), _) => Some(frames.min(estimate.unwrap_or(frames))),
        (None, Some(frames)) => Some(frames.min(estimate.unwrap_or(frames))),
        (None, None) => estimate,
    };
    frames.unwrap_or(1).max(1)
}

/// A frame rate as a fraction: whole rates exactly, others to a thousandth (29.97 -> 29970/1000).
pub(crate) fn fps_rational(fps: f64) -> Rational {
    if fps.fract() == 0.0 { Rational::new(fps as i32, 1) } else { Rational::new((fps * 1000.0).round() as i32, 1000) }
}
