//! The video pipeline: decode, dream and encode on their own threads, joined by small bounded
//! channels, so decoding and encoding overlap the dream and memory stays flat however long the
//! video. Frames travel as owned RGB buffers with their index and timestamp; each FFmpeg object
//! lives on the thread that made it.
//!
//! Videos are encoded as segments of `checkpoint_every` frames in a work folder beside the output
//! (see [`crate::run::checkpoint`]); after each segment the last dreamed frame is checkpointed, and at
//! the end the segments are joined by stream copy with the sound into the output. So a killed
//! render loses at most one segment, and `--resume` continues where the checkpoint ends.
use crate::engine::ascent::Dreamer;
use crate::engine::fourier::Prior;
use crate::error::{Error, Result};
use crate::frame::color::ColorMode;
use crate::frame::flow::FrameMotion;
use crate::frame::footage::{Carry, FollowedFrame, Prepared, carried_iterations, follow};
use crate::frame::image_io::{image_to_tensor, load_image, rgb8_to_tensor, tensor_to_rgb8};
use crate::frame::rgb::Frame;
use crate::frame::transform::{blend, noise};
use crate::job::render_job::{BetweenFrames, EncodeSettings, Job, Mode, RenderOptions};
use crate::output::check_output_path;
use crate::run::checkpoint::{Checkpoint, OutputLock, WorkFolder, differences};
use crate::run::engine::Engine;
use crate::run::progress::Progress;
use crate::video::{
    self, AudioSource, ConcatOptions, Rational, ReadOptions, VideoInfo, VideoReader, VideoWriter, WriteOptions,
};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
}

/// What the dream stage sends the encoder.
enum ToEncoder {
    Frame(Frame),
    /// Close the segment and record that `frames_done` frames are safe, ending on `last`.
    Checkpoint {
        frames_done: u64,
        last: Tensor,
    },
    /// Join the segments into the output. A channel that closes without it means the render
    /// failed: the open segment is thrown away and the output left as it was.
    Finish,
}

