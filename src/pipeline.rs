//! The video pipeline: decode, dream and encode on their own threads, joined by small bounded
//! channels, so decoding and encoding overlap the dream and memory stays flat however long the
//! video. Frames travel as owned RGB buffers with their index and timestamp; each FFmpeg object
//! lives on the thread that made it.
use crate::dream::{Dreamer, objective_value};
use crate::error::{Error, Result};
use crate::image_io::{image_to_tensor, load_image, rgb8_to_tensor, tensor_to_rgb8};
use crate::output::check_output_path;
use crate::render::{Engine, Progress};
use crate::settings::Settings;
use crate::transform::{Motion, blend, noise};
use crate::video::{
    self, AudioSource, Frame, Rational, ReadOptions, VideoInfo, VideoReader, VideoWriter, WriteOptions,
};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use tch::Tensor;

/// Frames in flight between two stages: enough to overlap them, little enough to keep memory flat.
const CHANNEL_FRAMES: usize = 2;

/// Where a dream zoom starts.
#[derive(Clone, Debug, PartialEq)]
pub enum ZoomStart {
    Still(PathBuf),
    /// Seeded colour noise of `--width` x `--height`.
    Noise,
}

/// Which part of a footage file to dream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub start_seconds: f64,
    pub frames: Option<u64>,
    pub seconds: Option<f64>,
}

/// What a finished (or interrupted) video render did.
#[derive(Clone, Debug)]
pub struct VideoReport {
    pub frames: u64,
    pub width: u32,
    pub height: u32,
    pub elapsed: Duration,
    /// Time spent inside the dream itself; the rest is decoding, encoding and copies not overlapped.
    pub dream_time: Duration,
    /// Objective of the last dreamed frame.
    pub last_objective: f64,
    /// Stopped early by the cancel flag; the output holds the frames done.
    pub interrupted: bool,
}

/// What the dream stage sends the encoder: frames, then `Finish` to keep the file. A channel that
/// closes without `Finish` means the render failed, and the encoder throws its file away.
enum ToEncoder {
    Frame(Frame),
    Finish,
}

/// Renders a dream zoom of `frames` frames: frame 1 is the dreamed start, each next one the
/// previous dreamed frame moved by the motion and dreamed again.
pub fn render_zoom(
    start: &ZoomStart,
    output: &Path,
    frames: u64,
    settings: &Settings,
    progress: &mut dyn Progress,
    cancel: &AtomicBool,
) -> Result<VideoReport> {
    if frames == 0 {
        return Err(Error::setting("--frames", "must be at least 1"));
    }
    let inputs: Vec<&Path> = match start {
        ZoomStart::Still(path) => vec![path],
        ZoomStart::Noise => vec![],
    };
    check_video_output(output, &inputs)?;
    let engine = Engine::load(settings)?;
    let device = engine.network.device();
    let first = match start {
        ZoomStart::Still(path) => image_to_tensor(&load_image(path, settings.width)?, device)?,
        ZoomStart::Noise => {
            let (Some(width), Some(height)) = (settings.width, settings.height) else {
                return Err(Error::setting("--width", "a zoom from noise needs both --width and --height"));
            };
            noise(height as i64, width as i64, settings.seed, device)?
        }
    };
    let size = first.size();
    let (width, height) = (size[3] as u32, size[2] as u32);
    let frame_rate = fps_rational(settings.fps);
    let write = WriteOptions {
        width,
        height,
        time_base: Rational::new(frame_rate.den, frame_rate.num),
        frame_rate,
        codec: settings.codec,
        crf: settings.crf,
        audio: None,
    };
    let motion = motion_of(settings, 1.05);
    let started = Instant::now();
    progress.start(Some(frames));
    let mut dreamer = engine.dreamer()?;
    thread::scope(|scope| {
        let (to_encoder, encoder_frames) = bounded(CHANNEL_FRAMES);
        let encoder = spawn_stage(scope, "encode", move || encode(output, &write, encoder_frames))?;
        let mut source = (0..frames).map(|index| Ok(Frame { index, pts: index as i64, width, height, rgb: vec![] }));
        let dreamed = dream_frames(&mut dreamer, &mut source, &to_encoder, progress, cancel, |previous, _| {
            Ok(match previous {
                None => first.shallow_clone(),
                Some(previous) => motion.apply(previous)?,
            })
        });
        finish(dreamed, to_encoder, encoder, None, width, height, started)
    })
}

