//! A render job as one value, built alike from the command line and a `[[job]]` of a batch
//! manifest (a [`Request`]) by [`Job::new`], checked there once into private fields, and rendered
//! by `crate::run::render`. Defaults that depend on the mode are decided here, and the request's
//! settings layers are resolved here for what the job renders.
use crate::config::layers::Target;
use crate::config::settings::Settings;
use crate::error::Result;
use crate::frame::color::ColorMode;
use crate::job::dream::DreamSpec;
use crate::job::output::Output;
use crate::job::plan::PlanSpec;
use crate::job::request::fps_of_a_file;
pub use crate::job::request::{MAX_FRAMES, Mode, NOISE, Part, Problem, RenderOptions, Request, Span};
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
    /// Checks a request and decides what it leaves open: the settings (its layers resolved for
    /// this mode, input and output, and checked), the span's frames (a zoom's duration times its
    /// frame rate), the source (`noise` of a size, a picture or footage), the output's kind and
    /// codec, the dream's and each frame's settings.
    pub fn new(request: Request) -> Result<Job> {
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
            layers,
        } = request;
        let from_noise = mode != Mode::Video && input == Path::new(NOISE);
        if mode == Mode::Video && layers.given.fps.is_some() && folder.join(&input).is_file() {
            return Err(fps_of_a_file(&input).into());
        }
        let picture = (mode != Mode::Video && !from_noise).then(|| folder.join(&input));
        let target = Target {
            still: mode == Mode::Still,
            encodes: encodes_video(mode, &folder.join(&output)),
            picture: picture.as_deref(),
        };
        let mut settings = layers.resolve(target)?;
        if part.is_some() && mode != Mode::Video {
            return Err(Problem::at(
                "part",
                "splits footage (`dreamreel video`): a zoom carries every frame into the next",
            )
            .into());
        }
        if part.is_some() && settings.looped() {
            return Err(Problem::at("part", "a loop fades its end into its start: render it whole").into());
        }
        if !cfg!(feature = "video") && mode != Mode::Still {
            return Err(
                Problem::at("mode", format!("{} needs dreamreel built with the video feature", mode.name())).into()
            );
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
            return Err(Problem::at("duration", "give frames or duration, not both").into());
        }
        if frames == Some(0) {
            return Err(Problem::at("frames", "must be at least 1").into());
        }
        if let Some(seconds) = duration
            && !(seconds.is_finite() && seconds > 0.0)
        {
            return Err(Problem::at("duration", format!("{seconds} must be a positive number of seconds")).into());
        }
        let start_seconds = start.unwrap_or(0.0);
        if !(start_seconds.is_finite() && start_seconds >= 0.0) {
            return Err(Problem::at("start", format!("{start_seconds} must be zero or more seconds")).into());
        }
        if let (Mode::Still, Some((key, _))) = (mode, settings.schedules().texts().first()) {
            return Err(Problem::at(key, "a still has one frame: give a number, not a schedule").into());
        }
        // Frames between checkpoints: the command line's, else the preset's or manifest's.
        let options = RenderOptions { checkpoint_every: settings.checkpoint_every(), ..options };
        if options.checkpoint_every == 0 {
            return Err(Problem::at("checkpoint-every", "must be at least 1 frame").into());
        }
        let span = match mode {
            Mode::Still => Span::default(),
            Mode::Zoom => {
                let frames = match (frames, duration) {
                    (Some(frames), _) => frames,
                    (None, Some(seconds)) => (seconds * settings.fps()).round().max(1.0) as u64,
                    (None, None) => return Err(Problem::whole("a zoom needs frames or duration").into()),
                };
                if frames > MAX_FRAMES {
                    let key = if duration.is_some() { "duration" } else { "frames" };
                    return Err(Problem::at(key, too_many(frames, settings.fps())).into());
                }
                Span { start_seconds: 0.0, frames: Some(frames), seconds: None }
            }
            Mode::Video => {
                if let Some(frames) = frames.filter(|&f| f > MAX_FRAMES) {
                    return Err(Problem::at("frames", too_many(frames, 24.0)).into());
                }
                Span { start_seconds, frames, seconds: duration }
            }
        };
        if mode == Mode::Zoom && from_noise {
            // A zoom from noise given no size at all is 640x360 (the README's audio example).
            settings = settings.or_size(640, 360);
        }
        let source = match (mode, picture) {
            (Mode::Video, _) => Source::Footage(folder.join(&input)),
            (_, Some(picture)) => Source::Image(picture),
            (_, None) => {
                let width = settings
                    .width()
                    .ok_or_else(|| Problem::at("width", format!("a {} from noise needs width", mode.name())))?;
                // Square when only the width is given.
                Source::Noise { width, height: settings.height().unwrap_or(width) }
            }
        };
        let size = match source {
            Source::Noise { width, height } => (Some(width), Some(height)),
            _ => (settings.width(), None),
        };
        let output = Output::decide(mode, folder.join(output), settings.codec(), settings.crf(), size)?;
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
            format: FrameFormat { width: settings.width(), fps: settings.fps() },
            between: BetweenFrames {
                flow: settings.flow(),
                scene_threshold: settings.scene_threshold(),
                colors: settings.colors(),
            },
            dream: DreamSpec::of(&settings),
            per_frame: PlanSpec::of(&settings, mode.default_zoom()),
            soundtrack: settings.audio(),
            keep_sound,
            looped: settings.looped(),
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

