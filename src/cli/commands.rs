//! The commands: each turns its parsed options into the library's settings and job, runs it and
//! reports; errors become one line and an exit code (0 done, 1 failed while working, 2 bad
//! invocation or input, 130 interrupted, 143 stopped by SIGTERM).
use crate::cli::messages::worded;
use crate::cli::options::{BatchArgs, BenchArgs, ClassifyArgs, Cli, Command, PresetsAction, PresetsArgs, StillArgs};
#[cfg(feature = "video")]
use crate::cli::options::{CompareArgs, VideoArgs, ZoomArgs};
use crate::cli::progress::Bar;
use crate::cli::signals;
use crate::cli::usage;
use clap::{CommandFactory, Parser};
use dreamreel::Error;
use dreamreel::config::presets;
use dreamreel::job::bench::BenchOptions;
use dreamreel::job::manifest::{self, Entry};
use dreamreel::job::render_job::{Job as RenderJob, Mode, RenderOptions, Request};
use dreamreel::model::kind::{ModelKind, models_dir};
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::Network;
use dreamreel::run::batch::{self, BatchProgress, Outcome, RunOptions, Shard, Status};
use dreamreel::run::bench::run_bench;
#[cfg(feature = "video")]
use dreamreel::run::pipeline::VideoReport;
use dreamreel::run::progress::Progress;
use dreamreel::run::render::render;
use indicatif::MultiProgress;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Runs the command line: parse, run the command, map its error to an exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Still(args) => still(args),
        #[cfg(feature = "video")]
        Command::Zoom(args) => zoom(args),
        #[cfg(feature = "video")]
        Command::Video(args) => video(args),
        #[cfg(feature = "video")]
        Command::Compare(args) => compare(args),
        #[cfg(feature = "video")]
        Command::Plan(args) => match args.mode {
            crate::cli::options::PlanMode::Zoom(mut args) => {
                args.plan.plan_only = true;
                zoom(args)
            }
            crate::cli::options::PlanMode::Video(mut args) => {
                args.plan.plan_only = true;
                video(args)
            }
        },
        Command::Models => models(),
        Command::Classify(args) => classify(args),
        Command::Bench(args) => bench(args),
        Command::Presets(args) => list_presets(args),
        Command::Completions(args) => {
            let mut text = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "dreamreel", &mut text);
            print_to_stdout(&String::from_utf8_lossy(&text));
            Ok(())
        }
        Command::Manpages(args) => manpages(&args.folder),
        Command::Studio(args) => crate::cli::studio::studio(args),
        Command::Batch(args) => match batch(args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, even when a path or value holds a line break.
            eprintln!("dreamreel: {}", worded(&e).replace('\n', "\\n").replace('\r', "\\r"));
            ExitCode::from(signals::exit_code(e.exit_code()))
        }
    }
}

/// Help and version as clap prints them; a mistake as one line naming the option, exit 2.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if error.kind() == ErrorKind::DisplayVersion {
        print_to_stdout(&(crate::cli::versions::describe() + "\n"));
        return ExitCode::SUCCESS;
    }
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        error.exit();
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(message) = usage::unknown_argument(&error, &Cli::command(), &args) {
        eprintln!("dreamreel: {message}");
        return ExitCode::from(2);
    }
    // clap's text is the message, indented details and tips, then usage: keep all but the usage.
    let text = error.to_string();
    let message: Vec<String> = text
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| if line.starts_with("tip:") { format!("({line})") } else { line.to_string() })
        .collect();
    let message = message.join(" ");
    eprintln!("dreamreel: {}", message.strip_prefix("error: ").unwrap_or(&message));
    ExitCode::from(2)
}

