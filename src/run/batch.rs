//! Batch renders: a manifest's jobs (`crate::job::manifest`), checked whole before anything runs,
//! then run one after another (or one per GPU), a failing job never stopping the others.
use crate::error::{Error, Result};
use crate::job::dream::DreamSpec;
use crate::job::manifest::Entry;
use crate::job::render_job::{Job, RenderOptions, Source};
use crate::model::kind::ModelKind;
use crate::run::dream_setup::{DreamSetup, load_network_on};
use crate::run::progress::{NoProgress, Progress};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use crate::job::render_job::Mode;

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
        let bad = |why: &str| Error::setting("shard", format!("'{text}' {why}"));
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
    pub fn takes(&self, job: &Entry) -> bool {
        (job.slot - 1) % self.count == self.index - 1
    }
}

/// Checks `--devices` against the GPUs of this machine.
pub fn check_devices(devices: &[usize]) -> Result<()> {
    for (index, device) in devices.iter().enumerate() {
        if devices[..index].contains(device) {
            return Err(Error::setting("devices", format!("GPU {device} is listed twice")));
        }
    }
    if devices.is_empty() || crate::run::test_hooks::devices_on_cpu() {
        return Ok(());
    }
    if !tch::Cuda::is_available() {
        return Err(Error::setting("devices", "no CUDA GPU is available on this machine: leave --devices out"));
    }
    let count = tch::Cuda::device_count() as usize;
    if let Some(missing) = devices.iter().find(|&&d| d >= count) {
        return Err(Error::setting(
            "devices",
            format!("there is no GPU {missing}: this machine has {count} CUDA GPU(s), numbered from 0"),
        ));
    }
    Ok(())
}

/// Checks every job that `run` would start (inputs there and decoding, outputs writable,
/// weights present, layers, channels, classes and guides against their network) before any
/// starts; returns one line per bad job, empty when all can run. Each network is loaded once.
/// A job whose input another job of the batch writes is checked as far as it can be before that
/// file exists: its output, weights and constant dream parameters.
pub fn check_jobs(jobs: &[Entry], options: &RunOptions) -> Vec<String> {
    let mut networks = HashMap::new();
    let made_by = dependencies(jobs);
    jobs.iter()
        .zip(&made_by)
        .filter(|(job, _)| options.force || !is_complete(job))
        .filter_map(|(job, made_by)| {
            let later = made_by.is_some();
            // Under --devices a job dreams on a GPU: its frame is checked there, not against the CPU's memory.
            let gpu = options.devices.first().filter(|_| !crate::run::test_hooks::devices_on_cpu());
            let on_gpu =
                gpu.map(|device| Entry { render: job.render.on_device(format!("cuda:{device}")), ..job.clone() });
            check_job(on_gpu.as_ref().unwrap_or(job), later)
                .and_then(|()| check_objective(&job.render, &mut networks, later))
                .err()
                .map(|e| format!("job {}: {e}", job.number))
        })
        .collect()
}

/// For each job, the number of the job of `jobs` whose output is its input (`None`: a file that
/// should be there already, or noise).
pub fn dependencies(jobs: &[Entry]) -> Vec<Option<usize>> {
    let outputs: Vec<PathBuf> = jobs.iter().map(|job| crate::output::resolved(job.render.output().path())).collect();
    jobs.iter()
        .map(|job| {
            let input = crate::output::resolved(job.render.source().file()?);
            outputs.iter().position(|output| *output == input).map(|index| jobs[index].number)
        })
        .collect()
}

/// The jobs in manifest order, except that a job reading another's output runs after it; jobs
/// that read each other's outputs in a circle are refused.
pub fn in_order(jobs: Vec<Entry>) -> Result<Vec<Entry>> {
    let made_by = dependencies(&jobs);
    let mut waiting: Vec<(Entry, Option<usize>)> = jobs.into_iter().zip(made_by).collect();
    let mut ordered: Vec<Entry> = Vec::with_capacity(waiting.len());
    while !waiting.is_empty() {
        let done = |number: usize| ordered.iter().any(|job| job.number == number);
        let Some(ready) = waiting.iter().position(|(_, made_by)| made_by.is_none_or(done)) else {
            let circle: Vec<String> = waiting.iter().map(|(job, _)| job.number.to_string()).collect();
            return Err(Error::setting(
                "job",
                format!("jobs {} read each other's outputs in a circle: none of them can start", circle.join(", ")),
            ));
        };
        ordered.push(waiting.remove(ready).0);
    }
    Ok(ordered)
}

