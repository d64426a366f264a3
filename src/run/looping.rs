//! `zoom --loop`: a zoom whose last frame leads back into its first.
//!
//! A zoom of N frames dreams N + K: the first K dreams are held back (kept in the work folder, so
//! a resumed render has them too), dreams K .. N-1 are the output's frames 0 .. N-K-1, and the
//! last K dreams are cross-faded into the held ones: output frame N-K+j is dream N+j fading into
//! dream j, the held share rising smoothly from near 0 to near 1. The output's last frame is
//! then almost dream K-1 and its first is dream K, one frame of the zoom apart; and where the
//! fade starts, dream N follows dream N-1 along the zoom as any frame follows the one before.
//! Both dreams zoom alike under the fade, so shapes keep moving the same way through it.
use crate::error::{Error, Result};
use crate::frame::rgb::Frame;
use std::path::{Path, PathBuf};

/// How a looping zoom renders, and what it does with each dream.
#[derive(Clone, Debug)]
pub struct Loop {
    /// Frames of the output.
    pub frames: u64,
    /// Dreams held back and faded into (K).
    pub overlap: u64,
    folder: PathBuf,
}

impl Loop {
    /// The loop of a zoom of `frames` frames at `fps`: a quarter of it (at most two seconds)
    /// fades back into its start. The held dreams go into `folder` (the render's work folder).
    pub fn new(frames: u64, fps: f64, folder: &Path) -> Result<Loop> {
        if frames < 4 {
            return Err(Error::setting("loop", format!("a loop needs at least 4 frames, not {frames}")));
        }
        let overlap = ((frames as f64 / 4.0).round() as u64).clamp(1, (2.0 * fps).round().max(1.0) as u64);
        Ok(Loop { frames, overlap, folder: folder.to_owned() })
    }

    /// Dreams to render: the output's frames and the K faded into its start.
    pub fn dreams(&self) -> u64 {
        self.frames + self.overlap
    }

    /// What the progress counts: every dream, the output's frames and the K more faded into its start.
    pub(crate) fn progress_note(&self) -> String {
        let (frames, overlap, dreams) = (self.frames, self.overlap, self.dreams());
        format!(
            "a loop of {frames} frames dreams {dreams}: {overlap} more fade into its start; the progress counts all {dreams}"
        )
    }

    /// The output frame whose schedule values dream `dream` follows: the held dreams and the
    /// dreams faded into them share the output's last K frames.
    pub(crate) fn output_index(&self, dream: u64) -> u64 {
        (dream + self.frames - self.overlap) % self.frames
    }

    /// The frame to encode for dream `dream` (its index and pts are the dream's own), or `None`
    /// while the dream is held back.
    pub fn output(&self, dream: Frame) -> Result<Option<Frame>> {
        let (k, n) = (self.overlap, self.frames);
        let index = dream.index;
        if index < k {
            self.keep(&dream)?;
            return Ok(None);
        }
        let out_index = index - k;
        let mut frame = Frame { index: out_index, pts: out_index as i64, ..dream };
        if index >= n {
            let j = index - n;
            let held = self.held(j, frame.rgb.len())?;
            let share = smoothstep((j + 1) as f64 / (k + 1) as f64);
            for (pixel, &old) in frame.rgb.iter_mut().zip(&held) {
                *pixel = (f64::from(*pixel) * (1.0 - share) + f64::from(old) * share).round() as u8;
            }
        }
        Ok(Some(frame))
    }

    fn file(&self, j: u64) -> PathBuf {
        self.folder.join(format!("loop-{j:06}.rgb"))
    }

    fn keep(&self, dream: &Frame) -> Result<()> {
        let path = self.file(dream.index);
        crate::output::write_atomically(&path, |file| {
            std::io::Write::write_all(file, &dream.rgb).map_err(|e| Error::write(&path, format!("cannot write: {e}")))
        })
    }

    fn held(&self, j: u64, len: usize) -> Result<Vec<u8>> {
        let path = self.file(j);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        if bytes.len() != len {
            let restart = crate::error::mention("restart");
            return Err(Error::input(&path, format!("a held loop frame has the wrong size: add {restart}")));
        }
        Ok(bytes)
    }
}

fn smoothstep(w: f64) -> f64 {
    let w = w.clamp(0.0, 1.0);
    w * w * (3.0 - 2.0 * w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: u64, value: u8) -> Frame {
        Frame { index, pts: index as i64, width: 2, height: 1, rgb: vec![value; 6] }
    }

    #[test]
    fn the_last_frames_fade_into_the_held_first_ones() {
        let dir = tempfile::tempdir().unwrap();
        let looped = Loop::new(8, 24.0, dir.path()).unwrap();
        assert_eq!((looped.overlap, looped.dreams()), (2, 10));
        // Dream 0 and 1 are held; 2..7 are output frames 0..5; 8 and 9 fade into 0 and 1.
        assert!(looped.output(frame(0, 200)).unwrap().is_none());
        assert!(looped.output(frame(1, 200)).unwrap().is_none());
        let plain = looped.output(frame(2, 10)).unwrap().unwrap();
        assert_eq!((plain.index, plain.pts, plain.rgb[0]), (0, 0, 10));
        let first_fade = looped.output(frame(8, 0)).unwrap().unwrap();
        let last_fade = looped.output(frame(9, 0)).unwrap().unwrap();
        assert_eq!((first_fade.index, last_fade.index), (6, 7));
        // Shares smoothstep(1/3) and smoothstep(2/3) of the held frames.
        assert_eq!((first_fade.rgb[0], last_fade.rgb[0]), (52, 148));
        // Schedules: the held dreams and their fades follow the output's last frames.
        assert_eq!((0..10).map(|d| looped.output_index(d)).collect::<Vec<_>>(), vec![6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(Loop::new(3, 24.0, dir.path()).unwrap_err().to_string().contains("at least 4 frames"));
        assert_eq!(Loop::new(480, 24.0, dir.path()).unwrap().overlap, 48);
    }
}
