//! Batch renders: a manifest of `[[job]]` tables, checked whole before anything runs, then run one
//! after another (or one per GPU), a failing job never stopping the others.
//!
//! A job has `mode` (still, zoom, video), `input`, `output`, an optional `preset`, the span keys of
//! the command line (`frames`, `duration`, `start`, `no-audio`) and any setting under its preset's
//! key name. Relative paths are taken from the manifest's folder.
use crate::error::{Error, Result};
use crate::job::{Problem, RenderOptions, Request};
use crate::presets::{at, line_of_key, line_of_table, settings_from_table, syntax_error};
use crate::render::{NoProgress, Progress};
use crate::settings::{Settings, SettingsPatch};
use serde::Deserialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use crate::job::Mode;

/// One checked job of a manifest.
#[derive(Clone, Debug)]
pub struct Job {
    /// Position in the manifest, from 1.
    pub number: usize,
    pub render: crate::job::Job,
}

/// A checked manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub jobs: Vec<Job>,
}

/// The keys of a job that are not settings, as they arrive from TOML.
#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JobKeys {
    mode: Option<String>,
    input: Option<String>,
    output: Option<PathBuf>,
    preset: Option<String>,
    frames: Option<u64>,
    duration: Option<f64>,
    start: Option<f64>,
    no_audio: Option<bool>,
}

const JOB_KEYS: [&str; 8] = ["mode", "input", "output", "preset", "frames", "duration", "start", "no-audio"];

/// Reads and checks a whole manifest: any mistake is `file:line: job N: key: problem`, exit code 2.
pub fn load(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(path, "no such manifest"),
        _ => Error::input(path, format!("cannot read: {e}")),
    })?;
    parse(&text, path)
}

/// Checks the manifest `text` read from `path` (whose folder relative paths are taken from).
pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
    let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
    let mut jobs = Vec::new();
    for (key, value) in table {
        let tables = match (key.as_str(), value) {
            ("job", toml::Value::Array(tables)) => tables,
            ("job", _) => {
                let message = "job: must be a list of [[job]] tables".to_string();
                return Err(at(path, line_of_key(text, None, &key), message));
            }
            _ => {
                let message = format!("unknown key '{key}': a manifest holds [[job]] tables");
                return Err(at(path, line_of_key(text, None, &key), message));
            }
        };
        for (index, value) in tables.into_iter().enumerate() {
            let here = |key: Option<&str>| {
                key.and_then(|key| line_of_key(text, Some(("job", index)), key))
                    .or_else(|| line_of_table(text, "job", index))
            };
            let toml::Value::Table(table) = value else {
                return Err(at(path, here(None), format!("job {}: must be a table", index + 1)));
            };
            jobs.push(parse_job(table, index + 1, path, &here)?);
        }
    }
    if jobs.is_empty() {
        return Err(Error::input(path, "no jobs: add [[job]] tables with mode, input and output"));
    }
    for (index, job) in jobs.iter().enumerate() {
        if let Some(earlier) = jobs[..index].iter().find(|other| other.render.output == job.render.output) {
            let output = job.render.output.display();
            let message = format!("job {}: output: {output} is also job {}'s output", job.number, earlier.number);
            return Err(at(path, line_of_key(text, Some(("job", index)), "output"), message));
        }
    }
    Ok(Manifest { path: path.to_owned(), jobs })
}