/// Renders a dream zoom of `job.span.frames` frames: frame 1 is the dreamed start, each next
/// one the previous dreamed frame moved by the motion and dreamed again.
pub fn render_zoom(job: &Job, progress: &mut dyn Progress, cancel: &AtomicBool) -> Result<VideoReport> {
    let (output, format, options) = (job.output.as_path(), job.frames, job.options);
    // `Job::new` gives every zoom its frames (at least one).
    let frames = job.span.frames.unwrap_or(1);
    let input = job.input.file();
    check_video_output(output, input.as_slice())?;
    // A loop dreams on past the output's frames and fades those dreams into its first ones.
    let looping = match job.settings.looped {
        true => Some(crate::run::looping::Loop::new(frames, format.fps, WorkFolder::for_output(output).path())?),
        false => None,
    };
    let dreams = looping.as_ref().map_or(frames, crate::run::looping::Loop::dreams);
    let plan_index = |dream: u64| looping.as_ref().map_or(dream, |l| l.output_index(dream));
    // Schedules are evaluated and checked (and the soundtrack analysed) before the weights load.
    let plan = crate::run::scheduled::scheduled_plan(job, format.fps, frames)?;
    let engine = Engine::load(&job.settings)?;
    let frame_params = match &plan {
        Some(plan) => {
            let params = crate::run::scheduled::frame_params(plan, &job.settings, &engine.network)?;
            Some((0..dreams).map(|dream| params[plan_index(dream) as usize].clone()).collect::<Vec<_>>())
        }
        None => None,
    };
    let device = engine.network.device();
    let first = match input {
        Some(path) => image_to_tensor(&load_image(path, format.width)?, device)?,
        None => {
            let Some((width, height)) = format.noise_size() else {
                return Err(Error::setting("--width", "a zoom from noise needs --width"));
            };
            noise(height as i64, width as i64, engine.seed, device)?
        }
    };
    let size = first.size();
    let (width, height) = (size[3] as u32, size[2] as u32);
    let frame_rate = fps_rational(format.fps);
    let time_base = Rational::new(frame_rate.den, frame_rate.num);
    check_codec_size(output, &job.encode, width, height)?;
    check_overwrite(output, &options)?;
    let description = job_description(job, serde_json::json!({ "frames": frames }));
    let mut state = Resumable::open(output, description, options, device)?;
    let write = write_options(output, &job.encode, width, height, time_base, frame_rate);
    check_writable(output, &write)?;
    let motion = job.motion();
    let started = Instant::now();
    progress.start(Some(dreams));
    progress.advance(state.frames_done());
    let mut dreamer = engine.dreamer()?;
    // From noise under the Fourier prior, frame 1 grows from a spectrum, not from the noise.
    let noise_start = input.is_none() && engine.params.noise_prior == Prior::Fourier;
    let resumed = state.last.take();
    thread::scope(|scope| {
        let (to_encoder, encoder_frames) = bounded(CHANNEL_FRAMES);
        let sink = state.sink(write, soundtrack_source(job));
        let encoder = spawn_stage(scope, "encode", move || sink.run(encoder_frames))?;
        let mut source = (state.frames_done()..dreams)
            .map(|index| Ok((Frame { index, pts: index as i64, width, height, rgb: vec![] }, None)));
        let stage = DreamStage {
            to_encoder: &to_encoder,
            checkpoint_every: options.checkpoint_every,
            cancel,
            colors: job.between_frames.colors,
            // A zoom keeps the colours of its start: matching each frame to the zoomed last one
            // alone greys them out within a few dozen frames. From noise under the Fourier prior
            // the start is frame 1's object, which `run` grows.
            color_reference: (!noise_start).then_some(&first),
            noise_start: noise_start.then_some(&first),
            carried_iterations: None,
            frame_params: frame_params.as_deref(),
            looping: looping.as_ref(),
        };
        let dreamed = stage.run(&mut dreamer, &mut source, resumed, progress, |previous, frame, _| {
            let motion = plan.as_ref().map_or(motion, |plan| plan.frame(plan_index(frame.index)).motion());
            let image = match previous {
                None => first.shallow_clone(),
                Some(previous) => motion.apply(previous)?,
            };
            Ok((image.shallow_clone(), image))
        });
        let report = state.finish(dreamed, to_encoder, encoder, None, (width, height), started);
        let held = looping.as_ref().map_or(0, |l| l.overlap);
        report.map(|report| VideoReport {
            frames: report.frames.saturating_sub(held),
            resumed_frames: report.resumed_frames.min(report.frames.saturating_sub(held)),
            ..report
        })
    })
}

