//! The record of the frames this program wrote into an image sequence: a small hidden file beside
//! the frames (`.%04d.png.written-by-dreamreel`), listing their numbers as ranges. A frame's
//! number enters the record before the frame is moved into place, and the record is replaced
//! atomically, so a frame on disk that a render wrote is always in it, however the render ended.
//! Cleaning up after a render (`-y` over a longer sequence, an abandoned writer) removes only
//! frames the record lists: the user's own numbered files beside them are never deleted.
#![cfg(feature = "video")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::video::VideoError;

/// One record changed at a time in this process (parts on threads may share a sequence).
static CHANGING: Mutex<()> = Mutex::new(());

/// Where the record of `pattern`'s frames lives: beside them, hidden.
pub(crate) fn record_path(pattern: &Path) -> PathBuf {
    let name = pattern.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    crate::output::parent_folder(pattern).join(format!(".{name}.written-by-dreamreel"))
}

/// The frame numbers the record of `pattern` lists (none without a record).
pub(crate) fn written(pattern: &Path) -> BTreeSet<u64> {
    let Ok(text) = std::fs::read_to_string(record_path(pattern)) else { return BTreeSet::new() };
    let mut numbers = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (first, last) = line.split_once('-').unwrap_or((line, line));
        if let (Ok(first), Ok(last)) = (first.trim().parse::<u64>(), last.trim().parse::<u64>()) {
            // A damaged record lists nothing past a bound rather than allocating without one.
            numbers.extend(first..=last.min(first.saturating_add(10_000_000)));
        }
    }
    numbers
}

/// Replaces the record of `pattern` with `numbers` (removes it when empty), atomically.
fn save(pattern: &Path, numbers: &BTreeSet<u64>) -> Result<(), VideoError> {
    let path = record_path(pattern);
    if numbers.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VideoError::io(&path, "cannot remove", e)),
            _ => Ok(()),
        };
    }
    let mut text = String::from("# The frames dreamreel wrote here; only these are ever removed by it.\n");
    let mut numbers = numbers.iter().copied().peekable();
    while let Some(first) = numbers.next() {
        let mut last = first;
        while numbers.peek() == Some(&(last + 1)) {
            last = numbers.next().unwrap_or(last);
        }
        text.push_str(&if first == last { format!("{first}\n") } else { format!("{first}-{last}\n") });
    }
    let temporary = crate::output::temporary_path(&path);
    std::fs::write(&temporary, text).map_err(|e| VideoError::io(&temporary, "cannot write the frame record", e))?;
    std::fs::rename(&temporary, &path).map_err(|e| VideoError::io(&path, "cannot move the frame record into place", e))
}

/// Adds `number` to the record of `pattern`: before the frame is moved into place.
pub(crate) fn note(pattern: &Path, number: u64) -> Result<(), VideoError> {
    let _changing = CHANGING.lock().unwrap_or_else(|e| e.into_inner());
    let mut numbers = written(pattern);
    if numbers.insert(number) { save(pattern, &numbers) } else { Ok(()) }
}

/// Removes the recorded frames of `pattern` that `remove` picks, and forgets them.
pub(crate) fn remove(pattern: &Path, remove: impl Fn(u64) -> bool) -> Result<(), VideoError> {
    let _changing = CHANGING.lock().unwrap_or_else(|e| e.into_inner());
    let mut numbers = written(pattern);
    let mut result = Ok(());
    for &number in numbers.iter().filter(|&&n| remove(n)) {
        let Some(path) = crate::video::sequence_frame(pattern, number) else { continue };
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && result.is_ok() => {
                result = Err(VideoError::io(&path, "cannot remove an old frame", e));
            }
            _ => {}
        }
    }
    if result.is_ok() {
        numbers.retain(|&n| !remove(n));
        save(pattern, &numbers)?;
    }
    result
}