/// Checks job `number` of the manifest at `path`; `here` gives the line of a key (or of the job).
fn parse_job(
    table: toml::Table,
    number: usize,
    path: &Path,
    here: &dyn Fn(Option<&str>) -> Option<usize>,
) -> Result<Job> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let fail_at = |line: Option<usize>, message: String| at(path, line, format!("job {number}: {message}"));
    let fail = |key: Option<&str>, message: String| fail_at(here(key), message);
    let (job_table, settings_table): (toml::Table, toml::Table) =
        table.into_iter().partition(|(key, _)| JOB_KEYS.contains(&key.as_str()));
    for (key, value) in &job_table {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = toml::Value::Table(one).try_into::<JobKeys>() {
            return Err(fail(Some(key), format!("{key}: {}", e.message().lines().next().unwrap_or(""))));
        }
    }
    let keys: JobKeys = toml::Value::Table(job_table).try_into().map_err(|e| fail(None, e.message().to_string()))?;
    let mode = match keys.mode.as_deref() {
        Some("still") => Mode::Still,
        Some("zoom") => Mode::Zoom,
        Some("video") => Mode::Video,
        Some(other) => return Err(fail(Some("mode"), format!("mode: '{other}' must be still, zoom or video"))),
        None => return Err(fail(None, "missing key 'mode' (still, zoom or video)".into())),
    };
    let problem = |problem: Problem| match problem.key {
        Some(key) => fail(Some(key), format!("{key}: {}", problem.message)),
        None => fail(None, problem.message),
    };
    // A setting the job's mode does not use is a mistake here; a preset (shared between modes) may hold one.
    for key in settings_table.keys() {
        mode.check_key(key).map_err(problem)?;
    }
    let patch = settings_from_table(settings_table, |key| here(Some(key)))
        .map_err(|(line, message)| fail_at(line.or_else(|| here(None)), message))?;
    let input = keys.input.ok_or_else(|| fail(None, "missing key 'input'".into()))?;
    let output = keys.output.ok_or_else(|| fail(None, "missing key 'output'".into()))?;

    let settings = job_settings(keys.preset.as_deref(), patch, folder, &fail)?;
    let request = Request {
        folder: folder.to_owned(),
        frames: keys.frames,
        duration: keys.duration,
        start: keys.start,
        no_audio: keys.no_audio,
        ..Request::new(mode, input, output, settings)
    };
    let render = crate::job::Job::new(request).map_err(problem)?;
    if mode == Mode::Still {
        crate::image_io::output_image_format(&render.output)
            .map_err(|e| fail(Some("output"), format!("output: {}", e.to_string().lines().next().unwrap_or(""))))?;
    }
    Ok(Job { number, render })
}

/// A job's settings: its preset's (if any) under its own keys, relative paths taken from `folder`;
/// `fail` places a mistake at its key.
fn job_settings(
    preset: Option<&str>,
    mut patch: SettingsPatch,
    folder: &Path,
    fail: &dyn Fn(Option<&str>, String) -> Error,
) -> Result<Settings> {
    let preset = match preset {
        Some(spec) => {
            crate::presets::find(spec, folder)
                .map_err(|e| match e {
                    Error::Setting { message, .. } => fail(Some("preset"), format!("preset: {message}")),
                    other => other,
                })?
                .patch
        }
        None => SettingsPatch::default(),
    };
    patch.weights = patch.weights.map(|weights| folder.join(weights));
    patch.guide = patch.guide.map(|guide| folder.join(guide));
    Settings::resolve([&preset, &patch]).map_err(|e| match e {
        Error::Setting { option, message } => {
            let key = option.trim_start_matches("--").to_string();
            fail(Some(&key), format!("{key}: {message}"))
        }
        other => fail(None, other.to_string()),
    })
}

/// `--shard I/N`: the jobs numbered I, I+N, I+2N ... (both counted from 1), so N runs of the
/// same manifest with I = 1..N share its jobs with no overlap and nothing lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    fn from_str(text: &str) -> Result<Shard> {
        let bad = |why: &str| Error::setting("--shard", format!("'{text}' {why}"));
        let (index, count) = text.split_once('/').ok_or_else(|| bad("must be I/N, such as 1/4"))?;
        let index: usize = index.trim().parse().map_err(|_| bad("must be I/N with whole numbers, such as 1/4"))?;
        let count: usize = count.trim().parse().map_err(|_| bad("must be I/N with whole numbers, such as 1/4"))?;
        if count == 0 {
            return Err(bad("has no shards: N must be at least 1"));
        }
        if !(1..=count).contains(&index) {
            return Err(bad(&format!("is out of range: shards are numbered 1 to {count}")));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    pub fn takes(&self, job: &Job) -> bool {
        (job.number - 1) % self.count == self.index - 1
    }
}

/// Checks `--devices` against the GPUs of this machine.
pub fn check_devices(devices: &[usize]) -> Result<()> {
    for (index, device) in devices.iter().enumerate() {
        if devices[..index].contains(device) {
            return Err(Error::setting("--devices", format!("GPU {device} is listed twice")));
        }
    }
    if devices.is_empty() || devices_on_cpu() {
        return Ok(());
    }
    if !tch::Cuda::is_available() {
        return Err(Error::setting("--devices", "no CUDA GPU is available on this machine: leave --devices out"));
    }
    let count = tch::Cuda::device_count() as usize;
    if let Some(missing) = devices.iter().find(|&&d| d >= count) {
        return Err(Error::setting(
            "--devices",
            format!("there is no GPU {missing}: this machine has {count} CUDA GPU(s), numbered from 0"),
        ));
    }
    Ok(())
}

