//! The command line: every subcommand's arguments, as clap parses them (`commands.rs` runs them).
use crate::cli::choices::choice;
use clap::{Parser, Subcommand};
use dreamreel::Error;
#[cfg(feature = "video")]
use dreamreel::config::deforum::DeforumSettings;
use dreamreel::config::layers::{Layers, Target};
use dreamreel::config::presets;
use dreamreel::config::settings::{Settings, SettingsPatch};
use dreamreel::engine::ascent::CarrySchedule;
use dreamreel::frame::camera::{Padding, Sampling};
use dreamreel::frame::color::ColorMode;
use dreamreel::frame::transform::{Border, Resample};
#[cfg(feature = "video")]
use dreamreel::job::render_job::RenderOptions;
use dreamreel::model::kind::ModelKind;
use dreamreel::model::precision::Precision;
use dreamreel::video::codec::Codec;
use std::path::{Path, PathBuf};

/// Renders DeepDream ("inceptionism") stills and videos.
#[derive(Parser)]
#[command(name = "dreamreel", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Dream one still image
    Still(StillArgs),
    #[cfg(feature = "video")]
    /// Dream zoom: dream a still (or noise), then again and again, zooming into each dream
    Zoom(ZoomArgs),
    #[cfg(feature = "video")]
    /// Dream existing footage frame by frame, keeping its timing and sound
    Video(VideoArgs),
    #[cfg(feature = "video")]
    /// Measure a dreamed video against its source: warping error (flicker along the motion), brightness flicker, colour drift, cuts
    Compare(CompareArgs),
    /// List every network, whether its weights are installed, and its layers with their shapes at 224x224
    Models,
    /// What a network sees in an image: its top ImageNet classes and their probabilities
    Classify(ClassifyArgs),
    /// Time the dream on noise or a still, in memory: seconds per frame, frames per second, peak memory
    Bench(BenchArgs),
    /// List the presets, or show one's settings with `presets show NAME`
    Presets(PresetsArgs),
    /// Run the jobs of a manifest ([[job]] tables), skipping those whose output exists
    Batch(BatchArgs),
    /// Serve a page in the browser for the media in a folder: tune a look on a small still, see a
    /// zoom's plan, queue renders and watch them, hand looks on as presets, manifests, commands
    Studio(StudioArgs),
    #[cfg(feature = "video")]
    /// Print a zoom's or video's per-frame values of its scheduled settings (table, --json or --plot FILE.png) without rendering
    Plan(PlanCommand),
    /// Print a shell completion script: `dreamreel completions bash > ~/.local/share/bash-completion/completions/dreamreel`
    Completions(CompletionsArgs),
    /// Write the man pages (dreamreel.1, dreamreel-still.1, ...) into a folder, e.g. ~/.local/share/man/man1
    Manpages(ManpagesArgs),
}

