//! The one interface a render writes its frames through, whatever its output: a picture, PNG
//! frames, a GIF, an APNG or a container with its codec. The decided output makes it
//! (`crate::job::Output::writer`); a render only writes, checkpoints, finishes or abandons, and
//! never asks what kind of file it writes. Built without FFmpeg too (a still's picture).
use std::path::{Path, PathBuf};

use image::ImageFormat;

use crate::error::Result;
use crate::frame::rgb::Frame;
use crate::video::rational::Rational;

/// Where a render's frames go. Frames written before a checkpoint survive an interruption; the
/// output appears, complete, only at `finish`; `abandon` leaves the output as it was.
pub trait FrameWriter {
    /// Writes the next frame (opening a segment, or the sequence, when none is open).
    fn write(&mut self, frame: &Frame) -> Result<()>;
    /// Makes the frames written so far safe: closes the open segment and names it (a file in the
    /// work folder, to be recorded in the checkpoint), or closes the frames written straight into
    /// the output (`None`).
    fn checkpoint(&mut self) -> Result<Option<String>>;
    /// Makes the output: of `segments` in order (every segment of the render, a resumed run's
    /// and, for a film, every part's) with the sound planned before the first frame; `frames` is
    /// how many frames the output holds (PNG frames after it, an earlier render's, go).
    fn finish(self: Box<Self>, segments: &[PathBuf], frames: u64) -> Result<()>;
    /// Throws away what was written since the last checkpoint, and nothing else.
    fn abandon(self: Box<Self>);
}

/// The frames a writer is given: their size and timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameFormat {
    pub width: u32,
    pub height: u32,
    /// Time base of `Frame::pts`.
    pub time_base: Rational,
    /// Nominal frame rate, stored in the stream header.
    pub frame_rate: Rational,
}

impl FrameFormat {
    /// A still's one frame.
    pub fn still(width: u32, height: u32) -> FrameFormat {
        FrameFormat { width, height, time_base: Rational::new(1, 1), frame_rate: Rational::new(1, 1) }
    }
}

/// Where the soundtrack comes from and which part of it to use.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioSource {
    pub path: PathBuf,
    /// Seconds from the start of the file (use `VideoInfo::start_seconds` to match a read span).
    pub start_seconds: f64,
    /// `None`: as long as the written video.
    pub duration_seconds: Option<f64>,
}

/// A still's picture: its one frame, written atomically in the format its name chose.
pub struct Picture {
    path: PathBuf,
    format: ImageFormat,
    frame: Option<Frame>,
}

impl Picture {
    pub fn new(path: &Path, format: ImageFormat) -> Picture {
        Picture { path: path.to_owned(), format, frame: None }
    }
}

impl FrameWriter for Picture {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        self.frame = Some(frame.clone());
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<Option<String>> {
        Ok(None)
    }

    fn finish(self: Box<Self>, _segments: &[PathBuf], _frames: u64) -> Result<()> {
        let frame = self.frame.ok_or_else(|| crate::error::Error::output(&self.path, "no picture was dreamed"))?;
        crate::frame::image_io::save_rgb8(frame.width, frame.height, frame.rgb, &self.path, self.format)
    }

    fn abandon(self: Box<Self>) {}
}
