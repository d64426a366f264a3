//! Where a video render's frames come from: a zoom's own previous dream, or footage decoded (on
//! its own thread) and followed by its optical flow; what the source found (size, rate, sound).
use super::stages::{CHANNEL_FRAMES, join, spawn_stage};
use crate::error::{Error, Result, mention};
use crate::frame::footage::{Carry, FollowedFrame, follow};
use crate::frame::image_io::rgb8_to_tensor;
use crate::frame::rgb::Frame;
use crate::frame::transform::blend;
use crate::job::plan::FrameValues;
use crate::job::render_job::{Job, Source};
use crate::run::looping::Loop;
use crate::video::{self, AudioSource, FrameFormat, Rational, ReadOptions, VideoInfo, VideoReader};
use crossbeam_channel::{Sender, bounded};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use tch::{Device, Tensor};

/// Where the dream stage takes its frames from.
pub(super) enum Feed<'a> {
    /// A zoom: frame `index` is the previous dream moved by the frame's motion; the first is `first`.
    Zoom { first: Tensor, indices: std::ops::Range<u64> },
    /// Footage: decoded frames (with the source's motion when flow is on), into which the previous
    /// dream is carried.
    Footage { frames: Box<dyn Iterator<Item = Result<FollowedFrame>> + 'a>, carry: Carry, flow: bool },
}

/// One frame as the dream stage receives it: its place in the video and, for footage, its pixels
/// and the source's motion from the frame before.
pub(super) struct Incoming {
    pub(super) index: u64,
    pub(super) pts: i64,
    pub(super) footage: Option<FollowedFrame>,
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
pub(super) struct Prepared {
    pub(super) image: Tensor,
    pub(super) kept: Tensor,
    /// Footage: the frame starts a new shot.
    pub(super) cut: bool,
    /// Footage with flow: the frame carries the previous dream (and is dreamed with fewer iterations).
    pub(super) carried: bool,
}

impl Feed<'_> {
    /// The image to dream for `incoming` from the previous dream, with `values`' motion and blend.
    pub(super) fn prepare(
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
pub(super) struct SourceFacts {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) time_base: Rational,
    pub(super) frame_rate: Rational,
    /// The frames the plan covers (footage: the span's, else the reader's estimate).
    pub(super) frames: u64,
    /// Frames for the progress display (`None`: unknown).
    pub(super) progress_total: Option<u64>,
    /// The sound to mux in, before it is planned for the output's container.
    pub(super) sound: Option<AudioSource>,
}

/// A zoom's frames: the first frame's size, the job's rate, the soundtrack.
pub(super) fn zoom_facts(job: &Job, first: &Tensor, looping: Option<&Loop>) -> SourceFacts {
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

/// Footage's frames as the decoder found them, and its sound: `--audio`, else the source's own
/// (cut to the same span), none under `--no-audio`.
pub(super) fn footage_facts(job: &Job, info: &VideoInfo) -> SourceFacts {
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
pub(super) fn check_size(job: &Job, width: u32, height: u32) -> Result<()> {
    crate::run::frame_memory::check_frame(job, width, height)?;
    job.output().check_size(Some(width), Some(height)).map_err(|(key, message)| match job.source() {
        Source::Footage(_) => {
            Error::setting("width", format!("{message} (footage keeps its shape: raise {})", mention("width")))
        }
        _ => Error::setting(key, message),
    })
}

/// The decode stage: opens the file on this thread, says what it found, skips the frames a
/// checkpoint already holds, then sends frames until the span ends or the dream stage stops.
pub(super) fn decode(
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
pub(super) fn frame_format(facts: &SourceFacts) -> FrameFormat {
    FrameFormat { width: facts.width, height: facts.height, time_base: facts.time_base, frame_rate: facts.frame_rate }
}

/// "The input has 48 frames from --start 1.9 s: 100 asked for, 48 will be rendered", when the
/// span asks for more frames than the input holds (by the reader's count before the first frame).
pub(super) fn short_span_note(job: &Job, info: &VideoInfo) -> Option<String> {
    let span = job.span();
    let rate = info.frame_rate.as_f64();
    let asked = span.frames.or(span.seconds.map(|seconds| (seconds * rate).round() as u64))?;
    let holds = info.frame_count.or(info.duration_seconds.map(|s| (s * rate).round() as u64))?;
    let start = span.start_seconds;
    let from = if start > 0.0 { format!(" from {} {start} s", mention("start")) } else { String::new() };
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

/// Opens footage on a decode thread (and a flow thread when flow is on), skipping the frames
/// before `skip`, and waits for what the decoder found: the feed of the dream stage. The stages
/// go into `sources`, to be joined in pipeline order.
pub(super) fn open_footage<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    job: &'scope Job,
    (skip, cancel, undecodable): (u64, &'scope AtomicBool, &'scope AtomicU64),
    sources: &mut Vec<thread::ScopedJoinHandle<'scope, Result<()>>>,
) -> Result<(VideoInfo, Feed<'scope>)> {
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
    Ok((info, Feed::Footage { frames, carry, flow }))
}