/// Declares a group of options, each an `Option` of the [`SettingsPatch`] field of its name, and
/// how the group fills a patch: one list of fields per group, none written twice.
macro_rules! option_group {
    ($(#[$attr:meta])* $group:ident { $($(#[$field_attr:meta])* $field:ident: $type:ty,)* }) => {
        $(#[$attr])*
        #[derive(clap::Args)]
        pub struct $group {
            $($(#[$field_attr])* pub $field: Option<$type>,)*
        }

        impl OptionGroup for $group {
            fn fill(&self, patch: &mut SettingsPatch) {
                $(if self.$field.is_some() { patch.$field = self.$field.clone(); })*
            }
        }
    };
}

/// A group of options that fills part of a [`SettingsPatch`].
pub trait OptionGroup {
    fn fill(&self, patch: &mut SettingsPatch);
}

/// The patch that `groups` give, in order.
fn patch_of(groups: &[&dyn OptionGroup]) -> SettingsPatch {
    let mut patch = SettingsPatch::default();
    for group in groups {
        group.fill(&mut patch);
    }
    patch
}

option_group! {
    /// What to amplify and how: the network, its layers, the ascent, and its objective.
    DreamOptions {
        /// Network: EfficientNet-Lite0, -Lite1, -Lite2 or GoogLeNet (googlenet, with --weights or installed) [default: lite0]
        #[arg(long, value_parser = choice::<ModelKind>(), help_heading = "Dream")]
        model: ModelKind,
        /// A weights file (torch.save state dict) to use instead of the installed one
        #[arg(long, value_name = "FILE", help_heading = "Dream")]
        weights: PathBuf,
        /// Layers whose activations the dream amplifies, comma-separated: stem, blocks.N, head; GoogLeNet: conv1 ... inception5b [default: blocks.8,blocks.10; inception4c]
        #[arg(long, value_name = "L1,L2", help_heading = "Dream")]
        layers: String,
        /// Levels of the image pyramid [default: 4]
        #[arg(long, help_heading = "Dream")]
        octaves: u32,
        /// Size ratio between pyramid levels (or a schedule) [default: 1.4]
        #[arg(long, value_name = "F|SCHEDULE", help_heading = "Dream")]
        octave_scale: dreamreel::config::schedule::Scheduled,
        /// Gradient-ascent steps per octave (or a schedule) [default: 10]
        #[arg(long, value_name = "N|SCHEDULE", help_heading = "Dream")]
        iterations: dreamreel::config::schedule::Scheduled,
        /// Step size, relative to the mean gradient, or a schedule: "0:(0.01), 48:(0.03)", "0.01 + 0.03*loud" [default: 0.02]
        #[arg(long, value_name = "F|SCHEDULE", help_heading = "Dream")]
        step: dreamreel::config::schedule::Scheduled,
        /// Largest random shift in pixels before each step (or a schedule) [default: 16]
        #[arg(long, value_name = "N|SCHEDULE", help_heading = "Dream")]
        jitter: dreamreel::config::schedule::Scheduled,
        /// Seed of the random shifts (and of `noise`): same seed, same device, same output [default: 0]
        #[arg(long, help_heading = "Dream")]
        seed: u64,
        /// Dream in tiles of at most N x N pixels, to bound memory on big frames [default: whole frame]
        #[arg(long, value_name = "N", help_heading = "Dream")]
        tile: u32,
        /// Amplify only these channels of a layer, e.g. blocks.10:3,17 (repeatable; instead of --layers)
        #[arg(long, value_name = "LAYER:C1,C2", help_heading = "Objective")]
        channels: Vec<String>,
        /// Grow ImageNet classes, by name or index, comma-separated: banana,954 (`dreamreel classify --list`)
        #[arg(long, value_name = "NAME|INDEX", help_heading = "Objective")]
        class: String,
        /// Take on this image's textures: match each position's features at --layers to the guide's
        #[arg(long, value_name = "IMAGE", help_heading = "Objective")]
        guide: PathBuf,
        /// Image prior: share of a 3x3 blur mixed into the image after each step [default: 0.3 with --class, else 0]
        #[arg(long, value_name = "F|SCHEDULE", help_heading = "Objective")]
        blur: dreamreel::config::schedule::Scheduled,
        /// Raise --layers too beside --class (their look on the object) [default: true when --layers is given with --class]
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Objective")]
        class_layers: bool,
        /// How the picture moves: pixel (octave ascent) or fourier (objects from noise: Adam on a
        /// decorrelated-colour 1/f spectrum) [default: fourier from noise (a still, a zoom's first frame), else pixel]
        #[arg(long, value_parser = choice::<dreamreel::engine::fourier::Prior>(), help_heading = "Objects from noise")]
        prior: dreamreel::engine::fourier::Prior,
        /// Adam steps of the Fourier prior from noise [default: 128]
        #[arg(long, help_heading = "Objects from noise")]
        steps: u32,
        /// Adam steps of the Fourier prior when it dreams an image (--prior fourier on a photo or each zoom frame) [default: 16]
        #[arg(long, help_heading = "Objects from noise")]
        image_steps: u32,
        /// Adam's learning rate on the spectrum [default: 0.05]
        #[arg(long, value_name = "F", help_heading = "Objects from noise")]
        learning_rate: f64,
        /// How fast the spectrum's weight falls with frequency, 1/f^decay: higher is smoother [default: 1]
        #[arg(long, value_name = "F", help_heading = "Objects from noise")]
        decay: f64,
        /// Leave out lucid's transformation robustness (pad, jitter, random scale and rotation each
        /// step; preset key `transforms = false`)
        #[arg(long = "no-transforms", num_args = 0, default_missing_value = "false", help_heading = "Objects from noise")]
        transforms: bool,
        /// Dream only where this grey image is white (black keeps the input, grey weights the step); stretched to the frame
        #[arg(long, value_name = "IMAGE", help_heading = "Where to dream")]
        mask: PathBuf,
        /// Swap the mask's white and black
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Where to dream")]
        mask_invert: bool,
    }
}

option_group! {
    /// The size of an input that is read.
    WidthOption {
        /// Resize the input to this width, keeping the aspect ratio
        #[arg(long, value_parser = parse_side, help_heading = "Frame")]
        width: u32,
    }
}

option_group! {
    /// The height of a `noise` input.
    HeightOption {
        /// Height of a `noise` input [default: the width; a zoom from noise given neither size is 640x360]
        #[arg(long, value_parser = parse_side, help_heading = "Frame")]
        height: u32,
    }
}

/// `--width`, `--height`: a whole number within the sides the settings take (checked there too,
/// for presets and manifests), so a negative one is worded as the real range.
fn parse_side(text: &str) -> Result<u32, String> {
    let sides = dreamreel::config::settings::SIDES;
    let (start, end) = (sides.start(), sides.end());
    match text.trim().parse::<i64>() {
        Ok(side) => dreamreel::config::settings::check_side(side),
        Err(_) => Err(format!("must be a whole number between {start} and {end} pixels")),
    }
}

option_group! {
    /// How each frame moves from the last.
    MotionOptions {
        /// Zoom about the centre per frame, e.g. 1.05, or a schedule: keyframes "0:(1.0), 2.5s:(1.04)"
        /// or an expression in t, s, n and the audio signals, "1.01 + 0.06*beat" [default: 1.05 for zoom, 1 for video]
        #[arg(long, value_name = "F|SCHEDULE", help_heading = "Motion")]
        zoom: dreamreel::config::schedule::Scheduled,
        /// Rotation per frame in degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "DEG|SCHEDULE", help_heading = "Motion")]
        rotate: dreamreel::config::schedule::Scheduled,
        /// Shift per frame in pixels, DX,DY, or a schedule of pairs "0:(0,0), 48:(4,-2)" [default: 0,0]
        #[arg(long, value_name = "DX,DY", allow_hyphen_values = true, help_heading = "Motion")]
        pan: String,
        /// Fixed point of zoom and rotation across, a fraction of the width (or a schedule) [default: 0.5]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        center_x: dreamreel::config::schedule::Scheduled,
        /// Fixed point of zoom and rotation down, a fraction of the height (or a schedule) [default: 0.5]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        center_y: dreamreel::config::schedule::Scheduled,
        /// What a motion brings in at the edges: the edge repeated or the opposite edge [default: replicate]
        #[arg(long, value_parser = choice::<Border>(), help_heading = "Motion")]
        border: Border,
        /// Deforum's perspective flip, turned by --flip-theta/-phi/-gamma through a lens of --flip-fv
        #[arg(long = "perspective-flip", num_args = 0, default_missing_value = "true", help_heading = "Motion")]
        perspective_flip: bool,
        /// Perspective flip about the axis through the screen, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        flip_theta: dreamreel::config::schedule::Scheduled,
        /// Perspective flip about the horizontal axis, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        flip_phi: dreamreel::config::schedule::Scheduled,
        /// Perspective flip about the vertical axis, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        flip_gamma: dreamreel::config::schedule::Scheduled,
        /// Perspective flip's field of view, degrees (or a schedule) [default: 53]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        flip_fv: dreamreel::config::schedule::Scheduled,
        /// Deforum's 3D camera on a flat scene instead of zoom, rotate and centre: --translate-z,
        /// --rotate-x/-y/-z, --fov, and --pan as the camera's x and y
        #[arg(long = "camera-3d", num_args = 0, default_missing_value = "true", help_heading = "Motion")]
        camera_3d: bool,
        /// 3D camera forward per frame, Deforum's units (or a schedule) [default: 0]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        translate_z: dreamreel::config::schedule::Scheduled,
        /// 3D camera turn about x per frame, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "DEG|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        rotate_x: dreamreel::config::schedule::Scheduled,
        /// 3D camera turn about y per frame, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "DEG|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        rotate_y: dreamreel::config::schedule::Scheduled,
        /// 3D camera turn about z per frame, degrees (or a schedule) [default: 0]
        #[arg(long, value_name = "DEG|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        rotate_z: dreamreel::config::schedule::Scheduled,
        /// 3D camera field of view, degrees (or a schedule) [default: 70]
        #[arg(long, value_name = "DEG|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        fov: dreamreel::config::schedule::Scheduled,
        /// 3D camera aspect ratio (or a schedule) [default: 1]
        #[arg(long, value_name = "F|SCHEDULE", allow_hyphen_values = true, help_heading = "Motion")]
        camera_aspect: dreamreel::config::schedule::Scheduled,
        /// How the 3D camera reads between pixels [default: bicubic]
        #[arg(long, value_parser = choice::<Sampling>(), help_heading = "Motion")]
        camera_sampling: Sampling,
        /// What the 3D camera sees beyond the frame [default: border]
        #[arg(long, value_parser = choice::<Padding>(), help_heading = "Motion")]
        camera_padding: Padding,
        /// How motion reads each moved frame between pixels [default: exact; deforum with --deforum-settings]
        #[arg(long, value_parser = choice::<Resample>(), help_heading = "Motion")]
        resample: Resample,
        /// Colours of each dreamed frame: match (Lab mean and spread of what it was dreamed from),
        /// keep (its colours, the dream's lightness) or free (they drift) [default: match]
        #[arg(long, value_parser = choice::<ColorMode>(), help_heading = "Dream")]
        colors: ColorMode,
        /// How a frame that starts from the previous dream (a zoom's after the first, footage's
        /// followed by the flow) is dreamed; the first frame and the first after a cut always get
        /// the full dream [default: full for a zoom, half for footage]
        #[arg(long, value_parser = choice::<CarrySchedule>(), help_heading = "Dream")]
        carry: CarrySchedule,
    }
}

option_group! {
    /// How footage carries the dream from frame to frame.
    FootageOptions {
        /// Share of the new footage frame in the blend with the previous dreamed frame (or a schedule) [default: 0.5]
        #[arg(long, value_name = "F|SCHEDULE", help_heading = "Motion")]
        blend: dreamreel::config::schedule::Scheduled,
        /// Keep the old behaviour, the previous dream moved only by zoom/rotate/pan, not
        /// carried along the source's optical flow (preset key `flow = false`)
        #[arg(long = "no-flow", num_args = 0, default_missing_value = "false", help_heading = "Motion")]
        flow: bool,
        /// A pair of frames whose share of followed pixels is below F is a scene cut, where
        /// the dream starts afresh (0: never) [default: 0.2]
        #[arg(long, value_name = "F", help_heading = "Motion")]
        scene_threshold: f64,
    }
}

option_group! {
    /// How a video is written.
    EncodeOptions {
        /// Video codec [default: h264, vp9 for .webm]
        #[arg(long, value_parser = choice::<Codec>(), help_heading = "Output")]
        codec: Codec,
        /// Constant rate factor: lower is better quality and bigger files [default: per codec]
        #[arg(long, value_parser = parse_crf, help_heading = "Output")]
        crf: u32,
    }
}

/// `--crf`: a whole number within what some codec takes (each codec's own range is checked with the settings).
fn parse_crf(text: &str) -> Result<u32, String> {
    let range = Codec::any_crf_range();
    let each: Vec<String> = Codec::ALL
        .iter()
        .map(|codec| format!("{}-{} for {codec}", codec.crf_range().start(), codec.crf_range().end()))
        .collect();
    match text.trim().parse::<i64>() {
        Ok(crf) if crf >= 0 && range.contains(&(crf as u32)) => Ok(crf as u32),
        Ok(_) => Err(format!("must be between {} and {} ({})", range.start(), range.end(), each.join(", "))),
        Err(_) => Err(format!("must be a whole number between {} and {}", range.start(), range.end())),
    }
}

option_group! {
    /// The frame rate of a zoom.
    FpsOption {
        /// Frame rate of the zoom [default: 24]
        #[arg(long, help_heading = "Output")]
        fps: f64,
    }
}

option_group! {
    /// The frame rate of footage given as images, which have none of their own.
    SequenceFpsOption {
        /// Frame rate of an image-sequence input (a video file keeps its own) [default: 24]
        #[arg(long, help_heading = "Frame")]
        fps: f64,
    }
}

option_group! {
    /// Where and how the network runs.
    MachineOptions {
        /// auto (CUDA if there is one), cpu, cuda or cuda:N [default: auto]
        #[arg(long, help_heading = "Machine")]
        device: String,
        /// CPU threads for torch (0: torch's default) [default: 0]
        #[arg(long, help_heading = "Machine")]
        threads: u32,
        /// Number format of the network: auto is bf16 on CUDA, fp32 on the CPU [default: auto]
        #[arg(long, value_parser = choice::<Precision>(), help_heading = "Machine")]
        precision: Precision,
        /// Let cuDNN time its algorithms for each new frame shape: seconds per shape, so only worth
        /// it for long renders [default: false]
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Machine")]
        cudnn_benchmark: bool,
        /// On CUDA, replay each octave's ascent step from a CUDA graph (eager if capture fails) [default: true]
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help_heading = "Machine")]
        cuda_graphs: bool,
    }
}

option_group! {
    /// How schedules are evaluated, and the soundtrack their audio signals come from.
    ScheduleOptions {
        /// How numeric keyframes are joined: linear, or cubic (a smooth curve through them) [default: linear]
        #[arg(long, value_parser = choice::<dreamreel::config::schedule::Interpolation>(), help_heading = "Schedules")]
        interpolation: dreamreel::config::schedule::Interpolation,
        /// A soundtrack: its signals loud, beat, bass, mid, high (each 0-1 per frame) and bpm drive
        /// schedule expressions, and it is muxed into the output, cut to the video's length
        /// [default: a video's own sound]
        #[arg(long, value_name = "FILE", help_heading = "Schedules")]
        audio: PathBuf,
    }
}

option_group! {
    /// A zoom that loops.
    LoopOption {
        /// Loop without a seam: the zoom dreams on past its length and cross-fades those frames
        /// into its first ones, so its last frame leads back into its first (preset key `loop = true`)
        #[arg(long = "loop", num_args = 0, default_missing_value = "true", help_heading = "Motion")]
        looped: bool,
    }
}

/// Printing a render's plan instead of rendering it.
#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct PlanArgs {
    /// Print every frame's values of the scheduled settings (and the audio signals) instead of rendering
    #[arg(long, help_heading = "Schedules")]
    pub plan_only: bool,
    /// Print the plan as JSON (implies --plan-only)
    #[arg(long, help_heading = "Schedules")]
    pub json: bool,
    /// Draw the plan into a PNG: one curve per scheduled setting, the audio signals under them,
    /// beats marked (implies --plan-only)
    #[arg(long, value_name = "FILE.png", help_heading = "Schedules")]
    pub plot: Option<PathBuf>,
}

#[cfg(feature = "video")]
impl PlanArgs {
    /// Whether the command prints its plan instead of rendering.
    pub fn wanted(&self) -> bool {
        self.plan_only || self.json || self.plot.is_some()
    }
}

/// `dreamreel plan zoom ...` and `plan video ...`: the command's plan, as with --plan-only.
#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct PlanCommand {
    #[command(subcommand)]
    pub mode: PlanMode,
}

