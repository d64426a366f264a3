//! A render job as one value: what `still`, `zoom` and `video` ask for on the command line and
//! what a `[[job]]` of a batch manifest asks for, built alike from either by [`Job::new`], checked
//! there once, and rendered by `crate::run::render`. Defaults that depend on the mode are decided here.
use crate::config::settings::Settings;
use crate::error::{Error, Result};
use crate::frame::color::ColorMode;
use crate::frame::transform::Motion;
use crate::video::codec::Codec;
use std::path::{Path, PathBuf};

/// The input name that starts a still (or a zoom) from seeded noise instead of a file.
pub(crate) const NOISE: &str = "noise";

/// What a job renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Still,
    Zoom,
    /// Footage, dreamed frame by frame (`dreamreel video`).
    Video,
}

/// The keys (TOML keys, long option names) that act on some modes only; any other setting acts
/// on every mode. The one table behind the manifest's "only for" errors, the presets' ignored
/// keys and what a checkpoint compares.
const MODE_KEYS: &[(&str, &[Mode])] = &[
    ("frames", &[Mode::Zoom, Mode::Video]),
    ("duration", &[Mode::Zoom, Mode::Video]),
    ("start", &[Mode::Video]),
    ("no-audio", &[Mode::Video]),
    ("height", &[Mode::Still, Mode::Zoom]),
    ("zoom", &[Mode::Zoom, Mode::Video]),
    ("rotate", &[Mode::Zoom, Mode::Video]),
    ("pan", &[Mode::Zoom, Mode::Video]),
    ("colors", &[Mode::Zoom, Mode::Video]),
    ("blend", &[Mode::Video]),
    ("flow", &[Mode::Video]),
    ("scene-threshold", &[Mode::Video]),
    ("fps", &[Mode::Zoom, Mode::Video]),
    ("codec", &[Mode::Zoom, Mode::Video]),
    ("crf", &[Mode::Zoom, Mode::Video]),
    ("audio", &[Mode::Zoom, Mode::Video]),
    ("loop", &[Mode::Zoom]),
    ("interpolation", &[Mode::Zoom, Mode::Video]),
];

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Still => "still",
            Mode::Zoom => "zoom",
            Mode::Video => "video",
        }
    }

    /// Zoom per frame when none is set: a zoom moves into its dream, footage keeps its framing.
    pub(crate) fn default_zoom(self) -> f64 {
        match self {
            Mode::Zoom => 1.05,
            Mode::Still | Mode::Video => 1.0,
        }
    }

    /// Whether the setting or job key `key` acts on this mode.
    pub fn takes(self, key: &str) -> bool {
        MODE_KEYS.iter().find(|(name, _)| *name == key).is_none_or(|(_, modes)| modes.contains(&self))
    }

    /// A manifest key given to a job of a mode it does not act on: "only for zoom and video jobs".
    pub(crate) fn check_key(self, key: &str) -> Result<(), Problem> {
        match MODE_KEYS.iter().find(|(name, _)| *name == key) {
            Some((name, modes)) if !modes.contains(&self) => {
                let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
                Err(Problem::at(name, format!("only for {} jobs", names.join(" and "))))
            }
            _ => Ok(()),
        }
    }
}

/// Where a job starts: a file, or seeded noise (stills and zooms).
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Noise,
    File(PathBuf),
}

impl Input {
    /// The input as the user named it: `noise`, or the file.
    pub fn path(&self) -> &Path {
        match self {
            Input::Noise => Path::new(NOISE),
            Input::File(path) => path,
        }
    }

    pub fn file(&self) -> Option<&Path> {
        match self {
            Input::Noise => None,
            Input::File(path) => Some(path),
        }
    }
}

/// Which part of a footage file to dream; for a zoom, `frames` is the number to render.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub start_seconds: f64,
    pub frames: Option<u64>,
    pub seconds: Option<f64>,
}