/// Checks every job that `run` would start (inputs there and decoding, outputs writable,
/// weights present) before any starts; returns one line per bad job, empty when all can run.
pub fn check_jobs(jobs: &[Job], options: &RunOptions) -> Vec<String> {
    jobs.iter()
        .filter(|job| options.force || !is_complete(job))
        .filter_map(|job| check_job(job).err().map(|e| format!("job {}: {e}", job.number)))
        .collect()
}

fn check_job(job: &Job) -> Result<()> {
    let job = &job.render;
    let inputs: Vec<&Path> = job.input.file().into_iter().collect();
    if let Some(input) = job.input.file() {
        check_input(job, input)?;
    }
    #[cfg(feature = "video")]
    if crate::video::is_image_sequence(&job.output) {
        // The frames' own folder may be made, as a render does, but not a whole missing path.
        let folder = crate::output::parent_folder(&job.output);
        let base = crate::output::parent_folder(&folder);
        if !folder.is_dir() && !base.is_dir() {
            return Err(Error::output(&job.output, format!("folder '{}' does not exist", base.display())));
        }
        return check_weights(&job.settings);
    }
    crate::output::check_output_path(&job.output, &inputs)?;
    check_weights(&job.settings)
}

/// Opens the input and decodes its first image or frame.
fn check_input(job: &crate::job::Job, input: &Path) -> Result<()> {
    if !input.is_file() {
        let why = if input.exists() { "is not a file" } else { "file not found" };
        return Err(Error::input(input, why));
    }
    match job.mode {
        Mode::Still | Mode::Zoom => image::ImageReader::open(input)
            .and_then(|reader| reader.with_guessed_format())
            .map_err(|e| Error::input(input, format!("cannot read: {e}")))?
            .into_dimensions()
            .map(drop)
            .map_err(|e| Error::input(input, format!("not an image this build can read: {e}"))),
        #[cfg(feature = "video")]
        Mode::Video => {
            let read = crate::video::ReadOptions {
                start_seconds: job.span.start_seconds,
                max_frames: job.span.frames,
                max_seconds: job.span.seconds,
                width: job.settings.width,
                sequence_fps: Some(job.settings.fps),
            };
            let mut reader = crate::video::VideoReader::open(input, &read)?;
            match reader.next_frame()? {
                Some(_) => Ok(()),
                None => Err(Error::input(input, "has no video frames in the span asked for")),
            }
        }
        #[cfg(not(feature = "video"))]
        Mode::Video => Ok(()),
    }
}

fn check_weights(settings: &Settings) -> Result<()> {
    match &settings.weights {
        Some(path) if !path.is_file() => Err(Error::input(path, "weights file not found")),
        _ => Ok(()),
    }
}

/// Test hook: `DREAMREEL_TEST_DEVICES_ON_CPU=1` lets `--devices` run its workers with each job's
/// own device, so parallel jobs (threads, bars, Ctrl-C) are tested on machines without GPUs.
fn devices_on_cpu() -> bool {
    std::env::var_os("DREAMREEL_TEST_DEVICES_ON_CPU").is_some_and(|v| v == "1")
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Done,
    Failed(String),
    /// Its output was already there (a complete render): not run again without `--force`.
    Skipped,
    /// Stopped by Ctrl-C; a video keeps its checkpoint and a rerun continues it.
    Interrupted,
    /// Not started: the batch was interrupted first.
    NotRun,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub number: usize,
    pub mode: Mode,
    pub input: PathBuf,
    pub status: Status,
    pub frames: Option<u64>,
    /// Frames a video took from an earlier run's checkpoint instead of dreaming them.
    pub resumed_frames: u64,
    pub seconds: f64,
}

/// How a batch run tells the caller about its jobs; called from the worker threads.
pub trait BatchProgress: Sync {
    fn job_started(&self, _job: &Job, _device: Option<usize>) {}
    /// The progress reporter for one job's frames on `device` (under `--devices`).
    fn job_progress(&self, _job: &Job, _device: Option<usize>) -> Box<dyn Progress + '_> {
        Box::new(NoProgress)
    }
    fn job_finished(&self, _outcome: &Outcome) {}
}

/// Options of a batch run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Rerun jobs whose output is already there.
    pub force: bool,
    /// CUDA GPUs to run on, one job on each at once; empty: one job at a time on each job's device.
    pub devices: Vec<usize>,
}

