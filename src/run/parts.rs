//! One film on many machines: `video FILM -o OUT --part I/N` renders part I of N into the work
//! folder beside OUT (resumable as any render is, with a lock of its own), and `--join` joins the
//! parts' segments into OUT by stream copy, with the film's sound once.
//!
//! Where parts meet, with no coordinator and no pre-pass: the film's frames are cut into N equal
//! ranges, and part I starts at the first scene cut in its range (part 1 at frame 0), found by the
//! render's own test ([`is_cut`]) on the same frames at the same size. At a cut the one-process
//! render starts its dream afresh from the raw frame, seeds each frame's jitter by its index and
//! matches colours per frame, so a part that starts there dreams exactly the frames the
//! one-process render does. Part I ends where part I+1 starts, found the same way.
//!
//! A range without a cut (a long take) is split inside the shot: its part starts at the range's
//! first frame, [`WARMUP_FRAMES`] frames early. Those are dreamed (from the raw frame, as after a
//! cut) but not written, so the carried dream has settled by the first frame the part writes; the
//! seam is close to an ordinary frame step but not exact (BENCHMARKS.md measures it).
//! `--split-inside-shots false` starts parts at cuts only (a part may then be empty).
#![cfg(feature = "video")]
use crate::error::{Error, Result};
use crate::frame::flow::frame_motion;
use crate::frame::footage::is_cut;
use crate::frame::rgb::Frame;
use crate::job::Job;
use crate::job::render_job::Part;
use crate::run::checkpoint::WorkFolder;
use crate::video::{self, VideoReader};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Frames a part that starts inside a shot dreams before its first written frame: where the seam
/// to the part before comes within an ordinary frame step (measured: see BENCHMARKS.md).
pub const WARMUP_FRAMES: u64 = 12;

/// Frames over which two parts that meet inside a shot are cross-faded: the part before dreams
/// them past its end, the part after dreams them as its first, and the join blends the two.
pub const CROSSFADE_FRAMES: u64 = 8;

/// The record a finished part leaves in its work folder, which `--join` reads.
pub(crate) const RECORD: &str = "part.json";

/// Where one part of a film starts and ends, in frames of the film (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRange {
    pub index: u32,
    pub count: u32,
    /// The first frame dreamed: `start`, or earlier by the warm-up inside a shot.
    pub dream_from: u64,
    /// The first frame written.
    pub start: u64,
    /// The frame the next part starts at; `None` for the last part (the footage's end).
    pub end: Option<u64>,
    /// Whether `start` is frame 0 or a cut, where the part's frames are exactly the one-process
    /// render's; else it starts inside a shot.
    pub at_cut: bool,
    /// Inside a shot: the first frames, set aside for the join to cross-fade with the part before.
    pub fade_in: u64,
    /// Before a part that starts inside a shot: frames dreamed past `end`, set aside for the join.
    pub fade_out: u64,
}

impl PartRange {
    /// Frames written, when the end is known.
    pub fn frames(&self) -> Option<u64> {
        self.end.map(|end| end.saturating_sub(self.start))
    }

    /// Which part of the film this is.
    pub fn part(&self) -> Part {
        Part { index: self.index, count: self.count }
    }

    pub fn is_empty(&self) -> bool {
        self.frames() == Some(0)
    }

    /// The frames dreamed but set aside for a cross-fade (the first and the last few).
    pub fn set_aside(&self, index: u64) -> bool {
        let faded_out = self.end.is_some_and(|end| (end..end + self.fade_out).contains(&index));
        (self.start..self.start + self.fade_in).contains(&index) || faded_out
    }

    /// The frame after the last one this part dreams.
    pub fn dream_until(&self) -> Option<u64> {
        self.end.map(|end| end + self.fade_out)
    }

    fn new(index: u32, count: u32, (start, at_cut): (u64, bool), next: Option<(u64, bool)>) -> PartRange {
        let dream_from = if at_cut { start } else { start.saturating_sub(warmup()) };
        let fade_in = if at_cut { 0 } else { CROSSFADE_FRAMES };
        let fade_out = match next {
            Some((_, false)) => CROSSFADE_FRAMES,
            _ => 0,
        };
        let end = next.map(|(next, _)| next.max(start));
        PartRange { index, count, dream_from, start, end, at_cut, fade_in, fade_out }
    }
}

/// The name of a frame set aside for a cross-fade: its index and its timestamp.
pub(crate) fn fade_name(index: u64, pts: i64) -> String {
    format!("fade-{index:08}-{pts}.png")
}

