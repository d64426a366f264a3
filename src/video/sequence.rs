//! Image sequences as input: a pattern such as `frames/%05d.png` (FFmpeg's image2 convention) or
//! a folder of numbered images (`shot_0001.png`, `shot_0002.png`, ...), read at `--fps`.
#![cfg(feature = "video")]
use std::path::{Path, PathBuf};

use super::encode::{format_pattern, is_image_sequence};
use super::{VideoError, show};

/// Extensions of the stills a sequence may hold.
const IMAGE_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp"];

/// A numbered run of images without gaps: `pattern` with `start..start + frames`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sequence {
    /// An image2 pattern (`%05d`), with any literal `%` of the names doubled.
    pub pattern: PathBuf,
    pub start: u64,
    pub frames: u64,
}

/// The sequence `path` names, if it names one: a `%d` pattern, or a folder of numbered images.
pub fn find(path: &Path) -> Result<Option<Sequence>, VideoError> {
    if path.is_dir() {
        return from_folder(path).map(Some);
    }
    if !is_image_sequence(path) {
        return Ok(None);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let folder = folder_of(path);
    let numbers = numbers_in(&folder, path, |file| number_for(name, file))?;
    run_from(path.to_owned(), numbers, path).map(Some)
}

/// Finds the one naming scheme of a folder's images: prefix, digits, extension.
fn from_folder(folder: &Path) -> Result<Sequence, VideoError> {
    let mut scheme: Option<(String, String, usize, bool)> = None;
    let mut numbers = Vec::new();
    for name in file_names(folder, folder)? {
        let Some((prefix, digits, suffix)) = split_number(&name) else { continue };
        let padded = digits.len() > 1 && digits.starts_with('0');
        match &mut scheme {
            None => scheme = Some((prefix.to_string(), suffix.to_string(), digits.len(), padded)),
            Some((p, s, width, any_padded)) => {
                if p != prefix || s != suffix {
                    let first = format!("{p}N{s}");
                    return Err(bad(
                        folder,
                        format!(
                            "holds images named two ways ('{first}' and '{name}'): keep one numbered run per folder"
                        ),
                    ));
                }
                *any_padded |= padded;
                if digits.len() != *width {
                    *width = 0; // unpadded numbers of different lengths: plain %d
                }
            }
        }
        numbers.push(digits.parse::<u64>().map_err(|_| bad(folder, format!("'{name}': number too big")))?);
    }
    let Some((prefix, suffix, width, padded)) = scheme else {
        return Err(bad(folder, "holds no numbered images (such as 0001.png) to read as a video"));
    };
    let spec = if padded && width > 0 { format!("%0{width}d") } else { "%d".to_string() };
    let pattern = folder.join(format!("{}{spec}{}", prefix.replace('%', "%%"), suffix.replace('%', "%%")));
    run_from(pattern, numbers, folder)
}

/// The first number and the length of the run without gaps from it.
fn run_from(pattern: PathBuf, mut numbers: Vec<u64>, named: &Path) -> Result<Sequence, VideoError> {
    numbers.sort_unstable();
    numbers.dedup();
    let Some(&start) = numbers.first() else {
        return Err(VideoError::NotFound { path: show(named) });
    };
    let frames = numbers.iter().zip(start..).take_while(|(n, expected)| *n == expected).count() as u64;
    if frames < numbers.len() as u64 {
        let missing = start + frames;
        return Err(bad(named, format!("frame {missing} of the sequence is missing")));
    }
    Ok(Sequence { pattern, start, frames })
}

/// `(prefix, digits, suffix)` of an image name whose last run of digits is its number.
fn split_number(name: &str) -> Option<(&str, &str, &str)> {
    let (stem, extension) = name.rsplit_once('.')?;
    if !IMAGE_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()) {
        return None;
    }
    let end = stem.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = stem[..end].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    Some((&stem[..start], &stem[start..end], &name[end..]))
}

/// The number `file` stands for under `pattern`, if it is one of the pattern's names.
fn number_for(pattern: &str, file: &str) -> Option<u64> {
    let (_, digits, _) = split_number(file).or_else(|| {
        // Names without an image extension can still match a pattern such as %05d.raw: take the last digits.
        let end = file.rfind(|c: char| c.is_ascii_digit())? + 1;
        let start = file[..end].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        Some(("", &file[start..end], ""))
    })?;
    let number = digits.parse().ok()?;
    (format_pattern(pattern, number).as_deref() == Some(file)).then_some(number)
}

fn numbers_in(folder: &Path, named: &Path, number: impl Fn(&str) -> Option<u64>) -> Result<Vec<u64>, VideoError> {
    Ok(file_names(folder, named)?.iter().filter_map(|name| number(name)).collect())
}

fn file_names(folder: &Path, named: &Path) -> Result<Vec<String>, VideoError> {
    let entries = std::fs::read_dir(folder).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => VideoError::NotFound { path: show(named) },
        _ => VideoError::io(named, "cannot list the sequence's folder", e),
    })?;
    Ok(entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
}

fn bad(path: &Path, what: impl Into<String>) -> VideoError {
    VideoError::BadSequence { path: show(path), what: what.into() }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// True when `path` names an image-sequence input: a `%d` pattern or a folder of numbered images.
pub fn is_sequence_input(path: &Path) -> bool {
    path.is_dir() || is_image_sequence(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        dir
    }

    #[test]
    fn a_pattern_finds_its_first_number_and_length() {
        let dir = folder_with(&["f_00003.png", "f_00004.png", "f_00005.png", "other.txt", "f_3.png"]);
        let seq = find(&dir.path().join("f_%05d.png")).unwrap().unwrap();
        assert_eq!((seq.start, seq.frames), (3, 3));
        let err = find(&dir.path().join("g_%05d.png")).unwrap_err().to_string();
        assert!(err.ends_with("g_%05d.png: file not found"), "{err}");
    }

    #[test]
    fn a_folder_yields_its_pattern() {
        let dir = folder_with(&["shot_0001.png", "shot_0002.png", "shot_0003.png", "notes.txt"]);
        let seq = find(dir.path()).unwrap().unwrap();
        assert_eq!(seq.pattern, dir.path().join("shot_%04d.png"));
        assert_eq!((seq.start, seq.frames), (1, 3));
        let unpadded = folder_with(&["9.jpg", "10.jpg", "11.jpg"]);
        let seq = find(unpadded.path()).unwrap().unwrap();
        assert_eq!((seq.pattern.file_name().unwrap().to_str().unwrap(), seq.start, seq.frames), ("%d.jpg", 9, 3));
    }

    #[test]
    fn gaps_mixed_names_and_empty_folders_are_refused() {
        let gap = folder_with(&["1.png", "2.png", "4.png"]);
        assert!(find(gap.path()).unwrap_err().to_string().contains("frame 3 of the sequence is missing"));
        let mixed = folder_with(&["a1.png", "b1.png"]);
        assert!(find(mixed.path()).unwrap_err().to_string().contains("named two ways"));
        let empty = folder_with(&["readme.txt"]);
        assert!(find(empty.path()).unwrap_err().to_string().contains("holds no numbered images"));
        assert_eq!(find(Path::new("clip.mp4")).unwrap(), None);
    }
}