/// Whether a `mode` render into `output` encodes video with a codec (else a preset's codec and
/// CRF do nothing to it): asked of the output's one decision, never of the extension again.
fn encodes_video(mode: Mode, output: &Path) -> bool {
    crate::job::output::encodes_video(mode, output)
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
    use crate::config::layers::Layers;
    use crate::config::settings::SettingsPatch;
    use crate::error::Error;
    #[cfg(feature = "video")]
    use crate::job::output::OutputKind;

    #[cfg(feature = "video")]
    fn zoom(frames: Option<u64>, duration: Option<f64>, fps: f64) -> Result<Job> {
        let settings = SettingsPatch { fps: Some(fps), ..Default::default() };
        Job::new(Request { frames, duration, ..Request::new(Mode::Zoom, "a.png", "z.mp4", settings) })
    }

    /// The key and message of a refused request.
    fn refused(result: Result<Job>) -> (String, String) {
        match result {
            Err(Error::Setting { key, message }) => (key.name().to_string(), message),
            other => panic!("not a setting's error: {other:?}"),
        }
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_zoom_duration_becomes_frames_at_its_rate() {
        assert_eq!(zoom(None, Some(2.0), 12.0).unwrap().span().frames, Some(24));
        assert_eq!(zoom(None, Some(0.01), 24.0).unwrap().span().frames, Some(1));
        assert_eq!(zoom(Some(7), None, 24.0).unwrap().span().frames, Some(7));
        assert_eq!(refused(zoom(None, None, 24.0)).1, "a zoom needs frames or duration");
        assert_eq!(refused(zoom(None, Some(-1.0), 24.0)).0, "duration");
    }

    #[test]
    fn keys_for_other_modes_are_named() {
        let still = Request { start: Some(1.0), ..Request::new(Mode::Still, "a.png", "b.png", Layers::default()) };
        let (key, message) = refused(Job::new(still));
        assert_eq!((key.as_str(), message.as_str()), ("start", "only for video jobs"));
        assert!(Mode::Still.check_key("blend").is_err() && Mode::Video.check_key("blend").is_ok());
        assert!(Mode::Video.check_key("octaves").is_ok());
        assert!(!Mode::Video.takes("height") && Mode::Zoom.takes("fps"));
    }

    #[cfg(feature = "video")]
    #[test]
    fn noise_and_the_default_zoom_depend_on_the_mode() {
        let settings = SettingsPatch { width: Some(32), height: Some(32), ..Default::default() };
        let request = |mode| Request { frames: Some(2), ..Request::new(mode, "noise", "o.mp4", settings.clone()) };
        let zoom = Job::new(request(Mode::Zoom)).unwrap();
        assert_eq!(zoom.source(), &Source::Noise { width: 32, height: 32 });
        assert_eq!(zoom.per_frame().constants().numbers.zoom, 1.05);
        let video = Job::new(request(Mode::Video)).unwrap();
        assert_eq!(video.source(), &Source::Footage("noise".into()));
        assert_eq!(video.per_frame().constants().numbers.zoom, 1.0);
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_checkpoint_compares_only_the_settings_of_the_jobs_mode() {
        let describe = |mode, fps: f64, blend: f64| {
            let settings = SettingsPatch { fps: Some(fps), blend: Some(blend.into()), ..Default::default() };
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

    #[test]
    fn the_layers_are_resolved_and_checked_by_the_job() {
        // Nothing unchecked reaches a job: a rate of 0 is refused by the job itself.
        let zero = SettingsPatch { fps: Some(0.0), ..Default::default() };
        let (key, _) =
            refused(Job::new(Request { frames: Some(2), ..Request::new(Mode::Zoom, "noise", "z.gif", zero) }));
        assert_eq!(key, "fps");
        // A preset's schedule does nothing to a still, its CRF nothing to a GIF: left out, not refused.
        let preset: SettingsPatch = toml::from_str("zoom = \"0:(1), 4:(1.1)\"\ncrf = 30\nwidth = 32\n").unwrap();
        let layers = Layers { preset, ..Layers::default() };
        let still = Job::new(Request::new(Mode::Still, "noise", "s.png", layers.clone())).unwrap();
        assert_eq!(still.source(), &Source::Noise { width: 32, height: 32 });
        #[cfg(feature = "video")]
        {
            let gif =
                Job::new(Request { frames: Some(2), ..Request::new(Mode::Zoom, "noise", "z.gif", layers.clone()) });
            assert_eq!(gif.unwrap().output().kind(), OutputKind::Gif);
            let mp4 = Job::new(Request { frames: Some(2), ..Request::new(Mode::Zoom, "noise", "z.mp4", layers) });
            assert!(matches!(mp4.unwrap().output().kind(), OutputKind::Container { crf: Some(30), .. }));
        }
    }

    #[test]
    fn a_picture_keeps_its_shape_in_the_job() {
        let height = SettingsPatch { height: Some(32), ..Default::default() };
        let (key, message) = refused(Job::new(Request::new(Mode::Still, "a.png", "b.png", height.clone())));
        assert_eq!(key, "height");
        assert!(message.starts_with("32 does nothing to 'a.png': a picture keeps its shape"), "{message}");
        let preset = Layers { preset: height.clone(), ..Layers::default() };
        assert!(Job::new(Request::new(Mode::Still, "a.png", "b.png", preset)).is_ok());
        let noise = SettingsPatch { width: Some(48), ..height };
        assert_eq!(
            Job::new(Request::new(Mode::Still, "noise", "b.png", noise)).unwrap().source(),
            &Source::Noise { width: 48, height: 32 }
        );
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_video_file_keeps_its_own_rate() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("clip.mp4"), b"").unwrap();
        let fps = SettingsPatch { fps: Some(10.0), ..Default::default() };
        let request = Request { folder: dir.path().to_owned(), ..Request::new(Mode::Video, "clip.mp4", "o.mp4", fps) };
        let error = Job::new(request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "fps: 'clip.mp4' is a video file, which keeps its own frame rate: fps is for image-sequence inputs"
        );
    }
}