/// Networks loaded on the CPU for the pre-check, one per model and weights file.
type CheckNetworks = HashMap<(ModelKind, Option<PathBuf>), crate::model::network::Network>;

/// The job's layers, channels, classes and guide, checked against its network as the render will;
/// every frame's values evaluated (schedules, the soundtrack read) and each distinct frame's
/// dream parameters built, as its render does before its first frame.
fn check_objective(job: &Job, networks: &mut CheckNetworks, input_made_later: bool) -> Result<()> {
    let spec = job.dream();
    let key = (spec.model(), spec.weights().map(Path::to_owned));
    let network = match networks.remove(&key) {
        Some(network) => network,
        None => load_network_on(spec, tch::Device::Cpu)?,
    };
    let setup = DreamSetup::with_network(spec, network)?;
    let checked = match input_made_later {
        // Footage not yet made has no frame count for its plan: its constants are checked.
        true => setup.params(job.per_frame().constants()).map(drop),
        false => check_rows(job, &setup),
    };
    networks.insert(key, setup.into_network());
    checked
}

/// Each distinct frame's dream parameters, built as the render builds them.
fn check_rows(job: &Job, setup: &DreamSetup) -> Result<()> {
    #[cfg(feature = "video")]
    if job.mode() != Mode::Still {
        let plan = crate::run::per_frame::plan_of_job(job)?;
        let mut checked: Option<&crate::job::plan::FrameValues> = None;
        for row in plan.rows() {
            if checked != Some(row) {
                setup.params(row)?;
                checked = Some(row);
            }
        }
        return Ok(());
    }
    setup.params(job.per_frame().constants()).map(drop)
}

/// The job's input, output and weights; its frame's size, as the render will refuse it.
/// `input_made_later`: another job of the batch writes the input, which need not be there yet.
fn check_job(job: &Entry, input_made_later: bool) -> Result<()> {
    let job = &job.render;
    let inputs: Vec<&Path> = job.source().file().into_iter().collect();
    let size = match (job.source(), input_made_later) {
        (Source::Noise { width, height }, _) => Some((*width, *height)),
        (_, true) => None,
        (source, false) => match source.file() {
            Some(input) => check_input(job, input)?,
            None => None,
        },
    };
    job.output().check_place(&inputs)?;
    check_weights(job.dream())?;
    match size {
        Some((width, height)) => crate::run::frame_memory::check_frame(job, width, height),
        None => Ok(()),
    }
}

/// Opens the input and decodes its first image or frame: the size the job will dream it at.
fn check_input(job: &Job, input: &Path) -> Result<Option<(u32, u32)>> {
    if !input.is_file() {
        let why = if input.exists() { "is not a file" } else { "file not found" };
        return Err(Error::input(input, why));
    }
    match job.source() {
        Source::Image(_) | Source::Noise { .. } => {
            let (width, height) = image::ImageReader::open(input)
                .and_then(|reader| reader.with_guessed_format())
                .map_err(|e| Error::input(input, format!("cannot read: {e}")))?
                .into_dimensions()
                .map_err(|e| Error::input(input, format!("not an image this build can read: {e}")))?;
            // As `load_image` scales it (an EXIF turn may swap the sides: the smaller side is checked).
            Ok(Some(match job.frame_format().width {
                Some(to) => (to, ((f64::from(to) * f64::from(height) / f64::from(width)).round() as u32).max(1)),
                None => (width, height),
            }))
        }
        #[cfg(feature = "video")]
        Source::Footage(_) => {
            let mut reader = crate::video::VideoReader::open(input, &crate::run::per_frame::read_options(job))?;
            let size = (reader.info().width, reader.info().height);
            match reader.next_frame()? {
                Some(_) => Ok(Some(size)),
                None => Err(Error::input(input, "has no video frames in the span asked for")),
            }
        }
        #[cfg(not(feature = "video"))]
        Source::Footage(_) => Ok(None),
    }
}

