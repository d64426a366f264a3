//! Resumable renders: the work folder beside a video's output, holding the finished segments, the
//! last dreamed frame and what job they belong to, and the lock that keeps two renders apart.
//!
//! `.NAME.dreamreel/checkpoint.json` is replaced atomically after each segment is finished, so
//! after a crash, kill or power loss it always describes complete segments and the exact dreamed
//! frame they end on; `--resume` continues from there.
use crate::error::{Error, Result};
use crate::output::parent_folder;
use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use tch::Tensor;

/// The checkpoint file in the work folder.
pub(crate) const CHECKPOINT: &str = "checkpoint.json";

/// What a render has finished so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The job and settings that made these frames: a resume must match them.
    pub job: serde_json::Value,
    /// Frames dreamed and stored for good (in segments, or as image files).
    pub frames_done: u64,
    /// Finished segment files in the work folder, in order.
    pub segments: Vec<String>,
    /// The last dreamed frame at full precision, which the next frame grows from.
    pub last_frame: Option<String>,
}

/// The work folder of one output.
#[derive(Clone, Debug)]
pub struct WorkFolder {
    dir: PathBuf,
}

impl WorkFolder {
    pub(crate) fn for_output(output: &Path) -> Self {
        let name = output.file_name().map(|n| n.to_string_lossy().replace('%', "_")).unwrap_or_default();
        WorkFolder { dir: parent_folder(output).join(format!(".{name}.dreamreel")) }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes the folder (empty if `fresh`, dropping an old render's state).
    pub fn prepare(&self, fresh: bool) -> Result<()> {
        if fresh && self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }

    /// The checkpoint, if a render left one.
    pub fn load(&self) -> Result<Option<Checkpoint>> {
        let path = self.file(CHECKPOINT);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                let restart = crate::error::mention("restart");
                Error::input(&path, format!("damaged checkpoint ({e}): add {restart} to discard it"))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The saved last frame of a checkpoint.
    pub fn load_frame(&self, checkpoint: &Checkpoint) -> Result<Option<Tensor>> {
        let Some(name) = &checkpoint.last_frame else { return Ok(None) };
        let path = self.file(name);
        Tensor::load(&path).map(Some).map_err(|e| Error::input(&path, format!("damaged checkpoint frame: {e}")))
    }

    /// Records progress: the frame first, then the checkpoint that names it, each atomically.
    pub fn save(&self, checkpoint: &mut Checkpoint, last_frame: &Tensor) -> Result<()> {
        let name = format!("frame-{:08}.pt", checkpoint.frames_done);
        // Serialized in memory, then written by us: torch's own file writer aborts the process
        // when a write fails (disk full), instead of returning an error.
        let mut bytes = Vec::new();
        last_frame.save_to_stream(&mut bytes)?;
        crate::output::write_atomically(&self.file(&name), |file| {
            std::io::Write::write_all(file, &bytes)
                .map_err(|e| Error::write(self.file(&name), format!("cannot write: {e}")))
        })?;
        let previous = checkpoint.last_frame.replace(name);
        let json =
            serde_json::to_vec_pretty(checkpoint).map_err(|e| Error::output(self.file(CHECKPOINT), e.to_string()))?;
        crate::output::write_atomically(&self.file(CHECKPOINT), |file| {
            std::io::Write::write_all(file, &json)
                .map_err(|e| Error::write(self.file(CHECKPOINT), format!("cannot write: {e}")))
        })?;
        if let Some(previous) = previous.filter(|p| Some(p) != checkpoint.last_frame.as_ref()) {
            let _ = std::fs::remove_file(self.file(&previous));
        }
        Ok(())
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The settings that differ between a checkpoint's job and this one, for the refusal message.
pub fn differences(saved: &serde_json::Value, current: &serde_json::Value) -> Vec<String> {
    let (Some(saved), Some(current)) = (saved.as_object(), current.as_object()) else {
        return vec!["the whole job".into()];
    };
    let mut keys: Vec<&String> = saved.keys().chain(current.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| saved.get(*key) != current.get(*key))
        .flat_map(|key| match (saved.get(key), current.get(key)) {
            // The span's parts are settings of their own (frames, start, ...): name those.
            (Some(inner_saved), Some(inner_current)) if inner_saved.is_object() && inner_current.is_object() => {
                differences(inner_saved, inner_current)
            }
            (was, now) => {
                let show = |v: Option<&serde_json::Value>| v.map_or("unset".to_string(), |v| v.to_string());
                vec![format!("{} (was {}, now {})", crate::error::mention(key), show(was), show(now))]
            }
        })
        .collect()
}

/// Held while a render writes `output`; a second render of the same output is refused.
/// The OS drops the lock when the process ends, however it ends.
pub struct OutputLock {
    _file: File,
    path: PathBuf,
}

impl OutputLock {
    pub fn acquire(output: &Path) -> Result<OutputLock> {
        OutputLock::take(output, false)
    }

    /// Waits while another process holds the lock (a part joining the film as it finishes).
    pub fn acquire_waiting(output: &Path) -> Result<OutputLock> {
        OutputLock::take(output, true)
    }

    fn take(output: &Path, wait: bool) -> Result<OutputLock> {
        let name = output.file_name().map(|n| n.to_string_lossy().replace('%', "_")).unwrap_or_default();
        let path = parent_folder(output).join(format!(".{name}.dreamreel.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::output(output, format!("cannot create the lock file: {e}")))?;
        let locked = match wait {
            true => file.lock().map_err(TryLockError::Error),
            false => file.try_lock(),
        };
        match locked {
            Ok(()) => Ok(OutputLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => {
                Err(Error::output(output, "another dreamreel render is writing this output right now"))
            }
            Err(TryLockError::Error(e)) => Err(Error::output(output, format!("cannot lock: {e}"))),
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn a_saved_checkpoint_loads_back_with_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let work = WorkFolder::for_output(&dir.path().join("out.mp4"));
        work.prepare(true).unwrap();
        assert_eq!(work.load().unwrap(), None);
        let frame = Tensor::rand([1, 3, 4, 5], (Kind::Float, Device::Cpu));
        let mut checkpoint =
            Checkpoint { job: serde_json::json!({"zoom": 1.05}), frames_done: 3, ..Default::default() };
        checkpoint.segments.push("segment-00000.mkv".into());
        work.save(&mut checkpoint, &frame).unwrap();
        checkpoint.frames_done = 6;
        work.save(&mut checkpoint, &(&frame * 2.0)).unwrap();
        let loaded = work.load().unwrap().unwrap();
        assert_eq!(loaded, checkpoint);
        let again = work.load_frame(&loaded).unwrap().unwrap();
        assert_eq!((again - &frame * 2.0).abs().max().double_value(&[]), 0.0);
        let frames: Vec<_> = std::fs::read_dir(work.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".pt"))
            .collect();
        assert_eq!(frames.len(), 1, "older frames are removed");
    }

    #[test]
    fn differences_name_each_changed_setting() {
        let saved = serde_json::json!({"zoom": 1.05, "octaves": 4});
        let current = serde_json::json!({"zoom": 1.1, "octaves": 4, "rotate": 2});
        let worded: Vec<String> = differences(&saved, &current)
            .iter()
            .map(|text| crate::error::word_mentions(text, &|key| format!("--{key}")))
            .collect();
        assert_eq!(worded, vec!["--rotate (was unset, now 2)", "--zoom (was 1.05, now 1.1)"]);
    }

    #[test]
    fn a_second_lock_on_the_same_output_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.mp4");
        let first = OutputLock::acquire(&output).unwrap();
        let err = OutputLock::acquire(&output).err().unwrap().to_string();
        assert!(err.contains("another dreamreel render is writing this output"), "{err}");
        drop(first);
        OutputLock::acquire(&output).unwrap();
    }
}
