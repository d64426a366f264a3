//! The writers of a video render: frames written as segments in the work folder (each checkpoint
//! closes one) and joined into the output at the end, as a container, GIF or APNG does; or PNG
//! frames written straight into the output's pattern.
#![cfg(feature = "video")]
use std::path::{Path, PathBuf};

use super::encode::{StreamSpec, WriteOptions};
use super::writer::{FrameFormat, FrameWriter};
use super::{Frame, VideoError, VideoWriter, remove_frames_after};
use crate::error::Result;

/// How an output made of segments encodes them and makes itself of them at the end.
pub(crate) trait Join {
    /// The segments' extension and encoding.
    fn segment(&self) -> (&'static str, StreamSpec);
    /// Makes the output of `segments`, in order, with its sound.
    fn join(&self, segments: &[PathBuf]) -> std::result::Result<(), VideoError>;
}

/// Frames written as segments of the work folder, named by their first frame, joined by `J`.
pub(crate) struct Segmented<J: Join> {
    join: J,
    work: PathBuf,
    frames: FrameFormat,
    /// The open segment and its name.
    open: Option<(VideoWriter, String)>,
}

impl<J: Join> Segmented<J> {
    pub(crate) fn new(join: J, work: &Path, frames: FrameFormat) -> Self {
        Segmented { join, work: work.to_owned(), frames, open: None }
    }
}

impl<J: Join> FrameWriter for Segmented<J> {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        let (writer, _) = match &mut self.open {
            Some(open) => open,
            None => {
                let (extension, stream) = self.join.segment();
                let name = format!("segment-{:08}.{extension}", frame.index);
                let options = WriteOptions { frames: self.frames, stream, sound: None };
                self.open.insert((VideoWriter::create(&self.work.join(&name), &options)?, name))
            }
        };
        Ok(writer.write_frame(frame)?)
    }

    fn checkpoint(&mut self) -> Result<Option<String>> {
        let Some((writer, name)) = self.open.take() else { return Ok(None) };
        writer.finish()?;
        Ok(Some(name))
    }

    fn finish(self: Box<Self>, segments: &[PathBuf], _frames: u64) -> Result<()> {
        Ok(self.join.join(segments)?)
    }

    fn abandon(self: Box<Self>) {}
}

/// PNG frames written straight into the output's pattern (`frames/%05d.png`), numbered by their
/// place in the render: each checkpoint closes the frames so far.
pub(crate) struct Sequence {
    pattern: PathBuf,
    frames: FrameFormat,
    open: Option<VideoWriter>,
}

impl Sequence {
    pub(crate) fn new(pattern: &Path, frames: FrameFormat) -> Self {
        Sequence { pattern: pattern.to_owned(), frames, open: None }
    }
}

impl FrameWriter for Sequence {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        let writer = match &mut self.open {
            Some(writer) => writer,
            None => self.open.insert(VideoWriter::sequence(&self.pattern, &self.frames)?),
        };
        Ok(writer.write_frame(frame)?)
    }

    fn checkpoint(&mut self) -> Result<Option<String>> {
        if let Some(writer) = self.open.take() {
            writer.finish()?;
        }
        Ok(None)
    }

    /// The frames are in place already; an earlier, longer render's frames after them go.
    fn finish(mut self: Box<Self>, _segments: &[PathBuf], frames: u64) -> Result<()> {
        self.checkpoint()?;
        Ok(remove_frames_after(&self.pattern, frames)?)
    }

    fn abandon(self: Box<Self>) {}
}

/// The writer of PNG frames at `pattern`.
pub(crate) fn sequence(pattern: &Path, frames: FrameFormat) -> Box<dyn FrameWriter> {
    Box::new(Sequence::new(pattern, frames))
}