/// How a video render keeps its progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderOptions {
    /// Continue from the checkpoint beside the output instead of frame 1.
    pub resume: bool,
    /// Frames per segment: what a crash can lose at most.
    pub checkpoint_every: u64,
    /// Discard a checkpoint beside the output and start afresh (without it or `resume`, a
    /// checkpoint is refused, so a mistyped command never throws away finished work).
    pub restart: bool,
    /// Replace an existing output (`-y`); without it only `resume` may replace the partial
    /// output of the interrupted render it continues.
    pub overwrite: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { resume: false, checkpoint_every: 24, restart: false, overwrite: false }
    }
}

/// A job as the command line or a manifest asks for it, before it is checked.
#[derive(Clone, Debug)]
pub struct Request {
    pub mode: Mode,
    /// A file, or `noise` for a still or a zoom.
    pub input: PathBuf,
    pub output: PathBuf,
    /// Where relative input and output paths are taken from (a manifest's folder; empty: here).
    pub folder: PathBuf,
    pub frames: Option<u64>,
    pub duration: Option<f64>,
    pub start: Option<f64>,
    pub no_audio: Option<bool>,
    pub options: RenderOptions,
    pub settings: Settings,
}

impl Request {
    pub fn new(mode: Mode, input: impl Into<PathBuf>, output: impl Into<PathBuf>, settings: Settings) -> Request {
        Request {
            mode,
            input: input.into(),
            output: output.into(),
            folder: PathBuf::new(),
            frames: None,
            duration: None,
            start: None,
            no_audio: None,
            options: RenderOptions::default(),
            settings,
        }
    }
}

/// A mistake in a request: the key at fault (`--key` on the command line), if any, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub key: Option<&'static str>,
    pub message: String,
}

impl Problem {
    fn at(key: &'static str, message: impl Into<String>) -> Problem {
        Problem { key: Some(key), message: message.into() }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Error {
        let option = problem.key.map_or("job".to_string(), |key| format!("--{key}"));
        Error::setting(option, problem.message)
    }
}

/// `--fps` given for footage that is a video file, which keeps its own rate (only an image
/// sequence takes one): refused rather than ignored.
pub fn fps_of_a_file(input: &Path) -> Problem {
    let message = format!(
        "'{}' is a video file, which keeps its own frame rate: --fps is for image-sequence inputs",
        input.display()
    );
    Problem::at("fps", message)
}

/// A checked render job.
#[derive(Clone, Debug)]
pub struct Job {
    pub mode: Mode,
    pub input: Input,
    pub output: PathBuf,
    /// Footage: the part to dream; zoom: `frames` is always set.
    pub span: Span,
    /// Footage: copy the sound.
    pub audio: bool,
    pub options: RenderOptions,
    /// Everything resolved, as a checkpoint records it; the dream stage loads its engine from it.
    pub settings: Settings,
    /// The size and rate of the frames: what the stages read, make and write.
    pub frames: FrameFormat,
    /// What carries one frame's dream into the next.
    pub between_frames: BetweenFrames,
    /// How the encoder compresses.
    pub encode: EncodeSettings,
}

/// The frames' size and rate: what a still or zoom is made at and footage is read at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameFormat {
    /// Frames are scaled to this width (footage: keeping the aspect ratio).
    pub width: Option<u32>,
    /// A still's or zoom's height from noise.
    pub height: Option<u32>,
    /// Frames per second of a zoom, and of an image sequence read or written.
    pub fps: f64,
}

impl FrameFormat {
    /// The size of a start from noise: `width` x `height`, square when only the width is given.
    pub(crate) fn noise_size(&self) -> Option<(u32, u32)> {
        let width = self.width?;
        Some((width, self.height.unwrap_or(width)))
    }
}

/// What happens between frames: the motion applied to the previous dream, and how footage
/// carries it into the next decoded frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetweenFrames {
    /// Zoom, rotate and pan, with the mode's default zoom.
    pub motion: Motion,
    /// `--blend`: the new frame's share.
    pub blend: f64,
    /// Follow the footage's optical flow.
    pub flow: bool,
    /// Below this share of followed pixels a pair of frames is a cut (0: never).
    pub scene_threshold: f64,
    pub colors: ColorMode,
}