/// Dreams footage: each decoded frame is blended with the previous dreamed frame (moved by the
/// motion) and the blend is dreamed. Keeps the source's timestamps and, unless `job.audio` is
/// false, its sound, cut to the same span.
pub fn render_footage(job: &Job, progress: &mut dyn Progress, cancel: &AtomicBool) -> Result<VideoReport> {
    let (input, output, between, options) = (job.input.path(), job.output.as_path(), job.between_frames, job.options);
    check_video_output(output, &[input])?;
    video::init()?;
    let engine = Engine::load(&job.settings)?;
    let device = engine.network.device();
    let (read, description) = footage_span(job);
    // The input is opened and checked before the checkpoint is looked at: a typo never costs it.
    let probe = VideoReader::open(input, &read)?;
    check_codec_size(output, &job.encode, probe.info().width, probe.info().height)?;
    drop(probe);
    check_overwrite(output, &options)?;
    let mut state = Resumable::open(output, description, options, device)?;
    let started = Instant::now();
    let mut dreamer = engine.dreamer()?;
    let (resumed, skip) = (state.last.take(), state.frames_done());
    // With flow, a resume decodes the frame before its first again: the flow starts from it.
    let decode_from = if between.flow { skip.saturating_sub(1) } else { skip };
    let mut cuts = Vec::new();
    let carry = carry_of(&between);
    // Set by `prepare` for a frame that carries the previous dream: it takes fewer iterations.
    let carrying = std::cell::Cell::new(false);
    thread::scope(|scope| {
        let (info_tx, info_rx) = bounded::<Result<VideoInfo>>(1);
        let (to_dream, decoded) = bounded(CHANNEL_FRAMES);
        let decoder =
            spawn_stage(scope, "decode", move || decode(input, &read, (decode_from, cancel), info_tx, to_dream))?;
        let info = match info_rx.recv() {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(join(decoder).err().unwrap_or(Error::Interrupted)),
        };
        let frame_rate = info.frame_rate.as_f64();
        let counted = span_frames(job, &info, frame_rate);
        let plan = crate::run::scheduled::scheduled_plan(job, frame_rate, counted)?;
        let frame_params = plan
            .as_ref()
            .map(|plan| crate::run::scheduled::frame_params(plan, &job.settings, &engine.network))
            .transpose()?;
        let (to_encoder, encoder) = spawn_footage_encoder(scope, job, &state, &info)?;
        progress.start(info.frame_count);
        progress.advance(skip);
        // The flow stage runs ahead of the dream; each frame travels with its motion.
        let mut source: Box<dyn Iterator<Item = Result<FollowedFrame>>> = match between.flow {
            true => Box::new(spawn_flow(scope, decoded, skip)?.into_iter()),
            false => Box::new(decoded.into_iter().map(|frame| frame.map(|frame| (frame, None)))),
        };
        let stage = DreamStage {
            to_encoder: &to_encoder,
            checkpoint_every: options.checkpoint_every,
            cancel,
            colors: between.colors,
            color_reference: None,
            noise_start: None,
            carried_iterations: Some(&carrying),
            frame_params: frame_params.as_deref(),
            looping: None,
        };
        let dreamed = stage.run(&mut dreamer, &mut source, resumed, progress, |previous, frame, frame_motion| {
            let new = rgb8_to_tensor(&frame.rgb, frame.width, frame.height, device)?;
            let carry = match &plan {
                Some(plan) => {
                    let values = plan.frame(frame.index);
                    Carry { motion: values.motion(), share_of_new: values.blend, ..carry }
                }
                None => carry,
            };
            let prepared = carry_into(&carry, between.flow, previous, new.shallow_clone(), frame_motion)?;
            if prepared.cut {
                cuts.push(frame.index);
            }
            carrying.set(prepared.carried);
            // A mask's black keeps the footage frame itself, not its blend with the last dream.
            Ok((prepared.image, new))
        });
        // A decoder (or flow stage) parked in a full channel's send never sees the cancel flag:
        // closing the channel wakes it, so the joins in `finish` always return.
        drop(source);
        let report = state.finish(dreamed, to_encoder, encoder, Some(decoder), (info.width, info.height), started);
        report.map(|report| VideoReport { cuts, ..report })
    })
}

/// How footage carries the previous dream into each frame.
fn carry_of(between: &BetweenFrames) -> Carry {
    Carry {
        motion: between.motion,
        share_of_new: between.blend,
        scene_threshold: between.scene_threshold,
        colors: between.colors,
    }
}

/// Checks the footage's writer at the decoded size and starts the encode stage, with the
/// source's sound unless the job leaves it out.
fn spawn_footage_encoder<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    job: &Job,
    state: &Resumable,
    info: &VideoInfo,
) -> Result<(Sender<ToEncoder>, thread::ScopedJoinHandle<'scope, Result<()>>)> {
    let output = job.output.as_path();
    let write = write_options(output, &job.encode, info.width, info.height, info.time_base, info.frame_rate);
    check_writable(output, &write)?;
    let sound = soundtrack_source(job).or_else(|| {
        (job.audio && info.audio_streams > 0).then(|| AudioSource {
            path: job.input.path().to_owned(),
            start_seconds: info.start_seconds,
            duration_seconds: None,
        })
    });
    let (to_encoder, encoder_frames) = bounded(CHANNEL_FRAMES);
    let sink = state.sink(write, sound);
    let encoder = spawn_stage(scope, "encode", move || sink.run(encoder_frames))?;
    Ok((to_encoder, encoder))
}