/// The frames a part set aside for cross-fades, as `(index, pts, file)`, by index.
pub(crate) fn faded_frames(work: &WorkFolder) -> Vec<(u64, i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(work.path()) else { return Vec::new() };
    let mut found: Vec<(u64, i64, PathBuf)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?.to_owned();
            let (index, pts) = name.strip_prefix("fade-")?.strip_suffix(".png")?.split_once('-')?;
            Some((index.parse().ok()?, pts.parse().ok()?, path))
        })
        .collect();
    found.sort();
    found
}

/// What a finished part rendered, with the settings it was rendered with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartRecord {
    pub range: PartRange,
    /// The film's frames as every part counted them.
    pub film_frames: u64,
    pub split_inside_shots: bool,
    /// The job's settings, as a checkpoint records them.
    pub job: serde_json::Value,
    /// Frames written (the last part's end is the footage's).
    pub written: u64,
    /// Segment files in the part's work folder, in order (none for an image sequence).
    pub segments: Vec<String>,
    /// The frame rate the segments were written at.
    pub frame_rate: (i32, i32),
}

impl PartRecord {
    /// Whether every frame of the part is written: only then does it count as finished (a record
    /// an older dreamreel wrote for an interrupted part does not).
    pub fn finished(&self) -> bool {
        self.range.frames().is_none_or(|frames| self.written >= frames)
    }
}

/// The path a part's work folder and lock are named after, inside the film's work folder.
pub fn place(output: &Path, part: Part) -> PathBuf {
    WorkFolder::for_output(output).file(&format!("part-{:04}-of-{:04}", part.index, part.count))
}

/// A part's work folder: its checkpoint, segments and, once finished, its record.
pub fn folder(output: &Path, part: Part) -> WorkFolder {
    WorkFolder::for_output(&place(output, part))
}

/// The parts whose work folders are beside `output`, as `(index, count)`.
pub fn started(output: &Path) -> Vec<Part> {
    let Ok(entries) = std::fs::read_dir(WorkFolder::for_output(output).path()) else { return Vec::new() };
    let mut parts: Vec<Part> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(".part-")?.strip_suffix(".dreamreel")?;
            let (index, count) = rest.split_once("-of-")?;
            Some(Part { index: index.parse().ok()?, count: count.parse().ok()? })
        })
        .collect();
    parts.sort_by_key(|p| (p.count, p.index));
    parts
}

fn warmup() -> u64 {
    crate::run::test_hooks::part_warmup().unwrap_or(WARMUP_FRAMES)
}

/// Frame where part `index`'s equal share of `frames` begins.
fn nominal_start(index: u32, count: u32, frames: u64) -> u64 {
    ((u128::from(index) - 1) * u128::from(frames) / u128::from(count)) as u64
}

/// Where each of `parts` (numbered from 1, of `count`) starts: `(frame, at a cut)`.
fn starts(job: &Job, film_frames: u64, count: u32, parts: &[u32]) -> Result<Vec<(u64, bool)>> {
    let split = job.splits_inside_shots();
    // The frames searched for each part's first cut: its share, or (cut-only) the rest of the film.
    let ranges: Vec<(u64, u64)> = parts
        .iter()
        .map(|&index| {
            let from = nominal_start(index, count, film_frames);
            let until = match split {
                true if index < count => nominal_start(index + 1, count, film_frames),
                _ => film_frames,
            };
            if index == 1 || from == 0 { (0, 0) } else { (from, until) }
        })
        .collect();
    let cuts = first_cuts(job, &ranges)?;
    Ok(parts
        .iter()
        .zip(ranges)
        .zip(cuts)
        .map(|((&index, (from, _)), cut)| match (index, cut) {
            (1, _) => (0, true),
            _ if from == 0 => (0, true),
            (_, Some(cut)) => (cut, true),
            (_, None) if split => (from, false),
            (_, None) => (film_frames, true),
        })
        .collect())
}

