//! A render job as one value, built alike from the command line and a `[[job]]` of a batch
//! manifest (a [`Request`]) by [`Job::new`], checked there once into private fields, and rendered
//! by `crate::run::render`. Defaults that depend on the mode are decided here.
use crate::config::settings::Settings;
use crate::error::Result;
use crate::frame::color::ColorMode;
use crate::job::dream::DreamSpec;
use crate::job::output::Output;
use crate::job::plan::PlanSpec;
pub use crate::job::request::{MAX_FRAMES, Mode, NOISE, Part, Problem, RenderOptions, Request, Span, fps_of_a_file};
use std::path::{Path, PathBuf};

/// Where a render's frames come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A picture: a still's, or a zoom's first frame.
    Image(PathBuf),
    /// Seeded noise of this size (a still or a zoom from `noise`).
    Noise { width: u32, height: u32 },
    /// Footage: a video file, or an image sequence (a `%05d` pattern or a folder of numbered images).
    Footage(PathBuf),
}

impl Source {
    /// The input as the user named it: `noise`, or the file.
    pub fn path(&self) -> &Path {
        match self {
            Source::Noise { .. } => Path::new(NOISE),
            Source::Image(path) | Source::Footage(path) => path,
        }
    }

    pub fn file(&self) -> Option<&Path> {
        match self {
            Source::Noise { .. } => None,
            Source::Image(path) | Source::Footage(path) => Some(path),
        }
    }
}

/// A checked render: every choice made once, from a [`Request`], into private fields that the
/// stages ask for. Nothing here is the raw settings: the dream's parameters come from the
/// [`DreamSpec`] and each frame's row of the per-frame plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    mode: Mode,
    source: Source,
    output: Output,
    span: Span,
    options: RenderOptions,
    format: FrameFormat,
    between: BetweenFrames,
    dream: DreamSpec,
    per_frame: PlanSpec,
    /// `--audio`: a soundtrack for the signals and the output.
    soundtrack: Option<PathBuf>,
    /// Footage: keep the source's sound (not `--no-audio`).
    keep_sound: bool,
    looped: bool,
    /// Footage: the part of the film this render makes, and whether parts may start inside a shot.
    part: Option<Part>,
    split_inside_shots: bool,
    /// The settings as a checkpoint records them: what must match for a resume to continue.
    description: serde_json::Value,
}

/// The frames' size and rate: what a still or zoom is made at and footage is read at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameFormat {
    /// Frames are scaled to this width (footage: keeping the aspect ratio).
    pub width: Option<u32>,
    /// Frames per second of a zoom, and of an image sequence read or written.
    pub fps: f64,
}

/// What happens between frames: how footage carries the previous dream into the next decoded
/// frame (the motion and the blend are each frame's, in the per-frame plan).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetweenFrames {
    /// Follow the footage's optical flow.
    pub flow: bool,
    /// Below this share of followed pixels a pair of frames is a cut (0: never).
    pub scene_threshold: f64,
    pub colors: ColorMode,
}