/// What to read of a footage job's input, and its span as a checkpoint records it.
pub(crate) fn footage_span(job: &Job) -> (ReadOptions, serde_json::Value) {
    let span = &job.span;
    let read = ReadOptions {
        start_seconds: span.start_seconds,
        max_frames: span.frames,
        max_seconds: span.seconds,
        width: job.frames.width,
        sequence_fps: Some(job.frames.fps),
    };
    let span_json = serde_json::json!({
        "start": span.start_seconds, "frames": span.frames, "duration": span.seconds, "audio": job.audio,
    });
    (read, job_description(job, span_json))
}

/// Starts the flow stage, which follows each decoded frame from the one before.
fn spawn_flow<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    decoded: Receiver<Result<Frame>>,
    skip: u64,
) -> Result<Receiver<Result<FollowedFrame>>> {
    let (to_dream, flowed) = bounded(CHANNEL_FRAMES);
    spawn_stage(scope, "flow", move || follow(decoded, skip, to_dream))?;
    Ok(flowed)
}

/// The image to dream for footage frame `new`: the previous dream carried along the flow (and
/// whether `new` starts a new shot), or without flow moved by the motion and blended.
fn carry_into(
    carry: &Carry,
    flow: bool,
    previous: Option<&Tensor>,
    new: Tensor,
    frame_motion: Option<&FrameMotion>,
) -> Result<Prepared> {
    if flow {
        return carry.prepare(previous, &new, frame_motion);
    }
    let image = match previous {
        Some(previous) if previous.size() == new.size() => {
            blend(&carry.motion.apply(previous)?, &new, carry.share_of_new)?
        }
        _ => new,
    };
    Ok(Prepared { image, cut: false, carried: false })
}

/// The output's lock, work folder and checkpoint, from the start of a render to its end.
struct Resumable {
    output: PathBuf,
    work: WorkFolder,
    checkpoint: Checkpoint,
    last: Option<Tensor>,
    _lock: OutputLock,
}