/// Dreams footage: each decoded frame is blended with the previous dreamed frame (moved by the
/// motion) and the blend is dreamed. Keeps the source's timestamps and, unless `audio` is false,
/// its sound, cut to the same span.
pub fn render_footage(
    input: &Path,
    output: &Path,
    span: &Span,
    audio: bool,
    settings: &Settings,
    progress: &mut dyn Progress,
    cancel: &AtomicBool,
) -> Result<VideoReport> {
    check_video_output(output, &[input])?;
    video::init()?;
    let engine = Engine::load(settings)?;
    let device = engine.network.device();
    let read = ReadOptions {
        start_seconds: span.start_seconds,
        max_frames: span.frames,
        max_seconds: span.seconds,
        width: settings.width,
    };
    let motion = motion_of(settings, 1.0);
    let share_of_new = settings.blend;
    let started = Instant::now();
    let mut dreamer = engine.dreamer()?;
    thread::scope(|scope| {
        let (info_tx, info_rx) = bounded::<Result<VideoInfo>>(1);
        let (to_dream, decoded) = bounded(CHANNEL_FRAMES);
        let decoder = spawn_stage(scope, "decode", move || decode(input, &read, info_tx, to_dream))?;
        let info = match info_rx.recv() {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(join(decoder).err().unwrap_or(Error::Interrupted)),
        };
        let write = WriteOptions {
            width: info.width,
            height: info.height,
            time_base: info.time_base,
            frame_rate: info.frame_rate,
            codec: settings.codec,
            crf: settings.crf,
            audio: (audio && info.audio_streams > 0).then(|| AudioSource {
                path: input.to_owned(),
                start_seconds: info.start_seconds,
                duration_seconds: None,
            }),
        };
        let (to_encoder, encoder_frames) = bounded(CHANNEL_FRAMES);
        let encoder = spawn_stage(scope, "encode", move || encode(output, &write, encoder_frames))?;
        progress.start(info.frame_count);
        let mut source = decoded.into_iter();
        let dreamed = dream_frames(&mut dreamer, &mut source, &to_encoder, progress, cancel, |previous, frame| {
            let new = rgb8_to_tensor(&frame.rgb, frame.width, frame.height, device)?;
            match previous {
                Some(previous) if previous.size() == new.size() => blend(&motion.apply(previous)?, &new, share_of_new),
                _ => Ok(new),
            }
        });
        finish(dreamed, to_encoder, encoder, Some(decoder), info.width, info.height, started)
    })
}

/// Frames the dream stage has done, and how.
struct Dreamed {
    frames: u64,
    dream_time: Duration,
    last: Option<Tensor>,
    last_objective: f64,
    interrupted: bool,
}