#[cfg(feature = "video")]
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum PlanMode {
    /// The plan of a zoom (the arguments of `dreamreel zoom`)
    Zoom(ZoomArgs),
    /// The plan of a dreamed video (the arguments of `dreamreel video`)
    Video(VideoArgs),
}

#[derive(clap::Args)]
pub struct ManpagesArgs {
    /// Folder to write the pages into (made if missing)
    pub folder: PathBuf,
}

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct BenchArgs {
    /// Still to dream instead of noise (resized to --width)
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Frames to dream, each zoomed from the last; the first is a warm-up and not counted
    #[arg(long, default_value_t = 5)]
    pub frames: u32,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
    /// Preset to start from: a name (see `dreamreel presets`) or a .toml file; options given here override it
    #[arg(long, value_name = "NAME|FILE", help_heading = "Dream")]
    pub preset: Option<String>,
    #[command(flatten)]
    pub dream: DreamOptions,
    #[command(flatten)]
    pub width: WidthOption,
    #[command(flatten)]
    pub height: HeightOption,
    #[command(flatten)]
    pub machine: MachineOptions,
}

impl BenchArgs {
    /// Defaults < preset < command line, checked: zoomed frames of `--input`, a picture that
    /// keeps its shape, or of noise.
    pub fn settings(&self) -> Result<Settings, Error> {
        let preset = self.preset.as_deref().map(|spec| presets::find(spec, Path::new(""))).transpose()?;
        let layers = Layers {
            preset: preset.map(|p| p.patch).unwrap_or_default(),
            given: patch_of(&[&self.dream, &self.width, &self.height, &self.machine]),
            ..Layers::default()
        };
        layers.resolve(Target { still: false, encodes: true, picture: self.input.as_deref() })
    }
}

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Image to classify (PNG, JPEG, WebP or TIFF)
    #[arg(required_unless_present = "list")]
    pub image: Option<PathBuf>,
    /// Network: lite0, lite1, lite2 or googlenet [default: lite0]
    #[arg(long, value_parser = choice::<ModelKind>())]
    pub model: Option<ModelKind>,
    /// A weights file (torch.save state dict) to use instead of the installed one
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// How many classes to print, best first
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: u32,
    /// Print a JSON list of {index, name, probability} instead of text ({index, name} with --list)
    #[arg(long)]
    pub json: bool,
    /// Print the 1,000 ImageNet class names with their indices (what --class takes) instead
    // The list is every class of every network, unranked: what ranks an image's classes is refused with it.
    #[arg(long, conflicts_with_all = ["image", "top", "model", "weights", "device"])]
    pub list: bool,
    /// auto (CUDA if there is one), cpu, cuda or cuda:N [default: auto]
    #[arg(long)]
    pub device: Option<String>,
}

