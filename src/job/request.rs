//! What the command line or a batch manifest asks for, before it is checked: the mode, the
//! input and output, the span, the render options and the settings' layers, and a mistake in
//! it ([`Problem`]).
use crate::config::layers::Layers;
use crate::error::{Error, mention};
use std::path::{Path, PathBuf};

/// The most frames one render may have: 11.5 hours at 24 fps (a feature film is 150,000). Every
/// frame has a row in the render's plan, so the count is bounded before anything is sized by it.
pub const MAX_FRAMES: u64 = 1_000_000;

/// The input name that starts a still (or a zoom) from seeded noise instead of a file.
pub const NOISE: &str = "noise";

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
    ("checkpoint-every", &[Mode::Zoom, Mode::Video]),
    ("parts", &[Mode::Video]),
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

/// Which part of a footage file to dream; for a zoom, `frames` is the number to render.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub start_seconds: f64,
    pub frames: Option<u64>,
    pub seconds: Option<f64>,
}

/// One part of a film split for many machines (`--part I/N`, both counted from 1): see
/// `crate::run::parts` for where each part starts and ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub index: u32,
    pub count: u32,
}

impl Part {
    /// The most parts one film may be split into.
    pub const MAX: u32 = 10_000;

    /// `I/N`, such as `2/8`.
    pub fn parse(text: &str) -> Result<Part, Problem> {
        let bad = |why: &str| Problem::at("part", format!("'{text}' {why}"));
        let (index, count) = text.split_once('/').ok_or_else(|| bad("must be I/N, such as 2/8"))?;
        let whole = |n: &str| n.trim().parse::<u32>().map_err(|_| bad("must be I/N with whole numbers, such as 2/8"));
        let (index, count) = (whole(index)?, whole(count)?);
        if count == 0 || count > Part::MAX {
            return Err(bad(&format!("must have between 1 and {} parts", Part::MAX)));
        }
        if !(1..=count).contains(&index) {
            return Err(bad(&format!("is out of range: parts are numbered 1 to {count}")));
        }
        Ok(Part { index, count })
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "part {} of {}", self.index, self.count)
    }
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
    /// Footage: render only this part of the film (`--part`).
    pub part: Option<Part>,
    /// Parts may start inside a long shot, after a warm-up (else only at cuts).
    pub split_inside_shots: bool,
    pub options: RenderOptions,
    /// The settings, unresolved: built-in defaults < preset < Deforum file < command line or
    /// manifest line. `Job::new` resolves and checks them for what the job renders.
    pub layers: Layers,
}

impl Request {
    /// A request of `layers` (or of the settings given, as a `SettingsPatch`, with no preset).
    pub fn new(
        mode: Mode,
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        layers: impl Into<Layers>,
    ) -> Request {
        Request {
            mode,
            input: input.into(),
            output: output.into(),
            folder: PathBuf::new(),
            frames: None,
            duration: None,
            start: None,
            no_audio: None,
            part: None,
            split_inside_shots: true,
            options: RenderOptions::default(),
            layers: layers.into(),
        }
    }
}

/// A mistake in a request: the key at fault (`--key` on the command line), if any, and what is
/// wrong; or an output that cannot be written (`path`).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub key: Option<&'static str>,
    pub message: String,
    /// The output at fault (an extension that names no format): reported as the file's error.
    pub output: Option<PathBuf>,
}

impl Problem {
    pub(crate) fn at(key: &'static str, message: impl Into<String>) -> Problem {
        Problem { key: Some(key), message: message.into(), output: None }
    }

    pub(crate) fn whole(message: impl Into<String>) -> Problem {
        Problem { key: None, message: message.into(), output: None }
    }

    /// An output the render cannot write, from the error that says why.
    pub(crate) fn of_output(path: &Path, error: &Error) -> Problem {
        let text = error.to_string();
        let prefix = format!("{}: ", path.display());
        let message = text.strip_prefix(&prefix).unwrap_or(&text).to_string();
        Problem { key: Some("output"), message, output: Some(path.to_owned()) }
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Error {
        if let Some(path) = problem.output {
            return Error::output(path, problem.message);
        }
        Error::setting(problem.key.unwrap_or("job"), problem.message)
    }
}

/// `fps` given for footage that is a video file, which keeps its own rate (only an image
/// sequence takes one): refused rather than ignored.
pub(crate) fn fps_of_a_file(input: &Path) -> Problem {
    let message = format!(
        "'{}' is a video file, which keeps its own frame rate: {} is for image-sequence inputs",
        input.display(),
        mention("fps")
    );
    Problem::at("fps", message)
}
