//! A film rendered in parts and joined: `--join` makes the output of the parts' segments, with
//! the film's sound once, refusing a part missing, unfinished or rendered with other settings;
//! `--devices` renders one part per GPU at once and joins them; `plan video --parts` shows where
//! the parts would meet. Where parts start and end is [`crate::run::parts`]'s.
#![cfg(feature = "video")]
use crate::error::{Error, Result};
use crate::frame::rgb::Frame;
use crate::job::Job;
use crate::job::render_job::Part;
use crate::run::checkpoint::{OutputLock, WorkFolder, differences};
use crate::run::parts::{PartRange, PartRecord, faded_frames, folder, load_record, ranges, started};
use crate::run::pipeline::VideoReport;
use crate::run::progress::Progress;
use crate::video::{self, FrameFormat, VideoReader};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// Every part's range and the film's frames, for `plan video --parts`: the film decoded once.
pub fn plan(job: &Job, count: u32) -> Result<(Vec<PartRange>, u64)> {
    video::init()?;
    let reader = VideoReader::open(job.source().path(), &crate::run::per_frame::read_options(job))?;
    let info = reader.info();
    let film_frames = crate::run::pipeline::span_frames(job, info, info.frame_rate.as_f64());
    drop(reader);
    Ok((ranges(job, count, film_frames)?, film_frames))
}

/// What `--join` did.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    pub parts: u32,
    pub frames: u64,
}

/// How `--join` waits for the output: a part that joins after it finishes waits for another
/// doing the same (so the last one to finish always sees every record); `--join` alone refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    ForTheLock,
    No,
}

/// Joins the finished parts of `job`'s film into its output, with the film's sound once. A part
/// missing, unfinished or rendered with other settings is named and nothing is written.
/// `Ok(None)`: under [`Wait::ForTheLock`], some part has not finished yet (it will join).
pub fn join(job: &Job, wait: Wait) -> Result<Option<Joined>> {
    let output = job.output().path();
    let _lock = match wait {
        Wait::ForTheLock => OutputLock::acquire_waiting(output)?,
        Wait::No => OutputLock::acquire(output)?,
    };
    let found = started(output);
    let Some(count) = found.iter().map(|p| p.count).max() else {
        return Err(Error::setting(
            "join",
            format!("no part of '{}' has been rendered here: render each with --part I/N first", output.display()),
        ));
    };
    if let Some(other) = found.iter().find(|p| p.count != count) {
        return Err(Error::setting(
            "join",
            format!("parts of {} and of {count} are both in the work folder: render the film one way", other.count),
        ));
    }
    let mut records = Vec::new();
    for index in 1..=count {
        let part = Part { index, count };
        let record = load_record(output, part)?;
        let missing = match (found.contains(&part), record) {
            (_, Some(record)) if record.finished() => {
                records.push(record);
                continue;
            }
            (false, None) => "has not been rendered",
            (_, _) => "has not finished (add --resume to its command to go on)",
        };
        if wait == Wait::ForTheLock {
            return Ok(None);
        }
        return Err(Error::setting("join", format!("{part} {missing}: nothing was written")));
    }
    check_records(job, &records)?;
    let written: u64 = records.iter().map(|r| r.written).sum();
    job.output().check_join_overwrite(job.options().overwrite)?;
    let (frames, sound) = crate::run::pipeline::film_output(job)?;
    // Each part's segments, with the cross-fade before a part that starts inside a shot.
    let mut segments: Vec<PathBuf> = Vec::new();
    for (at, record) in records.iter().enumerate() {
        let work = folder(output, record.range.part());
        if at > 0 && record.range.fade_in > 0 {
            let before = folder(output, Part { index: record.range.index - 1, count });
            segments.extend(crossfade(job, frames, &before, &work, &record.range)?);
        }
        segments.extend(record.segments.iter().map(|name| work.file(name)));
    }
    let writer = job.output().writer(frames, WorkFolder::for_output(output).path(), sound.as_ref())?;
    let end = records.last().map_or(0, |last| last.range.start + last.written);
    writer.finish(&segments, end)?;
    WorkFolder::for_output(output).remove();
    Ok(Some(Joined { parts: count, frames: written }))
}

/// How a film rendered on several devices at once reports: each part's frames (the caller adds
/// them up into the film's), and each part's end.
pub trait FilmProgress: Sync {
    fn part_progress(&self, part: Part) -> Box<dyn Progress + '_>;
    fn part_finished(&self, part: Part, result: &Result<VideoReport>);
}