#[derive(clap::Args)]
pub struct BatchArgs {
    /// TOML file of [[job]] tables: mode, input, output, preset, settings; paths relative to it
    pub manifest: PathBuf,
    /// Render jobs again even when their output exists
    #[arg(long)]
    pub force: bool,
    /// Run only jobs I, I+N, I+2N ... of the manifest (both counted from 1), e.g. one Slurm array task's share
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// CUDA GPUs to use, one job on each at once, e.g. 0,1 [default: one job at a time]
    #[arg(long, value_name = "0,1,...", value_delimiter = ',')]
    pub devices: Vec<usize>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct PresetsArgs {
    #[command(subcommand)]
    pub action: Option<PresetsAction>,
}

#[derive(Subcommand)]
pub enum PresetsAction {
    /// Print a preset's settings, resolved over the defaults, as TOML (a preset file itself)
    Show(ShowArgs),
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ShowArgs {
    /// A preset name or a .toml file
    pub preset: String,
    #[command(flatten)]
    pub dream: DreamOptions,
    #[command(flatten)]
    pub width: WidthOption,
    #[command(flatten)]
    pub height: HeightOption,
    #[command(flatten)]
    pub motion: MotionOptions,
    #[command(flatten)]
    pub footage: FootageOptions,
    #[command(flatten)]
    pub fps: FpsOption,
    #[command(flatten)]
    pub encode: EncodeOptions,
    #[command(flatten)]
    pub machine: MachineOptions,
    #[command(flatten)]
    pub schedule: ScheduleOptions,
    #[command(flatten)]
    pub looped: LoopOption,
}

impl ShowArgs {
    /// The options given, which override the preset (as on `still`, `zoom` and `video`).
    pub fn patch(&self) -> SettingsPatch {
        patch_of(&[
            &self.dream,
            &self.width,
            &self.height,
            &self.motion,
            &self.footage,
            &self.fps,
            &self.encode,
            &self.machine,
            &self.schedule,
            &self.looped,
        ])
    }
}

/// `dreamreel studio`: where it serves and what from.
#[derive(clap::Args)]
pub struct StudioArgs {
    /// The folder of media it serves; it reads and writes nothing outside it [default: .]
    #[arg(default_value = ".")]
    pub folder: PathBuf,
    /// Port on 127.0.0.1 (0: any free port) [default: 8787]
    #[arg(long, conflicts_with = "listen")]
    pub port: Option<u16>,
    /// Listen on this address instead of 127.0.0.1, e.g. 0.0.0.0:8787: reachable from other
    /// machines (prints a warning); on a shared network prefer an SSH tunnel
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// The largest upload, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_upload_mb: u64,
}

/// A render's progress and latest frame as files, for a program that watches it (the studio).
#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct ReportFiles {
    /// Keep this JSON file up to date with the frames done, the total, frames per second and the
    /// ETA (replaced whole at each frame)
    #[arg(long, value_name = "FILE.json", help_heading = "Reporting")]
    pub progress_file: Option<PathBuf>,
    /// Keep this PNG up to date with the latest dreamed frame, at most 512 pixels wide (replaced
    /// whole, about once a second)
    #[arg(long, value_name = "FILE.png", help_heading = "Reporting")]
    pub preview_file: Option<PathBuf>,
}

/// Checkpoints of a video render.
#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// Continue an interrupted render from its checkpoint beside the output
    #[arg(long, help_heading = "Output")]
    pub resume: bool,
    /// Discard the checkpoint an earlier render left beside the output and start from frame 1
    #[arg(long, conflicts_with = "resume", help_heading = "Output")]
    pub restart: bool,
    #[command(flatten)]
    pub checkpoint: CheckpointOption,
}