/// How the encoder compresses; `None` leaves the choice to the output's format.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncodeSettings {
    pub codec: Option<Codec>,
    pub crf: Option<u32>,
}

/// Splits resolved settings into the groups the stages take; each value is decided here once.
fn stage_settings(mode: Mode, settings: &Settings) -> (FrameFormat, BetweenFrames, EncodeSettings) {
    let frames = FrameFormat { width: settings.width, height: settings.height, fps: settings.fps };
    let motion = Motion {
        zoom: settings.zoom.unwrap_or(mode.default_zoom()),
        rotate_degrees: settings.rotate,
        pan: settings.pan,
    };
    let between_frames = BetweenFrames {
        motion,
        blend: settings.blend,
        flow: settings.flow,
        scene_threshold: settings.scene_threshold,
        colors: settings.colors,
    };
    (frames, between_frames, EncodeSettings { codec: settings.codec, crf: settings.crf })
}

impl Job {
    /// Checks a request and decides what it leaves open: the span's frames (a zoom's duration
    /// times its frame rate) and the input (`noise` or a file).
    pub fn new(request: Request) -> Result<Job, Problem> {
        let Request { mode, input, output, folder, frames, duration, start, no_audio, options, mut settings } = request;
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
        if options.checkpoint_every == 0 {
            return Err(Problem::at("checkpoint-every", "must be at least 1 frame"));
        }
        let from_noise = mode != Mode::Video && input == Path::new(NOISE);
        let input = if from_noise { Input::Noise } else { Input::File(folder.join(input)) };
        let output = folder.join(output);
        let span = match mode {
            Mode::Still => Span::default(),
            Mode::Zoom => {
                let frames = match (frames, duration) {
                    (Some(frames), _) => frames,
                    (None, Some(seconds)) => (seconds * settings.fps).round().max(1.0) as u64,
                    (None, None) => {
                        return Err(Problem { key: None, message: "a zoom needs frames or duration".into() });
                    }
                };
                Span { start_seconds: 0.0, frames: Some(frames), seconds: None }
            }
            Mode::Video => Span { start_seconds, frames, seconds: duration },
        };
        if mode == Mode::Zoom && from_noise && settings.width.is_none() && settings.height.is_none() {
            // A zoom from noise given no size at all is 640x360 (the README's audio example).
            (settings.width, settings.height) = (Some(640), Some(360));
        }
        match (mode, from_noise) {
            (Mode::Still | Mode::Zoom, true) if settings.width.is_none() => {
                return Err(Problem::at("width", format!("a {} from noise needs width", mode.name())));
            }
            // Square, as a still from noise is.
            (Mode::Zoom, true) if settings.height.is_none() => settings.height = settings.width,
            _ => {}
        }
        #[cfg(feature = "video")]
        if mode != Mode::Still {
            crate::job::encode_check::check_encode(&output, &settings)
                .map_err(|(key, message)| Problem::at(key, message))?;
        }
        let (frames, between_frames, encode) = stage_settings(mode, &settings);
        let audio = !no_audio.unwrap_or(false);
        Ok(Job { mode, input, output, span, audio, options, settings, frames, between_frames, encode })
    }

    /// The motion between frames, with the mode's default zoom.
    pub fn motion(&self) -> Motion {
        self.between_frames.motion
    }
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
        assert_eq!(zoom(None, Some(2.0), 12.0).unwrap().span.frames, Some(24));
        assert_eq!(zoom(None, Some(0.01), 24.0).unwrap().span.frames, Some(1));
        assert_eq!(zoom(Some(7), None, 24.0).unwrap().span.frames, Some(7));
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
        assert_eq!((zoom.input.clone(), zoom.motion().zoom), (Input::Noise, 1.05));
        let video = Job::new(request(Mode::Video)).unwrap();
        assert_eq!((video.input.clone(), video.motion().zoom), (Input::File("noise".into()), 1.0));
    }
}