/// Renders the film as one part per device, all at once, then joins them. A part that fails
/// leaves its checkpoint (the others theirs): the same command with `--resume` goes on.
pub fn render_on_devices(
    job: &Job,
    devices: &[usize],
    progress: &dyn FilmProgress,
    cancel: &AtomicBool,
) -> Result<Joined> {
    let count = u32::try_from(devices.len()).map_err(|_| Error::setting("devices", "too many devices"))?;
    let results: Vec<Result<VideoReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(at, &device)| {
                let part = Part { index: at as u32 + 1, count };
                let job = match crate::run::test_hooks::devices_on_cpu() {
                    true => job.as_part(Some(part)),
                    false => job.as_part(Some(part)).on_device(format!("cuda:{device}")),
                };
                std::thread::Builder::new().name(format!("part {}", part.index)).spawn_scoped(scope, move || {
                    let mut reporter = progress.part_progress(part);
                    let result = crate::run::pipeline::render_video(&job, &mut *reporter, cancel);
                    progress.part_finished(part, &result);
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(Error::internal("a part's thread panicked"))),
                Err(e) => Err(Error::internal(format!("cannot start a part's thread: {e}"))),
            })
            .collect()
    });
    if results.iter().any(|r| matches!(r, Err(Error::Interrupted))) {
        return Err(Error::Interrupted);
    }
    for result in results {
        result?;
    }
    join(job, Wait::No)?.ok_or_else(|| Error::internal("a part of the film did not finish"))
}

/// Blends the frames the part before dreamed past its end into the first frames of `range`'s part
/// (which starts inside a shot), from all the one to all the other, through the output's writer:
/// a segment in the later part's work folder, returned to be joined (PNG frames go straight into
/// the output).
fn crossfade(
    job: &Job,
    frames: FrameFormat,
    before: &WorkFolder,
    after: &WorkFolder,
    range: &PartRange,
) -> Result<Option<PathBuf>> {
    let fading = |work: &WorkFolder| {
        let frames = faded_frames(work).into_iter();
        frames.filter(|(index, _, _)| (range.start..range.start + range.fade_in).contains(index)).collect::<Vec<_>>()
    };
    let (tails, heads) = (fading(before), fading(after));
    if heads.is_empty() {
        return Ok(None);
    }
    let mut writer = job.output().writer(frames, after.path(), None)?;
    for (index, pts, path) in &heads {
        let head = read_rgb(path)?;
        let share = (index - range.start + 1) as f64 / (range.fade_in + 1) as f64;
        let rgb = match tails.iter().find(|(i, _, _)| i == index) {
            Some((_, _, tail)) => {
                let tail = read_rgb(tail)?;
                let mix = |(&t, &h): (&u8, &u8)| (f64::from(t) * (1.0 - share) + f64::from(h) * share).round() as u8;
                tail.as_raw().iter().zip(head.as_raw()).map(mix).collect()
            }
            None => head.as_raw().clone(),
        };
        writer.write(&Frame { index: *index, pts: *pts, width: head.width(), height: head.height(), rgb })?;
    }
    let segment = writer.checkpoint()?;
    writer.abandon();
    Ok(segment.map(|name| after.file(&name)))
}

fn read_rgb(path: &std::path::Path) -> Result<image::RgbImage> {
    let picture = image::open(path).map_err(|e| Error::input(path, format!("damaged cross-fade frame ({e})")))?;
    Ok(picture.to_rgb8())
}

/// The parts must be of one film, rendered alike, meeting end to start.
fn check_records(job: &Job, records: &[PartRecord]) -> Result<()> {
    let refuse = |record: &PartRecord, why: String| {
        let part = record.range.part();
        Err(Error::setting("join", format!("{part} {why}: nothing was written")))
    };
    for record in records {
        let changed = differences(&record.job, job.description());
        if !changed.is_empty() {
            return refuse(record, format!("was rendered with other settings: {}", changed.join(", ")));
        }
        if record.split_inside_shots != job.splits_inside_shots() || record.film_frames != records[0].film_frames {
            return refuse(record, "split the film differently (--split-inside-shots)".into());
        }
    }
    for pair in records.windows(2) {
        if pair[0].range.end != Some(pair[1].range.start) {
            let at = pair[0].range.end.map_or("the end".to_string(), |e| format!("frame {e}"));
            return refuse(
                &pair[1],
                format!("starts at frame {} where the part before ends at {at}", pair[1].range.start),
            );
        }
    }
    Ok(())
}