fn still(args: StillArgs) -> Result<(), Error> {
    let request = Request {
        options: RenderOptions { overwrite: args.render.overwrite, ..Default::default() },
        ..Request::new(Mode::Still, &args.input, &args.output, args.layers()?)
    };
    let job = RenderJob::new(request)?;
    let mut progress = Bar::new(args.render.quiet);
    // A still has no frame to finish: Ctrl-C stops it at once, as the default handler does.
    let never = AtomicBool::new(false);
    let Some(report) = render(&job, &mut progress, &never)?.still() else {
        return Err(Error::internal("a still job rendered no still"));
    };
    if !args.render.quiet {
        eprintln!(
            "{}: {}x{} dreamed in {:.1} s, objective {:.3} -> {:.3}",
            job.output().path().display(),
            report.width,
            report.height,
            report.elapsed.as_secs_f64(),
            report.objective_before,
            report.objective_after
        );
    }
    Ok(())
}

#[cfg(feature = "video")]
fn zoom(args: ZoomArgs) -> Result<(), Error> {
    let deforum = args.deforum_settings.as_deref().map(|path| dreamreel::config::deforum::read(path, args.frames));
    let deforum = deforum.transpose()?;
    if let Some(deforum) = deforum.as_ref().filter(|_| !args.render.quiet) {
        if deforum.flat_instead_of_depth {
            eprintln!("dreamreel: --deforum-settings: 3D with depth warping: rendered flat (constant depth)");
        }
        let (picture, rest) = deforum.ignored.split_at(deforum.picture_keys);
        if !picture.is_empty() {
            eprintln!("dreamreel: --deforum-settings: ignored, changing Deforum's picture: {}", picture.join(", "));
        }
        if !rest.is_empty() && args.verbose {
            eprintln!("dreamreel: --deforum-settings: also ignored: {}", rest.join(", "));
        } else if !rest.is_empty() {
            eprintln!("dreamreel: --deforum-settings: {} other keys ignored (--verbose names them)", rest.len());
        }
    }
    let deforum_frames = deforum.as_ref().and_then(|d| d.frames).filter(|_| args.duration.is_none());
    let request = Request {
        frames: args.frames.or(deforum_frames),
        duration: args.duration,
        options: args.resume.options(args.render.overwrite),
        ..Request::new(Mode::Zoom, &args.input, &args.output, args.layers(deforum.as_ref())?)
    };
    let job = RenderJob::new(request)?;
    if args.plan.wanted() {
        return print_plan(&job, &args.plan);
    }
    run_video(job, args.render.quiet, &args.report)
}

#[cfg(feature = "video")]
fn video(args: VideoArgs) -> Result<(), Error> {
    let part = args.film.part.as_deref().map(dreamreel::job::render_job::Part::parse).transpose()?;
    let request = Request {
        frames: args.frames,
        duration: args.duration,
        start: Some(args.start),
        no_audio: Some(args.no_audio),
        part,
        split_inside_shots: args.film.split_inside_shots,
        options: args.resume.options(args.render.overwrite),
        ..Request::new(Mode::Video, &args.input, &args.output, args.layers()?)
    };
    let job = RenderJob::new(request)?;
    if let Some(count) = args.film.parts {
        return crate::cli::film::print_parts(&job, count, args.plan.json);
    }
    if args.plan.wanted() {
        return print_plan(&job, &args.plan);
    }
    crate::cli::film::check(&job, &args.film)?;
    if !args.film.devices.is_empty() {
        return crate::cli::film::render_on_devices(&job, &args.film.devices, args.render.quiet);
    }
    if args.film.join && job.part().is_none() {
        return crate::cli::film::join(&job, args.render.quiet);
    }
    // `--part I/N --join` on a part that has finished already goes straight to the join.
    let finished_part = job.part().is_some_and(|part| dreamreel::run::parts::finished(job.output().path(), part));
    if !(args.film.join && finished_part) {
        run_video(job.clone(), args.render.quiet, &args.report)?;
    }
    if args.film.join {
        return crate::cli::film::join_when_done(&job, args.render.quiet);
    }
    Ok(())
}

