//! Writing outputs safely: check the target first, write beside it, rename on success.
use crate::error::{Error, Result};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Refuses an output the render could never write, before any work is spent on it.
pub(crate) fn check_output_path(output: &Path, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        if same_file(input, output) {
            return Err(Error::output(output, "is the input file: choose another output name"));
        }
    }
    let folder = parent_folder(output);
    if !folder.is_dir() {
        return Err(Error::output(output, format!("folder '{}' does not exist", folder.display())));
    }
    let metadata = std::fs::metadata(&folder).map_err(|e| Error::output(output, e.to_string()))?;
    if metadata.permissions().readonly() {
        return Err(Error::output(output, format!("folder '{}' is not writable", folder.display())));
    }
    if output.is_dir() {
        return Err(Error::output(output, "is a folder, not a file name"));
    }
    probe_writable(&folder)
        .map_err(|e| Error::output(output, format!("folder '{}' is not writable: {e}", folder.display())))
}

/// Creates and removes a file in `folder`: the only sure test that a render's output can be
/// written there (a read-only file system, permissions, a full quota), before any work is spent.
/// Each probe has a name of its own: renders on several threads of one process (`--devices`)
/// probe the same folder at once.
fn probe_writable(folder: &Path) -> std::io::Result<()> {
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let number = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = folder.join(format!(".{PARTIAL}-probe-{}-{number}", std::process::id()));
    File::create(&probe)?;
    std::fs::remove_file(&probe)
}

/// The same checks for an image sequence `folder/%05d.png`: its folder may be made, as a render
/// does, but not a whole missing path, and the folder that holds the frames must be writable.
pub fn check_sequence_output(output: &Path) -> Result<()> {
    let folder = parent_folder(output);
    let base = parent_folder(&folder);
    let existing = if folder.is_dir() { &folder } else { &base };
    if !existing.is_dir() {
        return Err(Error::output(output, format!("folder '{}' does not exist", base.display())));
    }
    let metadata = std::fs::metadata(existing).map_err(|e| Error::output(output, e.to_string()))?;
    if metadata.permissions().readonly() {
        return Err(Error::output(output, format!("folder '{}' is not writable", existing.display())));
    }
    probe_writable(existing)
        .map_err(|e| Error::output(output, format!("folder '{}' is not writable: {e}", existing.display())))
}

/// Refuses an output whose folder does not exist yet unless it can be made: the nearest folder
/// above it that exists must be writable, with no file in the way (a batch makes each job's folder
/// before it starts).
pub(crate) fn check_folder_can_be_made(output: &Path) -> Result<()> {
    let folder = resolved(&parent_folder(output));
    let Some(existing) = folder.ancestors().find(|above| above.exists()) else {
        return Err(Error::output(output, format!("folder '{}' cannot be made", folder.display())));
    };
    if !existing.is_dir() {
        let why = format!("folder '{}' cannot be made: '{}' is a file", folder.display(), existing.display());
        return Err(Error::output(output, why));
    }
    probe_writable(existing).map_err(|e| {
        Error::output(output, format!("folder '{}' cannot be made in '{}': {e}", folder.display(), existing.display()))
    })
}

/// Refuses to replace an existing output unless asked to (`-y`, as ffmpeg): a repeated command
/// must not silently destroy hours of an earlier render.
pub(crate) fn check_overwrite(output: &Path, overwrite: bool) -> Result<()> {
    if !overwrite && output.is_file() {
        return Err(Error::output(output, "already exists: add -y (--overwrite) to replace it"));
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `path` as the file system resolves it, whether or not it exists yet: absolute, through
/// symlinks, without `.` and `..`, so `./out/a.png`, `out/../out/a.png` and a link to `out`
/// compare equal.
pub fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let components: Vec<std::path::Component> = absolute.components().collect();
    // The deepest part that exists is canonicalised; the rest (not there yet) is normalised by hand.
    for split in (1..=components.len()).rev() {
        let head: PathBuf = components[..split].iter().collect();
        if let Ok(mut out) = head.canonicalize() {
            for component in &components[split..] {
                match component {
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => out.push(other),
                }
            }
            return out;
        }
    }
    absolute
}

pub(crate) fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// What marks a file as unfinished: it is renamed into place only when complete.
pub(crate) const PARTIAL: &str = "dreamreel-partial";

/// `.name.dreamreel-partial.ext` beside `path`, keeping the extension so format guessing works.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let extension = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    parent_folder(path).join(format!(".{name}.{PARTIAL}{extension}"))
}

/// Runs `write` on a temporary file beside `path` and renames it into place only if it succeeds.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let temporary = temporary_path(path);
    let result = (|| {
        // The folder was checked before the work: failing here (disk full...) is a failure while working, exit 1.
        let file = File::create(&temporary).map_err(|e| Error::write(path, format!("cannot create: {e}")))?;
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| Error::write(path, format!("cannot write: {}", e.error())))?;
        file.sync_all().map_err(|e| Error::write(path, format!("cannot write: {e}")))?;
        std::fs::rename(&temporary, path).map_err(|e| Error::write(path, format!("cannot rename into place: {e}")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_failed_write_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        std::fs::write(&path, b"old").unwrap();
        let result = write_atomically(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::output(&path, "disk full"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!temporary_path(&path).exists());
        write_atomically(&path, |w| w.write_all(b"new").map_err(|e| Error::io(&path, e))).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn spellings_of_one_path_resolve_alike() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("out"), dir.path().join("link")).unwrap();
        let a = resolved(&dir.path().join("out/a.png"));
        assert_eq!(resolved(&dir.path().join("./out/../out/a.png")), a);
        assert_eq!(resolved(&dir.path().join("link/a.png")), a);
        assert_eq!(resolved(&dir.path().join("new/../out/./a.png")), a);
        assert_ne!(resolved(&dir.path().join("out/b.png")), a);
    }

    #[test]
    fn output_in_a_missing_folder_or_equal_to_the_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope/out.png");
        let err = check_output_path(&missing, &[]).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        let input = dir.path().join("in.png");
        std::fs::write(&input, b"x").unwrap();
        let err = check_output_path(&input, &[&input]).unwrap_err().to_string();
        assert!(err.contains("is the input file"), "{err}");
    }
}
