//! `dreamreel video` for one film on many machines: `--part`, `--join`, `--devices` and
//! `plan video --parts`, drawn and worded for the terminal (the work is `dreamreel::run::parts`).
use crate::cli::options::FilmArgs;
use crate::cli::progress::Bar;
use dreamreel::Error;
use dreamreel::job::render_job::{Job, Part};
use dreamreel::run::film::{self, FilmProgress, Wait};
use dreamreel::run::parts::{self, PartRange};
use dreamreel::run::pipeline::VideoReport;
use dreamreel::run::progress::Progress;
use std::sync::Mutex;

/// What can be checked of the film's options before anything is decoded.
pub fn check(job: &Job, film: &FilmArgs) -> Result<(), Error> {
    if !film.devices.is_empty() {
        dreamreel::run::batch::check_devices(&film.devices)?;
        if film.devices.len() < 2 {
            return Err(Error::setting(
                "devices",
                "one GPU renders the film whole: leave --devices out, or name two or more",
            ));
        }
    }
    if (film.join || job.part().is_some() || !film.devices.is_empty())
        && job.output().path().exists()
        && !job.options().overwrite
    {
        // The parts would all be dreamed, then the join refused.
        job.output().check_overwrite(job.options().overwrite || !parts::started(job.output().path()).is_empty())?;
    }
    Ok(())
}

/// `--join`: the finished parts into the output.
pub fn join(job: &Job, quiet: bool) -> Result<(), Error> {
    let joined = film::join(job, Wait::No)?.ok_or_else(|| Error::internal("a part of the film did not finish"))?;
    if !quiet {
        eprintln!("{}: {} parts joined, {} frames", job.output().path().display(), joined.parts, joined.frames);
    }
    Ok(())
}

/// `--part I/N --join`: after the part, the join when every part has finished.
pub fn join_when_done(job: &Job, quiet: bool) -> Result<(), Error> {
    match film::join(job, Wait::ForTheLock)? {
        Some(joined) if !quiet => {
            eprintln!("{}: {} parts joined, {} frames", job.output().path().display(), joined.parts, joined.frames);
        }
        None if !quiet => {
            eprintln!("{}: other parts have not finished; the last to finish joins them", job.output().path().display())
        }
        _ => {}
    }
    Ok(())
}

/// `plan video FILM --parts N`: each part's frames, whether it starts at a cut, its share.
pub fn print_parts(job: &Job, count: u32, json: bool) -> Result<(), Error> {
    if !(1..=Part::MAX).contains(&count) {
        return Err(Error::setting("parts", format!("{count} must be between 1 and {}", Part::MAX)));
    }
    // A plan of frames the render would refuse is no plan.
    dreamreel::run::frame_memory::check_footage_size(job)?;
    let (ranges, film_frames) = film::plan(job, count)?;
    let frames_of = |r: &PartRange| r.end.unwrap_or(film_frames).saturating_sub(r.start);
    if json {
        let rows: Vec<serde_json::Value> = ranges
            .iter()
            .map(|r| {
                serde_json::json!({
                    "part": r.index, "start": r.start, "end": r.end.unwrap_or(film_frames),
                    "frames": frames_of(r), "at_cut": r.at_cut, "dream_from": r.dream_from,
                })
            })
            .collect();
        let text = serde_json::json!({ "frames": film_frames, "parts": rows });
        println!("{}", serde_json::to_string_pretty(&text).unwrap_or_default());
        return Ok(());
    }
    let largest = ranges.iter().map(frames_of).max().unwrap_or(0);
    println!("{film_frames} frames in {count} parts (frames counted from 0)");
    println!("{:>6}  {:>17}  {:>7}  {:>6}  starts", "part", "frames", "count", "share");
    for r in &ranges {
        let frames = frames_of(r);
        let span = if frames == 0 { "-".to_string() } else { format!("{}-{}", r.start, r.start + frames - 1) };
        let starts = match (r.index, r.at_cut) {
            _ if frames == 0 => "no frames of its own: its render records it finished at once".to_string(),
            (1, _) => "at the start".to_string(),
            (_, true) => "at a cut".to_string(),
            (_, false) => format!("inside a shot ({} frames of warm-up)", r.start - r.dream_from),
        };
        let share = 100.0 * frames as f64 / film_frames.max(1) as f64;
        println!("{:>6}  {span:>17}  {frames:>7}  {share:>5.1}%  {starts}", r.index);
    }
    let empty: Vec<String> = ranges.iter().filter(|r| frames_of(r) == 0).map(|r| r.index.to_string()).collect();
    if !empty.is_empty() {
        // Never silent: a farm renders every part, and these finish at once.
        println!(
            "part(s) {} of {count} have no frames ({}): fewer parts would do the same work",
            empty.join(", "),
            if film_frames < u64::from(count) {
                "the film is shorter than the parts"
            } else {
                "no cut to start them at"
            }
        );
    }
    if largest > 0 {
        // Parts on N machines at once finish when the largest does.
        let speedup = film_frames as f64 / largest as f64;
        println!("largest part {largest} frames: at most {speedup:.2}x faster than one machine");
    }
    Ok(())
}

/// `--devices`: one part per GPU at once, one bar for the film, a line per part, then the join.
pub fn render_on_devices(job: &Job, devices: &[usize], quiet: bool) -> Result<(), Error> {
    let film = FilmBar { bar: Mutex::new((Bar::new(quiet), 0)), quiet };
    let started = std::time::Instant::now();
    let joined = film::render_on_devices(job, devices, &film, crate::cli::signals::cancel_on_signals())?;
    if let Ok(mut bar) = film.bar.lock() {
        bar.0.finish();
    }
    if !quiet {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{}: {} frames in {} parts on {} devices in {seconds:.1} s ({:.2} frames/s)",
            job.output().path().display(),
            joined.frames,
            joined.parts,
            devices.len(),
            joined.frames as f64 / seconds.max(1e-9)
        );
    }
    Ok(())
}

/// The film's one bar (or log lines): the parts' frames added up.
struct FilmBar {
    bar: Mutex<(Bar, u64)>,
    quiet: bool,
}

struct PartBar<'a> {
    film: &'a FilmBar,
}

impl Progress for PartBar<'_> {
    fn start(&mut self, total: Option<u64>) {
        if let Ok(mut bar) = self.film.bar.lock() {
            bar.1 += total.unwrap_or(0);
            let total = bar.1;
            bar.0.start(Some(total));
        }
    }

    fn advance(&mut self, done: u64) {
        if let Ok(mut bar) = self.film.bar.lock() {
            bar.0.advance(done);
        }
    }
}

impl FilmProgress for FilmBar {
    fn part_progress(&self, _part: Part) -> Box<dyn Progress + '_> {
        Box::new(PartBar { film: self })
    }

    fn part_finished(&self, part: Part, result: &Result<VideoReport, Error>) {
        if self.quiet {
            return;
        }
        match result {
            Ok(report) => {
                eprintln!("dreamreel: {part}: {} frames in {:.1} s", report.frames, report.elapsed.as_secs_f64())
            }
            Err(e) => eprintln!("dreamreel: {part}: {}", crate::cli::messages::worded(e)),
        }
    }
}