/// `--plan-only` (or `dreamreel plan`): every frame's values as a table, JSON or a plot.
#[cfg(feature = "video")]
fn print_plan(job: &RenderJob, args: &crate::cli::options::PlanArgs) -> Result<(), Error> {
    // What the render would refuse, `plan` refuses: footage's frame size, then each frame's
    // layers, channels, class and guide.
    dreamreel::run::frame_memory::check_footage_size(job)?;
    let plan = dreamreel::run::per_frame::plan_of_job(job)?;
    dreamreel::run::dream_setup::check_plan(job.dream(), &plan)?;
    if let Some(path) = &args.plot {
        dreamreel::job::plot::draw(&plan, path)?;
        if !args.json {
            eprintln!("{}: the plan of {} frames", path.display(), plan.frames());
        }
    }
    if args.json {
        print_to_stdout(&(serde_json::to_string_pretty(&plan.json()).unwrap_or_default() + "\n"));
    } else if args.plot.is_none() {
        print_to_stdout(&plan.table());
    }
    Ok(())
}

#[cfg(feature = "video")]
fn run_video(job: RenderJob, quiet: bool, report: &crate::cli::options::ReportFiles) -> Result<(), Error> {
    let files = (report.progress_file.clone(), report.preview_file.clone());
    let mut progress = crate::cli::report_files::Reported::new(Bar::new(quiet), files.0, files.1);
    let report = render(&job, &mut progress, cancel_on_ctrl_c())
        .and_then(|report| report.video().ok_or_else(|| Error::internal("a video job rendered no video")));
    let name = match job.part() {
        Some(part) => format!("{} ({part})", job.output().path().display()),
        None => job.output().path().display().to_string(),
    };
    if matches!(report, Err(Error::Interrupted)) {
        say_how_to_go_on(&job, &name);
    }
    report_video(&name, report, quiet)
}

/// After an interruption (said even with `--quiet`): the frames kept, where the partial video
/// is, and the exact command that goes on.
#[cfg(feature = "video")]
fn say_how_to_go_on(job: &RenderJob, name: &str) {
    let Some(left) = dreamreel::run::pipeline::left_by_interruption(job) else {
        eprintln!(
            "dreamreel: {name}: interrupted before the first checkpoint: nothing was kept, the output is as it was"
        );
        return;
    };
    let kept = match job.part() {
        Some(_) => format!("the part's frames up to frame {} of the film are kept", left.frames_done),
        None => match job.span().frames {
            Some(total) => format!("{} of {total} frames are kept", left.frames_done),
            None => format!("{} frames are kept", left.frames_done),
        },
    };
    let partial = match &left.partial {
        Some(path) => format!(", watchable in '{}' (the output is as it was)", path.display()),
        None => String::new(),
    };
    eprintln!("dreamreel: {name}: {kept}{partial}");
    let args: Vec<String> = std::env::args().collect();
    eprintln!("dreamreel: to go on: {}", crate::cli::messages::resume_command(&args));
}

#[cfg(feature = "video")]
fn report_video(output: &str, report: Result<VideoReport, Error>, quiet: bool) -> Result<(), Error> {
    let report = report?;
    if report.frames == 0 && report.resumed_frames == 0 {
        // A part of a film with no frames of its own: finished at once, recorded for the join.
        if !quiet {
            eprintln!(
                "{output}: no frames of its own (the film is shorter than its parts, or has no cut there): recorded as finished for the join"
            );
        }
        return Ok(());
    }
    if !quiet {
        let seconds = report.elapsed.as_secs_f64();
        eprintln!(
            "{}: {} frames {}x{} in {:.1} s ({:.2} frames/s, dreaming {:.1}% of the time), last objective {:.3}",
            output,
            report.frames,
            report.width,
            report.height,
            seconds,
            report.frames as f64 / seconds,
            100.0 * report.dream_time.as_secs_f64() / seconds,
            report.last_objective
        );
        if report.resumed_frames > 0 {
            eprintln!("{output}: resumed from a checkpoint: {} frames were done before", report.resumed_frames);
        }
        if !report.cuts.is_empty() {
            // Counted from 0, as schedules, `plan` and `compare` count: a keyframe at a cut is `N:(...)`.
            let cuts: Vec<String> = report.cuts.iter().map(|c| c.to_string()).collect();
            eprintln!("scene cuts at frames {} (counted from 0): the dream started afresh there", cuts.join(", "));
        }
    }
    if report.undecodable_frames > 0 {
        // Said even with --quiet: frames of the input are missing from the output.
        eprintln!(
            "dreamreel: warning: {} frame(s) of the input could not be decoded (a damaged file) and were skipped",
            report.undecodable_frames
        );
    }
    Ok(())
}