/// The dream stage: for each source frame, `prepare` makes the image to dream from the previous
/// dreamed frame and the new one; the result goes to the encoder. Stops early on `cancel`, or
/// when the encoder has gone (its error is the one reported).
fn dream_frames(
    dreamer: &mut Dreamer,
    source: &mut dyn Iterator<Item = Result<Frame>>,
    to_encoder: &Sender<ToEncoder>,
    progress: &mut dyn Progress,
    cancel: &AtomicBool,
    mut prepare: impl FnMut(Option<&Tensor>, &Frame) -> Result<Tensor>,
) -> Result<Dreamed> {
    let mut done =
        Dreamed { frames: 0, dream_time: Duration::ZERO, last: None, last_objective: 0.0, interrupted: false };
    for frame in source {
        if cancel.load(Ordering::SeqCst) {
            done.interrupted = true;
            break;
        }
        let frame = frame?;
        let started = Instant::now();
        let image = prepare(done.last.as_ref(), &frame)?;
        let dreamed = dreamer.dream(&image)?;
        let (width, height, rgb) = tensor_to_rgb8(&dreamed)?;
        done.dream_time += started.elapsed();
        let out = Frame { index: frame.index, pts: frame.pts, width, height, rgb };
        if to_encoder.send(ToEncoder::Frame(out)).is_err() {
            break; // the encoder failed; its error is reported by `finish`
        }
        done.last = Some(dreamed);
        done.frames += 1;
        progress.advance(1);
    }
    if let Some(last) = &done.last {
        done.last_objective = objective_value(dreamer.network(), last, &dreamer.params().layers)?;
    }
    Ok(done)
}

/// Ends the render: keeps the file if the dream stage succeeded (or was interrupted), and
/// reports the first real error in pipeline order rather than the channel closures it caused.
fn finish(
    dreamed: Result<Dreamed>,
    to_encoder: Sender<ToEncoder>,
    encoder: thread::ScopedJoinHandle<'_, Result<()>>,
    decoder: Option<thread::ScopedJoinHandle<'_, Result<()>>>,
    width: u32,
    height: u32,
    started: Instant,
) -> Result<VideoReport> {
    if let Ok(done) = &dreamed
        && done.frames > 0
    {
        let _ = to_encoder.send(ToEncoder::Finish);
    }
    drop(to_encoder);
    let encoded = join(encoder);
    let decoded = decoder.map_or(Ok(()), join);
    let done = dreamed?;
    decoded?;
    encoded?;
    let report = VideoReport {
        frames: done.frames,
        width,
        height,
        elapsed: started.elapsed(),
        dream_time: done.dream_time,
        last_objective: done.last_objective,
        interrupted: done.interrupted,
    };
    if done.interrupted {
        return Err(Error::Interrupted);
    }
    Ok(report)
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

/// The decode stage: opens the file on this thread, says what it found, then sends frames until
/// the span ends or the dream stage stops listening.
fn decode(
    input: &Path,
    read: &ReadOptions,
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
        match reader.next_frame() {
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

/// The encode stage: creates the writer on this thread and keeps the file only on `Finish`.
fn encode(output: &Path, write: &WriteOptions, frames: Receiver<ToEncoder>) -> Result<()> {
    let mut writer = VideoWriter::create(output, write)?;
    for message in frames {
        match message {
            ToEncoder::Frame(frame) => writer.write_frame(&frame)?,
            ToEncoder::Finish => return Ok(writer.finish()?),
        }
    }
    Ok(()) // dropped unfinished: the writer removes its temporary file
}

fn check_video_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    if video::is_image_sequence(output) {
        // The frames' own folder may be made, but not a whole missing path.
        let folder = crate::output::parent_folder(output);
        let base = crate::output::parent_folder(&folder);
        if !folder.is_dir() && !base.is_dir() {
            return Err(Error::output(output, format!("folder '{}' does not exist", base.display())));
        }
        return Ok(());
    }
    check_output_path(output, inputs)
}

fn motion_of(settings: &Settings, default_zoom: f64) -> Motion {
    Motion { zoom: settings.zoom.unwrap_or(default_zoom), rotate_degrees: settings.rotate, pan: settings.pan }
}

/// A frame rate as a fraction: whole rates exactly, others to a thousandth (29.97 -> 29970/1000).
pub fn fps_rational(fps: f64) -> Rational {
    if fps.fract() == 0.0 { Rational::new(fps as i32, 1) } else { Rational::new((fps * 1000.0).round() as i32, 1000) }
}
