//! The `dreamreel` command: parses arguments, resolves settings, calls the library, maps errors
//! to exit codes (0 done, 1 failed while working, 2 bad invocation or input, 130 interrupted).
use clap::{Parser, Subcommand};
use dreamreel::network::{models_dir, ModelKind, Network, NetworkOptions};
use dreamreel::render::{render_still, Progress};
use dreamreel::settings::{Settings, SettingsPatch};
use dreamreel::Error;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Renders DeepDream ("inceptionism") stills and videos.
#[derive(Parser)]
#[command(name = "dreamreel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Dream one still image
    Still(StillArgs),
    /// List the installed networks with their layers and shapes at 224x224
    Models,
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
struct StillArgs {
    /// Image to dream (PNG, JPEG, WebP or TIFF)
    input: PathBuf,
    /// Where to write the dreamed image (.png, .jpg, .webp, .tiff)
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    settings: SettingsPatch,
    /// Print nothing but errors
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Still(args) => still(args),
        Command::Models => models(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dreamreel: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn still(args: StillArgs) -> Result<(), Error> {
    let settings = Settings::resolve([&args.settings])?;
    let mut progress = Bar::new(args.quiet);
    let report = render_still(&args.input, &args.output, &settings, &mut progress)?;
    if !args.quiet {
        eprintln!(
            "{}: {}x{} dreamed in {:.1} s, objective {:.3} -> {:.3}",
            args.output.display(),
            report.width,
            report.height,
            report.elapsed.as_secs_f64(),
            report.objective_before,
            report.objective_after
        );
    }
    Ok(())
}

fn models() -> Result<(), Error> {
    let dir = models_dir();
    let mut text = String::new();
    let mut found = 0;
    for kind in ModelKind::ALL {
        let path = dir.join(kind.weights_file_name());
        if !path.exists() {
            continue;
        }
        found += 1;
        let network = Network::load(kind, &path, tch::Device::Cpu, NetworkOptions::default())?;
        text += &format!("{}  {}\n", kind.name(), path.display());
        for (name, shape) in network.layer_names().iter().zip(network.layer_shapes(224, 224)?) {
            let shape: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            text += &format!("  {name:<10} {}\n", shape.join(" x "));
        }
    }
    if found == 0 {
        return Err(Error::input(dir, "no models installed: run scripts/setup.sh"));
    }
    print_to_stdout(&text);
    Ok(())
}

/// Prints without panicking when stdout is closed early (`dreamreel models | head`).
fn print_to_stdout(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// An indicatif bar on a terminal; nothing when quiet or when stderr is not a terminal.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Self {
        let show = !quiet && std::io::stderr().is_terminal();
        Bar(show.then(ProgressBar::no_length))
    }
}

impl Progress for Bar {
    fn start(&mut self, total: Option<u64>) {
        if let (Some(bar), Some(total)) = (&self.0, total) {
            bar.set_length(total);
            let style = ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} frames  {per_sec}  ETA {eta}");
            if let Ok(style) = style {
                bar.set_style(style);
            }
        }
    }

    fn advance(&mut self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(done);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
