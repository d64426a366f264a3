//! The command line: every subcommand's arguments, as clap parses them (`main.rs` runs them).
use clap::{Parser, Subcommand};
#[cfg(feature = "video")]
use dreamreel::job::RenderOptions;
use dreamreel::settings::{Settings, SettingsPatch};
use dreamreel::{Error, presets};
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
    /// Print a shell completion script: `dreamreel completions bash > ~/.local/share/bash-completion/completions/dreamreel`
    Completions(CompletionsArgs),
    /// Write the man pages (dreamreel.1, dreamreel-still.1, ...) into a folder, e.g. ~/.local/share/man/man1
    Manpages(ManpagesArgs),
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
    pub settings: SettingsPatch,
}

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Image to classify (PNG, JPEG, WebP or TIFF)
    #[arg(required_unless_present = "list")]
    pub image: Option<PathBuf>,
    /// Network: lite0, lite1, lite2 or googlenet [default: lite0]
    #[arg(long, value_enum)]
    pub model: Option<dreamreel::network::ModelKind>,
    /// A weights file (torch.save state dict) to use instead of the installed one
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// How many classes to print, best first
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: u32,
    /// Print a JSON list of {index, name, probability} instead of text
    #[arg(long)]
    pub json: bool,
    /// Print the 1,000 ImageNet class names with their indices (what --class takes) instead
    #[arg(long, conflicts_with = "image")]
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
    /// Options that override the preset, as on `still`, `zoom` and `video`
    #[command(flatten)]
    pub settings: SettingsPatch,
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
    /// Frames between checkpoints: what a crash can lose at most
    #[arg(long, value_name = "N", default_value_t = 24, help_heading = "Output")]
    pub checkpoint_every: u64,
}

#[cfg(feature = "video")]
impl ResumeArgs {
    /// The render's options; `overwrite` is `-y`, which belongs to the output's arguments.
    pub fn options(&self, overwrite: bool) -> RenderOptions {
        RenderOptions { resume: self.resume, checkpoint_every: self.checkpoint_every, restart: self.restart, overwrite }
    }
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ZoomArgs {
    /// Still to start from, or `noise` (then --width and --height give the size)
    pub input: String,
    /// Number of frames to render
    #[arg(long, required_unless_present = "duration", conflicts_with = "duration")]
    pub frames: Option<u64>,
    /// Length in seconds, instead of --frames (frames = duration x fps)
    #[arg(long)]
    pub duration: Option<f64>,
    #[command(flatten)]
    pub resume: ResumeArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct VideoArgs {
    /// Footage to dream: any file FFmpeg reads
    pub input: PathBuf,
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
    pub render: RenderArgs,
}

/// What every render command takes: where to write, the look, and how much to say.
#[derive(clap::Args)]
pub struct RenderArgs {
    /// Where to write: an image (.png, .jpg, .webp, .tiff) for `still`; for videos .mp4, .mov,
    /// .mkv, .webm, or PNG frames such as frames/%05d.png
    #[arg(short, long)]
    pub output: PathBuf,
    /// Replace the output if it exists (as ffmpeg's -y); without it an existing output is refused
    #[arg(short = 'y', long)]
    pub overwrite: bool,
    /// Preset to start from: a name (see `dreamreel presets`) or a .toml file; options given here override it
    #[arg(long, value_name = "NAME|FILE", help_heading = "Dream")]
    pub preset: Option<String>,
    #[command(flatten)]
    pub settings: SettingsPatch,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

impl RenderArgs {
    /// Defaults < preset < command line, checked.
    pub fn settings(&self) -> Result<Settings, Error> {
        presets::resolve(self.preset.as_deref(), Path::new(""), &self.settings)
    }
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct StillArgs {
    /// Image to dream (PNG, JPEG, WebP or TIFF), or `noise` (seeded, --width x --height, square if no height)
    pub input: PathBuf,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[cfg(feature = "video")]
#[derive(clap::Args)]
pub struct CompareArgs {
    /// The footage that was dreamed (read at the dreamed video's size)
    pub source: PathBuf,
    /// The dreamed video, from the same first frame
    pub dreamed: PathBuf,
    /// Print one JSON object instead of text
    #[arg(long)]
    pub json: bool,
    /// Pairs of frames with a share of followed pixels below F are cuts, left out of E_warp
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub scene_threshold: f64,
}