fn check_weights(spec: &DreamSpec) -> Result<()> {
    match spec.weights() {
        Some(path) if !path.is_file() => Err(Error::input(path, "weights file not found")),
        _ => Ok(()),
    }
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
    fn job_started(&self, _job: &Entry, _device: Option<usize>) {}
    /// The progress reporter for one job's frames on `device` (under `--devices`).
    fn job_progress(&self, _job: &Entry, _device: Option<usize>) -> Box<dyn Progress + '_> {
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
pub(crate) fn is_complete(job: &Entry) -> bool {
    let output = job.render.output();
    let work = crate::run::checkpoint::WorkFolder::for_output(output.path());
    output.is_written() && !work.file(crate::run::checkpoint::CHECKPOINT).is_file()
}

/// Runs `jobs`, skipping complete ones unless forced. Once `cancel` is set no new job starts and
/// the videos running stop after their frame, as a single render does. Returns an outcome per job, in job order.
pub fn run(jobs: &[Entry], options: &RunOptions, progress: &dyn BatchProgress, cancel: &AtomicBool) -> Vec<Outcome> {
    let outcome = |job: &Entry, status| Outcome {
        number: job.number,
        mode: job.render.mode(),
        input: job.render.source().path().to_owned(),
        status,
        frames: None,
        resumed_frames: 0,
        seconds: 0.0,
    };
    let made_by: HashMap<usize, usize> =
        jobs.iter().zip(dependencies(jobs)).filter_map(|(job, made_by)| Some((job.number, made_by?))).collect();
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
            let Some(job) = next_job(&queue, &outcomes, &made_by) else { break };
            let Some(job) = job else {
                // Every job left waits for a job another worker is running: its input.
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
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

/// The next job to start: the first queued whose input job (if any) has ended; `Some(None)`
/// when each queued job waits for one still running; `None` when the queue is empty.
fn next_job<'a>(
    queue: &Mutex<VecDeque<&'a Entry>>,
    outcomes: &Mutex<Vec<Outcome>>,
    made_by: &HashMap<usize, usize>,
) -> Option<Option<&'a Entry>> {
    let mut queue = queue.lock().ok()?;
    if queue.is_empty() {
        return None;
    }
    let ended = |number: &usize| {
        !queue.iter().any(|job| job.number == *number)
            && outcomes.lock().is_ok_and(|outcomes| outcomes.iter().any(|o| o.number == *number))
    };
    let ready = queue.iter().position(|job| made_by.get(&job.number).is_none_or(ended));
    Some(ready.and_then(|index| queue.remove(index)))
}

/// Runs one job on `device` (or its own), turning errors and panics into a failed outcome.
/// `resume`: continue from a checkpoint an earlier run left (not under `--force`, which starts afresh).
fn run_job(
    job: &Entry,
    device: Option<usize>,
    progress: &dyn BatchProgress,
    cancel: &AtomicBool,
    resume: bool,
) -> Outcome {
    let started = Instant::now();
    let render = job.render.with_options(resume_batch(resume));
    let render = match device.filter(|_| !crate::run::test_hooks::devices_on_cpu()) {
        Some(device) => render.on_device(format!("cuda:{device}")),
        None => render,
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut reporter = progress.job_progress(job, device);
        let frames = crate::run::render::render(&render, &mut *reporter, cancel).map(|report| report.frames())?;
        // A part of a film: the last part to finish joins it (the others find a part unfinished).
        #[cfg(feature = "video")]
        if render.part().is_some() {
            crate::run::film::join(&render, crate::run::film::Wait::ForTheLock)?;
        }
        Ok(frames)
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
        mode: job.render.mode(),
        input: job.render.source().path().to_owned(),
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
            assert!(err.to_string().starts_with("shard: "), "{err}");
        }
    }
}