option_group! {
    /// How often a video render keeps its progress.
    CheckpointOption {
        /// Frames between checkpoints: what a crash can lose at most [default: 24]
        #[arg(long, value_name = "N", help_heading = "Output")]
        checkpoint_every: u64,
    }
}

#[cfg(feature = "video")]
impl ResumeArgs {
    /// The render's options; `overwrite` is `-y`, which belongs to the output's arguments.
    pub fn options(&self, overwrite: bool) -> RenderOptions {
        RenderOptions { resume: self.resume, restart: self.restart, overwrite, ..RenderOptions::default() }
    }
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ZoomArgs {
    /// Still to start from, or `noise` (then --width and --height give the size)
    pub input: String,
    /// Where to write: a video (.mp4, .mov, .mkv, .webm), a GIF (.gif), or PNG frames such as frames/%05d.png
    #[arg(short, long)]
    pub output: PathBuf,
    /// Number of frames to render
    #[arg(long, required_unless_present_any = ["duration", "deforum_settings"], conflicts_with = "duration")]
    pub frames: Option<u64>,
    /// Length in seconds, instead of --frames (frames = duration x fps)
    #[arg(long)]
    pub duration: Option<f64>,
    /// A Deforum settings file (the JSON it saves beside a render) or Parseq's rendered frames: its
    /// zoom, angle, translation_x/y, fps, max_frames, W and H, under the options given here; its
    /// other keys are named and ignored
    #[arg(long, value_name = "FILE", help_heading = "Motion")]
    pub deforum_settings: Option<PathBuf>,
    /// With --deforum-settings: name every key it ignores, not only those that change Deforum's picture
    #[arg(long)]
    pub verbose: bool,
    #[command(flatten)]
    pub resume: ResumeArgs,
    #[command(flatten)]
    pub report: ReportFiles,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub dream: DreamOptions,
    #[command(flatten)]
    pub width: WidthOption,
    #[command(flatten)]
    pub height: HeightOption,
    #[command(flatten)]
    pub motion: MotionOptions,
    #[command(flatten)]
    pub fps: FpsOption,
    #[command(flatten)]
    pub encode: EncodeOptions,
    #[command(flatten)]
    pub machine: MachineOptions,
    #[command(flatten)]
    pub schedule: ScheduleOptions,
    #[command(flatten)]
    pub looped: LoopOption,
    #[command(flatten)]
    pub plan: PlanArgs,
}

#[cfg(feature = "video")]
impl ZoomArgs {
    /// The layers: defaults < preset < the Deforum settings file < the options given.
    pub fn layers(&self, deforum: Option<&DeforumSettings>) -> Result<Layers, Error> {
        let groups: [&dyn OptionGroup; 10] = [
            &self.dream,
            &self.width,
            &self.height,
            &self.motion,
            &self.fps,
            &self.encode,
            &self.machine,
            &self.schedule,
            &self.looped,
            &self.resume.checkpoint,
        ];
        Ok(Layers {
            preset: self.render.preset()?,
            deforum: deforum.map(|d| d.patch.clone()).unwrap_or_default(),
            given: patch_of(&groups),
        })
    }
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct VideoArgs {
    /// Footage to dream: any file FFmpeg reads, PNG frames such as frames/%05d.png, or a folder of numbered images
    pub input: PathBuf,
    /// Where to write: a video (.mp4, .mov, .mkv, .webm), a GIF (.gif), or PNG frames such as frames/%05d.png
    #[arg(short, long)]
    pub output: PathBuf,
    /// Start this many seconds into the footage
    #[arg(long, default_value_t = 0.0)]
    pub start: f64,
    /// Dream only this many frames
    #[arg(long, conflicts_with = "duration")]
    pub frames: Option<u64>,
    /// Dream only this many seconds
    #[arg(long)]
    pub duration: Option<f64>,
    /// Leave the sound out
    #[arg(long)]
    pub no_audio: bool,
    #[command(flatten)]
    pub resume: ResumeArgs,
    #[command(flatten)]
    pub report: ReportFiles,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub dream: DreamOptions,
    #[command(flatten)]
    pub width: WidthOption,
    #[command(flatten)]
    pub motion: MotionOptions,
    #[command(flatten)]
    pub footage: FootageOptions,
    #[command(flatten)]
    pub fps: SequenceFpsOption,
    #[command(flatten)]
    pub encode: EncodeOptions,
    #[command(flatten)]
    pub machine: MachineOptions,
    #[command(flatten)]
    pub schedule: ScheduleOptions,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub film: FilmArgs,
}

/// One film on many machines: its parts, their join, and local GPUs.
#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct FilmArgs {
    /// Render part I of N of the film (both counted from 1), into the work folder beside the
    /// output; parts start at scene cuts, and `--join` makes the output of them
    #[arg(long, value_name = "I/N", help_heading = "Film in parts")]
    pub part: Option<String>,
    /// Join the finished parts into the output, with the sound once (after `--part`: when every
    /// part has finished, else the last part to finish does)
    #[arg(long, help_heading = "Film in parts")]
    pub join: bool,
    /// Start a part inside a long shot (after a warm-up, nearly seamless) where its share of the
    /// film has no cut; false: parts start at cuts only [default: true]
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, help_heading = "Film in parts")]
    pub split_inside_shots: bool,
    /// CUDA GPUs to render the film on, one part on each at once, then joined, e.g. 0,1,2,3
    #[arg(long, value_name = "0,1,...", value_delimiter = ',', conflicts_with_all = ["part", "join"], help_heading = "Film in parts")]
    pub devices: Vec<usize>,
    /// Print where each of N parts would start and end, and the speed-up they bound, instead of
    /// rendering (as `plan video --parts N`; with --json as JSON)
    #[arg(long, value_name = "N", help_heading = "Film in parts")]
    pub parts: Option<u32>,
}