/// True when a job's output is complete: outputs are only renamed into place when finished, so a
/// file that exists is complete, unless a checkpoint beside it says an interrupted render wrote
/// it with the frames it had (then the job continues). Image sequences (`%05d`) are always
/// rendered again.
pub fn is_complete(job: &Job) -> bool {
    #[cfg(feature = "video")]
    if crate::video::is_image_sequence(&job.render.output) {
        return false;
    }
    let work = crate::checkpoint::WorkFolder::for_output(&job.render.output);
    job.render.output.is_file() && !work.file(crate::checkpoint::CHECKPOINT).is_file()
}

/// Runs `jobs`, skipping complete ones unless forced. Once `cancel` is set no new job starts and
/// the videos running stop after their frame, as a single render does. Returns an outcome per job, in job order.
pub fn run(jobs: &[Job], options: &RunOptions, progress: &dyn BatchProgress, cancel: &AtomicBool) -> Vec<Outcome> {
    let outcome = |job: &Job, status| Outcome {
        number: job.number,
        mode: job.render.mode,
        input: job.render.input.path().to_owned(),
        status,
        frames: None,
        resumed_frames: 0,
        seconds: 0.0,
    };
    let mut outcomes = Vec::new();
    let mut queue = VecDeque::new();
    for job in jobs {
        if !options.force && is_complete(job) {
            let skipped = outcome(job, Status::Skipped);
            progress.job_finished(&skipped);
            outcomes.push(skipped);
        } else {
            queue.push_back(job);
        }
    }
    let queue = Mutex::new(queue);
    let outcomes = Mutex::new(outcomes);
    let worker = |device: Option<usize>| {
        loop {
            if cancel.load(Ordering::SeqCst) {
                break;
            }
            let Some(job) = queue.lock().ok().and_then(|mut q| q.pop_front()) else { break };
            progress.job_started(job, device);
            let done = run_job(job, device, progress, cancel, !options.force);
            progress.job_finished(&done);
            if let Ok(mut outcomes) = outcomes.lock() {
                outcomes.push(done);
            }
        }
    };
    if options.devices.is_empty() {
        worker(None);
    } else {
        std::thread::scope(|scope| {
            for &device in &options.devices {
                let worker = &worker;
                let spawned = std::thread::Builder::new()
                    .name(format!("cuda:{device}"))
                    .spawn_scoped(scope, move || worker(Some(device)));
                if spawned.is_err() {
                    worker(Some(device));
                }
            }
        });
    }
    let mut outcomes = outcomes.into_inner().unwrap_or_default();
    for job in queue.into_inner().unwrap_or_default() {
        outcomes.push(outcome(job, Status::NotRun));
    }
    outcomes.sort_by_key(|o| o.number);
    outcomes
}

/// Runs one job on `device` (or its own), turning errors and panics into a failed outcome.
/// `resume`: continue from a checkpoint an earlier run left (not under `--force`, which starts afresh).
fn run_job(
    job: &Job,
    device: Option<usize>,
    progress: &dyn BatchProgress,
    cancel: &AtomicBool,
    resume: bool,
) -> Outcome {
    let started = Instant::now();
    let mut render = job.render.clone();
    render.options = resume_batch(resume);
    if let Some(device) = device.filter(|_| !devices_on_cpu()) {
        render.settings.device = format!("cuda:{device}");
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut reporter = progress.job_progress(job, device);
        render.run(&mut *reporter, cancel).map(|report| report.frames())
    }));
    let (status, frames) = match result {
        Ok(Ok(frames)) => (Status::Done, Some(frames)),
        Ok(Err(Error::Interrupted)) => (Status::Interrupted, None),
        Ok(Err(e)) => (Status::Failed(e.to_string().lines().next().unwrap_or("").to_string()), None),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            (Status::Failed(format!("panicked: {}", message.lines().next().unwrap_or(""))), None)
        }
    };
    Outcome {
        number: job.number,
        mode: job.render.mode,
        input: job.render.input.path().to_owned(),
        status,
        frames: frames.map(|(frames, _)| frames),
        resumed_frames: frames.map_or(0, |(_, resumed)| resumed),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The end-of-batch table: job, mode, input, status, frames, seconds, error.
pub fn summary(outcomes: &[Outcome]) -> String {
    let rows: Vec<[String; 7]> = outcomes
        .iter()
        .map(|o| {
            let (status, error) = match &o.status {
                Status::Done => ("ok", String::new()),
                Status::Failed(error) => ("failed", error.clone()),
                Status::Skipped => ("skipped", "output exists (--force to rerun)".into()),
                Status::Interrupted => ("interrupted", "stopped by Ctrl-C or SIGTERM: rerun to continue".into()),
                Status::NotRun => ("not run", "batch interrupted".into()),
            };
            let ran = matches!(o.status, Status::Done | Status::Failed(_));
            [
                o.number.to_string(),
                o.mode.name().into(),
                o.input.display().to_string(),
                status.into(),
                o.frames.map_or("-".into(), |f| f.to_string()),
                if ran { format!("{:.1}", o.seconds) } else { "-".into() },
                error,
            ]
        })
        .collect();
    let header = ["job", "mode", "input", "status", "frames", "seconds", "error"].map(String::from);
    let mut widths = [0; 7];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        text += cells.join("  ").trim_end();
        text += "\n";
    }
    text
}