/// `compare SOURCE DREAMED`: steadiness and colour of a dreamed video against its source.
#[cfg(feature = "video")]
fn compare(args: CompareArgs) -> Result<(), Error> {
    let threshold = args.scene_threshold;
    if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
        return Err(Error::setting("scene-threshold", format!("{threshold} must be between 0 and 1")));
    }
    if !(args.start.is_finite() && args.start >= 0.0) {
        return Err(Error::setting("start", format!("{} must be zero or more seconds", args.start)));
    }
    let report = dreamreel::run::compare::compare_from(&args.source, args.start, &args.dreamed, threshold)?;
    for warning in &report.warnings {
        eprintln!("dreamreel: warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        println!("{report}");
    }
    Ok(())
}

/// The first Ctrl-C (or SIGTERM) asks the render to finish its frame and close the file; the
/// second stops at once. See `signals.rs`.
fn cancel_on_ctrl_c() -> &'static AtomicBool {
    signals::cancel_on_signals()
}

fn bench(args: BenchArgs) -> Result<(), Error> {
    let settings = args.settings()?;
    let options = BenchOptions::new(&settings, args.input, args.frames);
    let report = run_bench(&options)?;
    let text = if args.json {
        serde_json::to_string(&report).map_err(|e| Error::setting("json", e.to_string()))? + "\n"
    } else {
        let mib = |bytes: Option<u64>| bytes.map_or("unknown".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0));
        let peak = mib(report.peak_rss_bytes);
        let gpu = match &report.gpu {
            Some(name) => format!(
                " ({name}; GPU memory peak {} allocated, {} reserved; CUDA graphs {})",
                mib(report.peak_gpu_allocated_bytes),
                mib(report.peak_gpu_reserved_bytes),
                report.cuda_graphs
            ),
            None => String::new(),
        };
        format!(
            "{}{gpu} {} {} {}x{}: {:.3} s per frame, {:.2} frames/s (first frame {:.2} s, {} prior), peak memory {peak}, objective {:.3}\n",
            report.device,
            report.precision,
            report.model,
            report.width,
            report.height,
            report.seconds_per_frame,
            report.frames_per_second,
            report.first_frame_seconds,
            report.first_frame_prior,
            report.objective
        )
    };
    print_to_stdout(&text);
    Ok(())
}

/// `dreamreel models`: every network, whether its weights are installed, and its layers (with
/// their shapes at 224x224 when installed).
fn models() -> Result<(), Error> {
    let dir = models_dir();
    let mut text = String::new();
    for kind in ModelKind::ALL {
        let path = dir.join(kind.weights_file_name());
        if !path.exists() {
            let how = if kind == ModelKind::GoogLeNet { "see the README" } else { "run scripts/setup.sh" };
            text += &format!("{}  not installed ({}: {how})\n", kind.name(), path.display());
            text += &format!("  layers: {}\n", dreamreel::model::network::layer_names_of(kind).join(", "));
            continue;
        }
        let network = Network::load(kind, &path, tch::Device::Cpu, NetworkOptions::default())?;
        text += &format!("{}  installed: {}\n", kind.name(), path.display());
        for (name, shape) in network.layer_names().iter().zip(network.layer_shapes(224, 224)?) {
            let shape: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            text += &format!("  {name:<10} {}\n", shape.join(" x "));
        }
    }
    print_to_stdout(&text);
    Ok(())
}