impl Job {
    /// Checks a request and decides what it leaves open: the span's frames (a zoom's duration
    /// times its frame rate), the source (`noise` of a size, a picture or footage), the output's
    /// kind and codec, the dream's and each frame's settings.
    pub fn new(request: Request) -> Result<Job, Problem> {
        let Request {
            mode,
            input,
            output,
            folder,
            frames,
            duration,
            start,
            no_audio,
            part,
            split_inside_shots,
            options,
            mut settings,
        } = request;
        if part.is_some() && mode != Mode::Video {
            return Err(Problem::at(
                "part",
                "splits footage (`dreamreel video`): a zoom carries every frame into the next",
            ));
        }
        if part.is_some() && settings.looped {
            return Err(Problem::at("part", "a loop fades its end into its start: render it whole"));
        }
        if !cfg!(feature = "video") && mode != Mode::Still {
            return Err(Problem::at("mode", format!("{} needs dreamreel built with the video feature", mode.name())));
        }
        let given = [
            ("frames", frames.is_some()),
            ("duration", duration.is_some()),
            ("start", start.is_some()),
            ("no-audio", no_audio.is_some()),
        ];
        for (key, _) in given.iter().filter(|(_, given)| *given) {
            mode.check_key(key)?;
        }
        if frames.is_some() && duration.is_some() {
            return Err(Problem::at("duration", "give frames or duration, not both"));
        }
        if frames == Some(0) {
            return Err(Problem::at("frames", "must be at least 1"));
        }
        if let Some(seconds) = duration
            && !(seconds.is_finite() && seconds > 0.0)
        {
            return Err(Problem::at("duration", format!("{seconds} must be a positive number of seconds")));
        }
        let start_seconds = start.unwrap_or(0.0);
        if !(start_seconds.is_finite() && start_seconds >= 0.0) {
            return Err(Problem::at("start", format!("{start_seconds} must be zero or more seconds")));
        }
        if let (Mode::Still, Some((key, _))) = (mode, settings.schedules.texts().first()) {
            return Err(Problem::at(key, "a still has one frame: give a number, not a schedule"));
        }
        // Frames between checkpoints: the command line's, else the preset's or manifest's.
        let options = RenderOptions { checkpoint_every: settings.checkpoint_every, ..options };
        if options.checkpoint_every == 0 {
            return Err(Problem::at("checkpoint-every", "must be at least 1 frame"));
        }
        let from_noise = mode != Mode::Video && input == Path::new(NOISE);
        let span = match mode {
            Mode::Still => Span::default(),
            Mode::Zoom => {
                let frames = match (frames, duration) {
                    (Some(frames), _) => frames,
                    (None, Some(seconds)) => (seconds * settings.fps).round().max(1.0) as u64,
                    (None, None) => return Err(Problem::whole("a zoom needs frames or duration")),
                };
                if frames > MAX_FRAMES {
                    let key = if duration.is_some() { "duration" } else { "frames" };
                    return Err(Problem::at(key, too_many(frames, settings.fps)));
                }
                Span { start_seconds: 0.0, frames: Some(frames), seconds: None }
            }
            Mode::Video => {
                if let Some(frames) = frames.filter(|&f| f > MAX_FRAMES) {
                    return Err(Problem::at("frames", too_many(frames, 24.0)));
                }
                Span { start_seconds, frames, seconds: duration }
            }
        };
        if mode == Mode::Zoom && from_noise && settings.width.is_none() && settings.height.is_none() {
            // A zoom from noise given no size at all is 640x360 (the README's audio example).
            (settings.width, settings.height) = (Some(640), Some(360));
        }
        let source = match (mode, from_noise) {
            (_, true) => {
                let width = settings
                    .width
                    .ok_or_else(|| Problem::at("width", format!("a {} from noise needs width", mode.name())))?;
                // Square when only the width is given.
                Source::Noise { width, height: settings.height.unwrap_or(width) }
            }
            (Mode::Video, false) => Source::Footage(folder.join(&input)),
            (Mode::Still | Mode::Zoom, false) => Source::Image(folder.join(&input)),
        };
        if let (Source::Image(path), Some(height)) = (&source, settings.height) {
            // Refused, not ignored: a picture is scaled to --width and keeps its shape.
            let message = format!(
                "{height} does nothing to '{}': a picture keeps its shape, give --width only (or `noise` for any shape)",
                path.display()
            );
            return Err(Problem::at("height", message));
        }
        let size = match source {
            Source::Noise { width, height } => (Some(width), Some(height)),
            _ => (settings.width, None),
        };
        let output = Output::decide(mode, folder.join(output), settings.codec, settings.crf, size)?;
        let keep_sound = !no_audio.unwrap_or(false);
        let span_description = match mode {
            Mode::Still => serde_json::Value::Null,
            Mode::Zoom => serde_json::json!({ "frames": span.frames }),
            // Not `--no-audio`: it changes no frame, and a resume with it joins frames whose
            // sound could not be muxed.
            Mode::Video => serde_json::json!({
                "start": span.start_seconds, "frames": span.frames, "duration": span.seconds,
            }),
        };
        let description = describe(mode, &source, &settings, span_description);
        Ok(Job {
            mode,
            output,
            span,
            options,
            format: FrameFormat { width: settings.width, fps: settings.fps },
            between: BetweenFrames {
                flow: settings.flow,
                scene_threshold: settings.scene_threshold,
                colors: settings.colors,
            },
            dream: DreamSpec::for_mode(&settings, mode),
            per_frame: PlanSpec::of(&settings, mode.default_zoom()),
            soundtrack: settings.audio.clone(),
            keep_sound,
            looped: settings.looped,
            part,
            split_inside_shots,
            description,
            source,
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn output(&self) -> &Output {
        &self.output
    }

    /// Footage: the part to dream; zoom: `frames` is always set.
    pub fn span(&self) -> &Span {
        &self.span
    }

    pub fn options(&self) -> RenderOptions {
        self.options
    }

    pub fn frame_format(&self) -> FrameFormat {
        self.format
    }

    pub fn between_frames(&self) -> BetweenFrames {
        self.between
    }

    /// What the dream engine is built from.
    pub fn dream(&self) -> &DreamSpec {
        &self.dream
    }

    /// Each frame's settings before they are evaluated for a frame count and rate.
    pub fn per_frame(&self) -> &PlanSpec {
        &self.per_frame
    }

    /// `--audio`: the soundtrack analysed for the signals and muxed into the output.
    pub fn soundtrack(&self) -> Option<&Path> {
        self.soundtrack.as_deref()
    }

    /// Footage: whether the source's own sound goes into the output.
    pub fn keeps_sound(&self) -> bool {
        self.keep_sound
    }

    /// `zoom --loop`.
    pub fn is_loop(&self) -> bool {
        self.looped
    }

    /// The job as a checkpoint records it: what must match for a resume to continue it.
    /// The part of the film this render makes (`--part`), if it makes one.
    pub fn part(&self) -> Option<Part> {
        self.part
    }

    pub fn splits_inside_shots(&self) -> bool {
        self.split_inside_shots
    }

    /// The same film as part `part` (`None`: whole).
    pub fn as_part(&self, part: Option<Part>) -> Job {
        Job { part, ..self.clone() }
    }

    pub fn description(&self) -> &serde_json::Value {
        &self.description
    }

    /// The same job with other render options (a batch's rerun continues a checkpoint).
    pub fn with_options(&self, options: RenderOptions) -> Job {
        let options = RenderOptions { checkpoint_every: self.options.checkpoint_every, ..options };
        Job { options, ..self.clone() }
    }

    /// The same job on another device (a batch's `--devices` worker): where it runs, not what it makes.
    pub fn on_device(&self, device: String) -> Job {
        Job { dream: self.dream.on_device(device), ..self.clone() }
    }
}

/// "N frames are more than ..." for a frame count past [`MAX_FRAMES`].
fn too_many(frames: u64, fps: f64) -> String {
    let hours = MAX_FRAMES as f64 / fps / 3600.0;
    format!("{frames} frames are more than the {MAX_FRAMES} one render may have ({hours:.1} hours at {fps} fps)")
}

/// The job as a checkpoint records it. The device, thread count, cuDNN autotuning and CUDA
/// graphs may change between runs, and settings that do not act on the job's mode (a footage
/// file's `fps`: only image sequences take one) are left out.
fn describe(mode: Mode, source: &Source, settings: &Settings, span: serde_json::Value) -> serde_json::Value {
    let mut description = serde_json::to_value(settings).unwrap_or_default();
    if let Some(map) = description.as_object_mut() {
        map.retain(|key, _| mode.takes(key));
        for key in ["device", "threads", "cudnn-benchmark", "cuda-graphs", "checkpoint-every"] {
            map.remove(key);
        }
        if mode == Mode::Video && !source.file().is_some_and(is_sequence_input) {
            map.remove("fps");
        }
        // A schedule stands under its setting's own key, in place of the constant (as a preset
        // writes it), so a resume's refusal names the option: `--zoom (was "0:(1)...", now 1.05)`.
        if let Some(serde_json::Value::Object(schedules)) = map.remove("schedules") {
            map.extend(schedules);
        }
        map.insert("mode".into(), mode.name().into());
        let input = source.file().map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()).display().to_string());
        map.insert("input".into(), input.unwrap_or_else(|| NOISE.into()).into());
        map.insert("span".into(), span);
    }
    description
}

/// True when `path` names an image-sequence input: a `%d` pattern or a folder of numbered images.
fn is_sequence_input(path: &Path) -> bool {
    #[cfg(feature = "video")]
    return crate::video::is_sequence_input(path);
    #[cfg(not(feature = "video"))]
    return path.is_dir();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "video")]
    fn zoom(frames: Option<u64>, duration: Option<f64>, fps: f64) -> Result<Job, Problem> {
        let settings = Settings { fps, ..Default::default() };
        Job::new(Request { frames, duration, ..Request::new(Mode::Zoom, "a.png", "z.mp4", settings) })
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_zoom_duration_becomes_frames_at_its_rate() {
        assert_eq!(zoom(None, Some(2.0), 12.0).unwrap().span().frames, Some(24));
        assert_eq!(zoom(None, Some(0.01), 24.0).unwrap().span().frames, Some(1));
        assert_eq!(zoom(Some(7), None, 24.0).unwrap().span().frames, Some(7));
        assert_eq!(zoom(None, None, 24.0).unwrap_err().message, "a zoom needs frames or duration");
        assert_eq!(zoom(None, Some(-1.0), 24.0).unwrap_err().key, Some("duration"));
    }

    #[test]
    fn keys_for_other_modes_are_named() {
        let still = Request { start: Some(1.0), ..Request::new(Mode::Still, "a.png", "b.png", Settings::default()) };
        let problem = Job::new(still).unwrap_err();
        assert_eq!((problem.key, problem.message.as_str()), (Some("start"), "only for video jobs"));
        assert!(Mode::Still.check_key("blend").is_err() && Mode::Video.check_key("blend").is_ok());
        assert!(Mode::Video.check_key("octaves").is_ok());
        assert!(!Mode::Video.takes("height") && Mode::Zoom.takes("fps"));
    }

    #[cfg(feature = "video")]
    #[test]
    fn noise_and_the_default_zoom_depend_on_the_mode() {
        let settings = Settings { width: Some(8), height: Some(8), ..Default::default() };
        let request = |mode| Request { frames: Some(2), ..Request::new(mode, "noise", "o.mp4", settings.clone()) };
        let zoom = Job::new(request(Mode::Zoom)).unwrap();
        assert_eq!(zoom.source(), &Source::Noise { width: 8, height: 8 });
        assert_eq!(zoom.per_frame().constants().numbers.zoom, 1.05);
        let video = Job::new(request(Mode::Video)).unwrap();
        assert_eq!(video.source(), &Source::Footage("noise".into()));
        assert_eq!(video.per_frame().constants().numbers.zoom, 1.0);
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_checkpoint_compares_only_the_settings_of_the_jobs_mode() {
        let describe = |mode, fps: f64, blend: f64| {
            let settings = Settings { fps, blend, ..Default::default() };
            let job = Job::new(Request { frames: Some(2), ..Request::new(mode, "clip.mp4", "out.mp4", settings) });
            job.unwrap().description().clone()
        };
        // A footage file keeps its own rate: --fps (zoom and image sequences only) never blocks its resume.
        assert_eq!(describe(Mode::Video, 12.0, 0.5), describe(Mode::Video, 30.0, 0.5));
        assert_ne!(describe(Mode::Video, 12.0, 0.5), describe(Mode::Video, 12.0, 0.7));
        // A zoom's rate is its own, and blend does not act on it.
        assert_ne!(describe(Mode::Zoom, 12.0, 0.5), describe(Mode::Zoom, 30.0, 0.5));
        assert_eq!(describe(Mode::Zoom, 12.0, 0.5), describe(Mode::Zoom, 12.0, 0.7));
    }
}