/// A batch rerun continues a job that an earlier run left with a checkpoint.
fn resume_batch(resume: bool) -> RenderOptions {
    // Jobs with a complete output never get here unless --force: a batch may replace what it finds.
    RenderOptions { resume, restart: !resume, overwrite: true, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_counted_from_one_and_checked() {
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard { index: 2, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "1", "a/b"] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().starts_with("--shard: "), "{err}");
        }
    }

    #[test]
    fn mistakes_name_the_manifest_line_and_job() {
        let path = Path::new("m.toml");
        let err = |text: &str| parse(text, path).unwrap_err().to_string();
        let ok = "[[job]]\nmode = \"still\"\ninput = \"a.png\"\noutput = \"b.png\"\n";
        assert_eq!(parse(ok, path).unwrap().jobs.len(), 1);
        assert_eq!(
            err(&format!("{ok}\n[[job]]\nmode = \"film\"\n")),
            "m.toml:7: job 2: mode: 'film' must be still, zoom or video"
        );
        assert_eq!(
            err(&format!("{ok}octave_scale = 2\n")),
            "m.toml:5: job 1: unknown key 'octave_scale' (did you mean 'octave-scale'?)"
        );
        assert_eq!(err(&format!("{ok}octaves = 0\n")), "m.toml:5: job 1: octaves: 0 must be at least 1");
        assert_eq!(err(&format!("{ok}frames = 3\n")), "m.toml:5: job 1: frames: only for zoom and video jobs");
        assert_eq!(
            err("[[job]]\nmode = \"zoom\"\ninput = \"a.png\"\noutput = \"b.mp4\"\n"),
            "m.toml:1: job 1: a zoom needs frames or duration"
        );
        assert_eq!(err(&format!("{ok}{ok}")), "m.toml:8: job 2: output: b.png is also job 1's output");
        assert!(err("jobs = 1").starts_with("m.toml:1: unknown key 'jobs'"));
        assert_eq!(err(&format!("{ok}blend = 0.3\n")), "m.toml:5: job 1: blend: only for video jobs");
        assert_eq!(err(&format!("{ok}codec = \"av1\"\n")), "m.toml:5: job 1: codec: only for zoom and video jobs");
        let zoom = "[[job]]\nmode = \"zoom\"\ninput = \"a.png\"\noutput = \"z.mp4\"\n";
        assert_eq!(err(&format!("{zoom}duration = 1\nblend = 0.3\n")), "m.toml:6: job 1: blend: only for video jobs");
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_manifest_zoom_is_the_job_the_command_line_builds() {
        let text = "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"z.mp4\"\nduration = 2.5\nfps = 12\nwidth = 32\nheight = 16\n";
        let from_manifest = parse(text, Path::new("m.toml")).unwrap().jobs.remove(0).render;
        let patch = SettingsPatch { fps: Some(12.0), width: Some(32), height: Some(16), ..Default::default() };
        let settings = Settings::resolve([&patch]).unwrap();
        let request = Request { duration: Some(2.5), ..Request::new(Mode::Zoom, "noise", "z.mp4", settings) };
        let from_command_line = crate::job::Job::new(request).unwrap();
        assert_eq!(from_manifest.span.frames, Some(30));
        assert_eq!(
            (from_manifest.input, from_manifest.output, from_manifest.span, from_manifest.settings),
            (from_command_line.input, from_command_line.output, from_command_line.span, from_command_line.settings)
        );
    }
}