/// The first cut in each of `ranges` (`[from, until)` frames), decoding the footage once from the
/// frame before the earliest: the pairs of frames the render's flow stage compares, at its size.
fn first_cuts(job: &Job, ranges: &[(u64, u64)]) -> Result<Vec<Option<u64>>> {
    let mut found = vec![None; ranges.len()];
    let between = job.between_frames();
    let searched: Vec<&(u64, u64)> = ranges.iter().filter(|(from, until)| from < until).collect();
    // Without flow the render finds no cut: every part then starts inside a shot.
    if !between.flow || between.scene_threshold <= 0.0 || searched.is_empty() {
        return Ok(found);
    }
    let from = searched.iter().map(|r| r.0).min().unwrap_or(0);
    let until = searched.iter().map(|r| r.1).max().unwrap_or(0);
    video::init()?;
    let mut reader = VideoReader::open(job.source().path(), &crate::run::per_frame::read_options(job))?;
    let mut previous: Option<Frame> = None;
    while let Some(frame) = reader.next_frame()? {
        if frame.index >= until {
            break;
        }
        let open: Vec<usize> = (0..ranges.len())
            .filter(|&i| found[i].is_none() && (ranges[i].0..ranges[i].1).contains(&frame.index))
            .collect();
        if let Some(before) = previous.as_ref().filter(|p| (p.width, p.height) == (frame.width, frame.height))
            && !open.is_empty()
        {
            let motion = frame_motion(&before.rgb, &frame.rgb, frame.width, frame.height)?;
            if is_cut(between.scene_threshold, &motion) {
                for i in open {
                    found[i] = Some(frame.index);
                }
            }
        }
        let settled = ranges.iter().zip(&found).all(|(range, cut)| cut.is_some() || frame.index + 1 >= range.1);
        if settled {
            break;
        }
        // Only the frame just before the searched ones is kept: the flow stage compares neighbours.
        previous = (frame.index + 1 >= from).then_some(frame);
    }
    Ok(found)
}

/// Where `part` of the film (of `film_frames` frames) starts and ends.
pub fn range(job: &Job, part: Part, film_frames: u64) -> Result<PartRange> {
    let asked: Vec<u32> = if part.index < part.count { vec![part.index, part.index + 1] } else { vec![part.index] };
    let found = starts(job, film_frames, part.count, &asked)?;
    Ok(PartRange::new(part.index, part.count, found[0], found.get(1).copied()))
}

/// Every part's range, for `plan video --parts`: the film decoded once.
pub fn ranges(job: &Job, count: u32, film_frames: u64) -> Result<Vec<PartRange>> {
    let all: Vec<u32> = (1..=count).collect();
    let found = starts(job, film_frames, count, &all)?;
    Ok((0..found.len()).map(|i| PartRange::new(i as u32 + 1, count, found[i], found.get(i + 1).copied())).collect())
}

/// Refuses, before any frame, a part of a film rendered with other settings than the parts of
/// the same film begun or finished beside its output: the join would refuse them, and the part's
/// work would be wasted. The message names each differing option.
pub fn check_alike(job: &Job) -> Result<()> {
    let Some(part) = job.part() else { return Ok(()) };
    let output = job.output().path();
    for other in started(output).into_iter().filter(|other| *other != part && other.count == part.count) {
        let saved = match load_record(output, other)? {
            Some(record) => record.job,
            None => match folder(output, other).load()? {
                Some(checkpoint) => checkpoint.job,
                None => continue,
            },
        };
        let changed = crate::run::checkpoint::differences(&saved, job.description());
        if !changed.is_empty() {
            return Err(Error::setting(
                "part",
                format!(
                    "{other} was rendered with other settings: {}: render every part of a film alike, or the join refuses them",
                    changed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `part` of the film written to `output` has finished: its record is there, with all
/// its frames.
pub fn finished(output: &Path, part: Part) -> bool {
    load_record(output, part).ok().flatten().is_some_and(|record| record.finished())
}

/// Writes a finished part's record (atomically): what `--join` reads.
pub(crate) fn save_record(output: &Path, part: Part, record: &PartRecord) -> Result<()> {
    let work = folder(output, part);
    work.prepare(false)?;
    let path = work.file(RECORD);
    let json = serde_json::to_vec_pretty(record).map_err(|e| Error::output(&path, e.to_string()))?;
    crate::output::write_atomically(&path, |file| {
        std::io::Write::write_all(file, &json).map_err(|e| Error::write(&path, format!("cannot write: {e}")))
    })
}

pub(crate) fn load_record(output: &Path, part: Part) -> Result<Option<PartRecord>> {
    let path = folder(output, part).file(RECORD);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::input(&path, format!("damaged record of {part} ({e})"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_share_the_frames_equally_before_cuts_move_them() {
        let starts: Vec<u64> = (1..=4).map(|i| nominal_start(i, 4, 10)).collect();
        assert_eq!(starts, [0, 2, 5, 7]);
        let big = u64::MAX / 2;
        assert!(nominal_start(2, 3, big) < nominal_start(3, 3, big) && nominal_start(3, 3, big) < big);
        assert_eq!(nominal_start(2, 3, 1), 0);
    }

    #[test]
    fn a_part_is_parsed_and_bounded() {
        assert_eq!(Part::parse("2/8").unwrap(), Part { index: 2, count: 8 });
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/99999"] {
            assert!(Part::parse(bad).is_err(), "{bad}");
        }
        let err = Part::parse("4/3").unwrap_err();
        assert_eq!(err.key, Some("part"));
        assert!(err.message.contains("parts are numbered 1 to 3"), "{}", err.message);
    }
}