#[cfg(feature = "video")]
impl VideoArgs {
    /// The layers: defaults < preset < the options given.
    pub fn layers(&self) -> Result<Layers, Error> {
        let groups: [&dyn OptionGroup; 9] = [
            &self.dream,
            &self.width,
            &self.motion,
            &self.footage,
            &self.fps,
            &self.encode,
            &self.machine,
            &self.schedule,
            &self.resume.checkpoint,
        ];
        self.render.layers(&groups)
    }
}

/// What every render command takes besides its options: a preset, -y, and how much to say.
#[derive(clap::Args)]
pub struct RenderArgs {
    /// Replace the output if it exists (as ffmpeg's -y); without it an existing output is refused
    #[arg(short = 'y', long)]
    pub overwrite: bool,
    /// Preset to start from: a name (see `dreamreel presets`) or a .toml file; options given here
    /// override it, and its keys for other commands are ignored
    #[arg(long, value_name = "NAME|FILE", help_heading = "Dream")]
    pub preset: Option<String>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

impl RenderArgs {
    /// The layers: defaults < preset < the options of `groups`. The job resolves them, leaving
    /// out the preset's keys that would do nothing to it.
    fn layers(&self, groups: &[&dyn OptionGroup]) -> Result<Layers, Error> {
        Ok(Layers { preset: self.preset()?, given: patch_of(groups), ..Layers::default() })
    }