impl Resumable {
    /// Locks the output and, on `--resume`, picks up a matching checkpoint. Without `--resume`
    /// an existing checkpoint is refused unless `--restart`: only a render that starts may drop it.
    fn open(output: &Path, job: serde_json::Value, options: RenderOptions, device: Device) -> Result<Self> {
        let lock = OutputLock::acquire(output)?;
        let work = WorkFolder::for_output(output);
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
                let changed = differences(&saved.job, &job);
                if !changed.is_empty() {
                    return Err(Error::setting(
                        "--resume",
                        format!("the checkpoint was made with other settings: {}", changed.join(", ")),
                    ));
                }
                let last = work.load_frame(&saved)?.map(|t| t.to_device(device));
                (saved, last)
            }
            None => {
                work.prepare(true)?;
                (Checkpoint { job, ..Default::default() }, None)
            }
        };
        Ok(Resumable { output: output.to_owned(), work, checkpoint, last, _lock: lock })
    }

    fn frames_done(&self) -> u64 {
        self.checkpoint.frames_done
    }

    /// The encode stage's state, handed to its thread.
    fn sink(&self, write: WriteOptions, audio: Option<AudioSource>) -> Sink {
        Sink {
            output: self.output.clone(),
            work: WorkFolder::for_output(&self.output),
            checkpoint: self.checkpoint.clone(),
            write,
            audio,
        }
    }

    /// Ends the render: reports the first real error in pipeline order rather than the channel
    /// closures it caused; on success the work folder goes, on Ctrl-C it stays for `--resume`.
    fn finish(
        self,
        dreamed: Result<Dreamed>,
        to_encoder: Sender<ToEncoder>,
        encoder: thread::ScopedJoinHandle<'_, Result<()>>,
        decoder: Option<thread::ScopedJoinHandle<'_, Result<()>>>,
        (width, height): (u32, u32),
        started: Instant,
    ) -> Result<VideoReport> {
        if dreamed.as_ref().is_ok_and(|done| done.frames + self.frames_done() > 0) {
            let _ = to_encoder.send(ToEncoder::Finish);
        }
        drop(to_encoder);
        let encoded = join(encoder);
        let decoded = decoder.map_or(Ok(()), join);
        let done = dreamed?;
        decoded?;
        encoded?;
        if done.interrupted {
            return Err(Error::Interrupted);
        }
        if video::is_image_sequence(&self.output) {
            video::remove_frames_after(&self.output, done.frames + self.frames_done())?;
        }
        self.work.remove();
        Ok(VideoReport {
            frames: done.frames + self.frames_done(),
            resumed_frames: self.frames_done(),
            width,
            height,
            elapsed: started.elapsed(),
            dream_time: done.dream_time,
            last_objective: done.last_objective,
            cuts: Vec::new(),
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
}

struct DreamStage<'a> {
    to_encoder: &'a Sender<ToEncoder>,
    checkpoint_every: u64,
    cancel: &'a AtomicBool,
    /// Ties each dreamed frame's colours to `color_reference` (else to the image it was dreamed
    /// from), so feedback cannot drift.
    colors: ColorMode,
    color_reference: Option<&'a Tensor>,
    /// Footage with flow: set (and read once) for each frame that carries the previous dream,
    /// which is dreamed for fewer iterations per octave (`footage::carried_iterations`).
    carried_iterations: Option<&'a std::cell::Cell<bool>>,
    /// Each frame's dream parameters, when schedules change them (see `crate::scheduled`).
    frame_params: Option<&'a [crate::engine::ascent::DreamParams]>,
    /// A looping zoom's hold and fade of its dreams (see `crate::looping`).
    looping: Option<&'a crate::run::looping::Loop>,
    /// The noise that the first frame grows from ([`Dreamer::dream_from_noise`]); without a
    /// `color_reference` the later frames keep that first frame's colours.
    noise_start: Option<&'a Tensor>,
}

impl DreamStage<'_> {
    /// For each source frame, `prepare` makes the image to dream from the previous dreamed frame
    /// and the new one, and the image a mask's black keeps; the result goes to the encoder, with a checkpoint every few frames and at
    /// the end. Stops early on `cancel`, or when the encoder has gone (its error is reported).
    fn run(
        &self,
        dreamer: &mut Dreamer,
        source: &mut dyn Iterator<Item = Result<FollowedFrame>>,
        mut last: Option<Tensor>,
        progress: &mut dyn Progress,
        mut prepare: impl FnMut(Option<&Tensor>, &Frame, Option<&FrameMotion>) -> Result<(Tensor, Tensor)>,
    ) -> Result<Dreamed> {
        let mut done = Dreamed { frames: 0, dream_time: Duration::ZERO, last_objective: 0.0, interrupted: false };
        let mut next_index = None;
        // The first frame grown from noise, the colour reference of the later ones (see
        // `noise_start`): dreamed in the loop, or again (seeded per frame, so the same) when a
        // resume starts past it.
        let mut grown = match (self.noise_start, &last) {
            (Some(noise), Some(_)) => {
                self.begin_frame(dreamer, 0)?;
                Some(dreamer.dream_from_noise(noise)?)
            }
            _ => None,
        };
        for frame in source {
            if self.cancel.load(Ordering::SeqCst) {
                done.interrupted = true;
                break;
            }
            let (frame, frame_motion) = frame?;
            let started = Instant::now();
            self.begin_frame(dreamer, frame.index)?;
            let (image, kept) = prepare(last.as_ref(), &frame, frame_motion.as_ref())?;
            let dreamed = if self.noise_start.is_some() && last.is_none() {
                let dreamed = dreamer.dream_from_noise(&image)?;
                grown = Some(dreamed.shallow_clone());
                dreamed
            } else {
                let reference = self.color_reference.or(grown.as_ref()).unwrap_or(&image);
                let iterations = match self.carried_iterations {
                    Some(carrying) if carrying.take() => carried_iterations(dreamer.params().iterations),
                    _ => dreamer.params().iterations,
                };
                crate::frame::color::settle(dreamer.dream_iterations(&image, iterations)?, reference, self.colors)?
            };
            // Colours settle over the whole frame: the mask is applied again after them.
            let dreamed = match &dreamer.params().mask {
                Some(mask) => {
                    let size = dreamed.size();
                    crate::frame::mask::apply(&mask.at(size[2], size[3], dreamed.device())?, &kept, &dreamed)?
                }
                None => dreamed,
            };
            let (width, height, rgb) = tensor_to_rgb8(&dreamed)?;
            done.dream_time += started.elapsed();
            let out = Frame { index: frame.index, pts: frame.pts, width, height, rgb };
            let out = match self.looping {
                Some(looping) => looping.output(out)?,
                None => Some(out),
            };
            if let Some(out) = out
                && self.to_encoder.send(ToEncoder::Frame(out)).is_err()
            {
                break; // the encoder failed; its error is reported by `finish`
            }
            last = Some(dreamed);
            next_index = Some(frame.index + 1);
            done.frames += 1;
            progress.advance(1);
            if (frame.index + 1) % self.checkpoint_every == 0 && !self.checkpoint(frame.index + 1, &last)? {
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

    /// Sets up the dreamer for frame `index`: its dream parameters when schedules change them, and
    /// its seeds.
    fn begin_frame(&self, dreamer: &mut Dreamer, index: u64) -> Result<()> {
        if let Some(params) = self.frame_params.filter(|params| !params.is_empty()) {
            dreamer.set_params(params[(index as usize).min(params.len() - 1)].clone())?;
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

/// The encode stage: segments in the work folder (or frames straight into an image sequence),
/// checkpoints after each, and the final join into the output.
struct Sink {
    output: PathBuf,
    work: WorkFolder,
    checkpoint: Checkpoint,
    write: WriteOptions,
    audio: Option<AudioSource>,
}

/// The open writer: a segment of the work folder (with its name) or the image sequence.
/// Dropped unfinished, it removes what it wrote since the last checkpoint, and only that.
type OpenWriter = Option<(VideoWriter, Option<String>)>;

impl Sink {
    fn run(mut self, messages: Receiver<ToEncoder>) -> Result<()> {
        let mut current: OpenWriter = None;
        for message in messages {
            match message {
                ToEncoder::Frame(frame) => self.write(&mut current, &frame)?,
                ToEncoder::Checkpoint { frames_done, last } => {
                    if let Some((writer, segment)) = current.take() {
                        writer.finish()?;
                        self.checkpoint.segments.extend(segment);
                    }
                    self.checkpoint.frames_done = frames_done;
                    self.work.save(&mut self.checkpoint, &last)?;
                }
                ToEncoder::Finish => return self.join(),
            }
        }
        Ok(())
    }

    fn write(&self, current: &mut OpenWriter, frame: &Frame) -> Result<()> {
        if current.is_none() {
            *current = Some(if video::is_image_sequence(&self.output) {
                (VideoWriter::create(&self.output, &self.write)?, None)
            } else {
                let name = format!("segment-{:08}.mkv", frame.index);
                (VideoWriter::create(&self.work.file(&name), &self.write)?, Some(name))
            });
        }
        if let Some((writer, _)) = current {
            writer.write_frame(frame)?;
            crate::run::slowdown::pause(crate::run::slowdown::Stage::Encode);
        }
        Ok(())
    }

    /// Writes the output from the finished segments, with the sound (an image sequence is
    /// already complete: each checkpoint closed its frames).
    fn join(mut self) -> Result<()> {
        if video::is_image_sequence(&self.output) {
            return Ok(());
        }
        crate::run::slowdown::pause(crate::run::slowdown::Stage::Join);
        let segments: Vec<PathBuf> = self.checkpoint.segments.iter().map(|name| self.work.file(name)).collect();
        let options = ConcatOptions { frame_rate: self.write.frame_rate, audio: self.audio.take() };
        Ok(video::concat_segments(&segments, &self.output, &options)?)
    }
}

fn spawn_stage<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    work: impl FnOnce() -> Result<T> + Send + 'scope,
) -> Result<thread::ScopedJoinHandle<'scope, Result<T>>> {
    thread::Builder::new().name(name.into()).spawn_scoped(scope, work).map_err(|e| Error::io(PathBuf::from(name), e))
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    handle.join().unwrap_or_else(|_| Err(Error::setting("internal", "a pipeline thread panicked")))
}

/// The decode stage: opens the file on this thread, says what it found, skips the frames a
/// checkpoint already holds, then sends frames until the span ends or the dream stage stops.
fn decode(
    input: &Path,
    read: &ReadOptions,
    (skip, cancel): (u64, &AtomicBool),
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
        crate::run::slowdown::pause(crate::run::slowdown::Stage::Decode);
        match next {
            Ok(Some(frame)) if frame.index < skip => continue,
            Ok(Some(frame)) => {
                if frames.send(Ok(frame)).is_err() {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                let _ = frames.send(Err(e.into()));
                return Ok(());
            }
        }
    }
}

/// Checks the output's folder before any work.
fn check_video_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    if video::is_image_sequence(output) {
        crate::output::check_sequence_output(output)?;
        let folder = crate::output::parent_folder(output);
        return std::fs::create_dir_all(&folder)
            .map_err(|e| Error::output(output, format!("cannot make its folder: {e}")));
    }
    check_output_path(output, inputs)
}

/// An existing output is refused without `-y`, except the partial one that an interrupted render
/// wrote beside its checkpoint: `--resume` continues it, and without `--resume` the checkpoint's
/// own refusal (which names `--resume` and `--restart`) says more.
fn check_overwrite(output: &Path, options: &RenderOptions) -> Result<()> {
    let checkpoint = WorkFolder::for_output(output).file(crate::run::checkpoint::CHECKPOINT).is_file();
    // An image sequence exists when any frame of its pattern does.
    let target = match video::is_image_sequence(output) {
        true => video::existing_frames(output).into_iter().next().map_or_else(|| output.to_owned(), |(_, path)| path),
        false => output.to_owned(),
    };
    crate::output::check_overwrite(&target, options.overwrite || (checkpoint && !options.restart))
}

/// The codec's CRF range and size limits at the frames' real size (a footage's height follows
/// its aspect), before the checkpoint is looked at.
fn check_codec_size(output: &Path, encode: &EncodeSettings, width: u32, height: u32) -> Result<()> {
    if video::is_image_sequence(output) || video::container::Container::of(output).is_ok_and(|c| c.is_gif) {
        return Ok(());
    }
    let codec = encode.codec.unwrap_or_else(|| video::container::Container::default_codec_for(output));
    crate::job::encode_check::check_codec(codec, encode.crf, Some(width), Some(height))
        .map_err(|(key, message)| Error::setting(format!("--{key}"), message))
}

/// Refuses an output format or codec that cannot be written before any frame is dreamed, by
/// opening (and dropping) a writer for it.
fn check_writable(output: &Path, write: &WriteOptions) -> Result<()> {
    if video::is_image_sequence(output) || video::container::Container::of(output)?.is_gif {
        return Ok(()); // written frame by frame as images, or as a GIF from the finished segments
    }
    VideoWriter::create(output, write).map(drop).map_err(Into::into)
}

/// Writer settings; the codec is fixed here from the output's extension, because segments are
/// written as .mkv whatever the output is.
fn write_options(
    output: &Path,
    encode: &EncodeSettings,
    width: u32,
    height: u32,
    time_base: Rational,
    frame_rate: Rational,
) -> WriteOptions {
    let codec = encode.codec.unwrap_or_else(|| video::container::Container::default_codec_for(output));
    WriteOptions { width, height, time_base, frame_rate, codec: Some(codec), crf: encode.crf, audio: None }
}

/// The job as a checkpoint records it: what must match for a resume to continue it. The device,
/// thread count, cuDNN autotuning and CUDA graphs may change between runs, and settings that do
/// not act on the job's mode (a footage file's `fps`: only image sequences take one) are left out.
fn job_description(job: &Job, span: serde_json::Value) -> serde_json::Value {
    let mut description = serde_json::to_value(&job.settings).unwrap_or_default();
    if let Some(map) = description.as_object_mut() {
        map.retain(|key, _| job.mode.takes(key));
        map.remove("device");
        map.remove("threads");
        map.remove("cudnn-benchmark");
        map.remove("cuda-graphs");
        if job.mode == Mode::Video && !job.input.file().is_some_and(video::is_sequence_input) {
            map.remove("fps");
        }
        map.insert("mode".into(), job.mode.name().into());
        let input = job.input.file().map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()).display().to_string());
        map.insert("input".into(), input.unwrap_or_else(|| "noise".into()).into());
        map.insert("span".into(), span);
    }
    description
}

/// `--audio`: the soundtrack muxed into the output, cut to the video's length.
fn soundtrack_source(job: &Job) -> Option<AudioSource> {
    let path = job.settings.audio.clone()?;
    Some(AudioSource { path, start_seconds: 0.0, duration_seconds: None })
}

/// The frames a footage job will dream, for its plan: the span's, else the reader's estimate.
fn span_frames(job: &Job, info: &VideoInfo, frame_rate: f64) -> u64 {
    let by_seconds = job.span.seconds.map(|seconds| (seconds * frame_rate).round() as u64);
    let estimate = info.frame_count.or(info.duration_seconds.map(|s| (s * frame_rate).round() as u64));
    let frames = match (job.span.frames, by_seconds) {
        (Some(frames), _) => Some(frames.min(estimate.unwrap_or(frames))),
        (None, Some(frames)) => Some(frames),
        (None, None) => estimate,
    };
    frames.unwrap_or(1).max(1)
}

/// A frame rate as a fraction: whole rates exactly, others to a thousandth (29.97 -> 29970/1000).
pub(crate) fn fps_rational(fps: f64) -> Rational {
    if fps.fract() == 0.0 { Rational::new(fps as i32, 1) } else { Rational::new((fps * 1000.0).round() as i32, 1000) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Settings;
    use crate::job::render_job::Request;

    #[test]
    fn a_checkpoint_compares_only_the_settings_of_the_jobs_mode() {
        let describe = |mode, fps: f64, blend: f64| {
            let settings = Settings { fps, blend, ..Default::default() };
            let job = Job::new(Request { frames: Some(2), ..Request::new(mode, "clip.mp4", "out.mp4", settings) });
            job_description(&job.unwrap(), serde_json::Value::Null)
        };
        // A footage file keeps its own rate: --fps (zoom and image sequences only) never blocks its resume.
        assert_eq!(describe(Mode::Video, 12.0, 0.5), describe(Mode::Video, 30.0, 0.5));
        assert_ne!(describe(Mode::Video, 12.0, 0.5), describe(Mode::Video, 12.0, 0.7));
        // A zoom's rate is its own, and blend does not act on it.
        assert_ne!(describe(Mode::Zoom, 12.0, 0.5), describe(Mode::Zoom, 30.0, 0.5));
        assert_eq!(describe(Mode::Zoom, 12.0, 0.5), describe(Mode::Zoom, 12.0, 0.7));
    }
}