/// `dreamreel classify`: the network's top classes for an image, as text or JSON.
fn classify(args: ClassifyArgs) -> Result<(), Error> {
    if args.list {
        let names = dreamreel::model::imagenet::class_names();
        let text: String = if args.json {
            let rows: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(index, name)| serde_json::json!({ "index": index, "name": name }))
                .collect();
            serde_json::to_string_pretty(&rows).map_err(|e| Error::setting("json", e.to_string()))? + "\n"
        } else {
            names.iter().enumerate().map(|(index, name)| format!("{index:>3}  {name}\n")).collect()
        };
        print_to_stdout(&text);
        return Ok(());
    }
    let Some(path) = args.image else {
        return Err(Error::setting("IMAGE", "name an image to classify"));
    };
    let patch = dreamreel::config::settings::SettingsPatch {
        model: args.model,
        weights: args.weights,
        device: args.device,
        ..Default::default()
    };
    let settings = dreamreel::config::settings::Settings::resolve([&patch])?;
    let image = dreamreel::frame::image_io::load_image(&path, None)?;
    let network =
        dreamreel::run::dream_setup::DreamSetup::load(&dreamreel::job::DreamSpec::of(&settings))?.into_network();
    let tensor = dreamreel::frame::image_io::image_to_tensor(&image, network.device())?;
    let predictions = dreamreel::model::classify::classify(&network, &tensor, args.top as usize)?;
    let text = if args.json {
        serde_json::to_string_pretty(&predictions).map_err(|e| Error::setting("json", e.to_string()))? + "\n"
    } else {
        predictions.iter().map(|p| format!("{:>6.2}%  {:>3}  {}\n", 100.0 * p.probability, p.index, p.name)).collect()
    };
    print_to_stdout(&text);
    Ok(())
}

/// `dreamreel presets`: one line each, name then description; `presets show NAME`: resolved TOML.
fn list_presets(args: PresetsArgs) -> Result<(), Error> {
    let text = match args.action {
        None => {
            let all = presets::list()?;
            let broken = presets::broken();
            let names = all.iter().map(|p| &p.name).chain(broken.iter().map(|(name, _)| name));
            let width = names.map(|name| name.len()).max().unwrap_or(0);
            let mut text = String::new();
            for preset in all {
                let mark = match &preset.origin {
                    presets::Origin::Shipped => String::new(),
                    presets::Origin::User(path) | presets::Origin::File(path) => {
                        format!("  (user: {})", path.display())
                    }
                };
                text += &format!("{:<width$}  {}{mark}\n", preset.name, preset.description());
            }
            for (name, error) in broken {
                text += &format!("{name:<width$}  BROKEN: {}\n", format!("{error:#}").replace('\n', " "));
            }
            text
        }
        Some(PresetsAction::Show(show)) => {
            let preset = presets::find(&show.preset, Path::new(""))?;
            let settings = dreamreel::config::settings::Settings::resolve([&preset.patch, &show.patch()])?;
            let description = toml::Value::String(preset.description().to_string());
            format!("description = {description}\n{}", settings.to_toml())
        }
    };
    print_to_stdout(&text);
    Ok(())
}