    /// The preset's patch, whole.
    fn preset(&self) -> Result<SettingsPatch, Error> {
        let preset = self.preset.as_deref().map(|spec| presets::find(spec, Path::new(""))).transpose()?;
        Ok(preset.map(|p| p.patch).unwrap_or_default())
    }
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct StillArgs {
    /// Image to dream (PNG, JPEG, WebP or TIFF), or `noise` (seeded, --width x --height, square if no height)
    pub input: PathBuf,
    /// Where to write the image: .png, .jpg, .webp or .tiff
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub dream: DreamOptions,
    #[command(flatten)]
    pub width: WidthOption,
    #[command(flatten)]
    pub height: HeightOption,
    #[command(flatten)]
    pub machine: MachineOptions,
}

impl StillArgs {
    /// The layers: defaults < preset < the options given.
    pub fn layers(&self) -> Result<Layers, Error> {
        self.render.layers(&[&self.dream, &self.width, &self.height, &self.machine])
    }
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct CompareArgs {
    /// The footage that was dreamed (read at the dreamed video's size)
    pub source: PathBuf,
    /// The dreamed video, from the same first frame
    pub dreamed: PathBuf,
    /// Read the source from this many seconds into it, as `video --start` did
    #[arg(long, default_value_t = 0.0)]
    pub start: f64,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
    /// Pairs of frames with a share of followed pixels below F are cuts, left out of E_warp
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub scene_threshold: f64,
}