/// `dreamreel batch`: checks the whole manifest and the devices, runs the jobs, prints a table.
fn batch(args: BatchArgs) -> Result<ExitCode, Error> {
    let shard: Option<Shard> = args.shard.as_deref().map(str::parse).transpose()?;
    batch::check_devices(&args.devices)?;
    let manifest = manifest::load(&args.manifest)?;
    let jobs: Vec<Entry> = manifest.jobs.into_iter().filter(|job| shard.is_none_or(|s| s.takes(job))).collect();
    // A job that reads another's output runs after it.
    let jobs = batch::in_order(jobs)?;
    let options = RunOptions { force: args.force, devices: args.devices.clone() };
    let cancel = cancel_on_ctrl_c();
    // Every job that will run is checked before the first starts: job 40's typo stops job 1.
    let problems = batch::check_jobs(&jobs, &options);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("dreamreel: {}: {problem}", args.manifest.display());
        }
        eprintln!("dreamreel: {} job(s) cannot run: nothing was started", problems.len());
        return Ok(ExitCode::from(2));
    }
    let multi = (args.devices.len() > 1).then(MultiProgress::new);
    let lines = BatchLines { quiet: args.quiet, multi };
    let outcomes = batch::run(&jobs, &options, &lines, cancel);
    if !args.quiet {
        print_to_stdout(&batch::summary(&outcomes));
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed(_)))
        .map(|o| format!("job {} ({})", o.number, o.input.display()))
        .collect();
    if !failed.is_empty() {
        eprintln!("dreamreel: {} of {} jobs failed: {}", failed.len(), outcomes.len(), failed.join(", "));
        return Ok(ExitCode::from(1));
    }
    if outcomes.iter().any(|o| matches!(o.status, Status::Interrupted | Status::NotRun)) {
        return Ok(ExitCode::from(signals::exit_code(130)));
    }
    Ok(ExitCode::SUCCESS)
}

/// Batch progress on stderr: a line per job started and finished, and each job's frames as a bar
/// (one per GPU under `--devices`) or, in a log, as plain lines.
struct BatchLines {
    quiet: bool,
    multi: Option<MultiProgress>,
}

impl BatchLines {
    /// A line on stderr, drawn above the bars when several run at once so they stay whole.
    fn say(&self, line: String) {
        match &self.multi {
            Some(multi) => multi.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl BatchProgress for BatchLines {
    fn job_started(&self, job: &Entry, device: Option<usize>) {
        if !self.quiet {
            let on = device.map(|d| format!(" on cuda:{d}")).unwrap_or_default();
            let render = &job.render;
            let (number, mode, input, output) =
                (job.number, render.mode().name(), render.source().path().display(), render.output().path().display());
            self.say(format!("job {number}: {mode} {input} -> {output}{on}"));
        }
    }

    fn job_progress(&self, job: &Entry, device: Option<usize>) -> Box<dyn Progress + '_> {
        let on = device.map(|d| format!("cuda:{d} ")).unwrap_or_default();
        Box::new(Bar::labelled(self.quiet, format!("{on}job {}", job.number), self.multi.as_ref()))
    }

    fn job_finished(&self, outcome: &Outcome) {
        let (number, mode, input) = (outcome.number, outcome.mode.name(), outcome.input.display());
        match &outcome.status {
            Status::Failed(error) => self.say(format!("dreamreel: job {number} ({mode} {input}) failed: {error}")),
            Status::Done if !self.quiet => {
                let frames = outcome.frames.unwrap_or(0);
                let resumed = match outcome.resumed_frames {
                    0 => String::new(),
                    n => format!(", resumed from a checkpoint at frame {n}"),
                };
                self.say(format!("job {number}: done: {frames} frames in {:.1} s{resumed}", outcome.seconds));
            }
            Status::Skipped if !self.quiet => {
                self.say(format!("job {number}: skipped: output exists (--force to rerun)"))
            }
            Status::Interrupted if !self.quiet => self.say(format!("job {number}: interrupted: rerun to continue")),
            _ => {}
        }
    }
}

/// Writes `dreamreel.1` and one page per subcommand (`dreamreel-still.1`, ...) into `folder`.
fn manpages(folder: &Path) -> Result<(), Error> {
    if folder.exists() && !folder.is_dir() {
        return Err(Error::output(folder, "is a file, not a folder: name a folder for the man pages"));
    }
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    clap_mangen::generate_to(Cli::command(), folder).map_err(|e| Error::io(folder, e))?;
    Ok(())
}

/// Prints without panicking when stdout is closed early (`dreamreel models | head`).
fn print_to_stdout(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
