//! The encode stage: the output's writer on its own thread, a checkpoint after each segment,
//! the output (or a part's record) made at the end.
use super::stages::ToEncoder;
use crate::error::{Error, Result};
use crate::frame::rgb::Frame;
use crate::job::Output;
use crate::run::checkpoint::{Checkpoint, WorkFolder};
use crate::run::parts::{self, PartRecord};
use crate::video::{AudioSource, FrameFormat, FrameWriter};
use crossbeam_channel::{Receiver, Sender};
use std::path::PathBuf;

/// The encode stage: the output's writer (segments in the work folder, or frames straight into
/// an image sequence), a checkpoint after each segment, and the output made at the end.
pub(super) struct EncodeStage<'a> {
    pub(super) output: &'a Output,
    pub(super) work: WorkFolder,
    pub(super) checkpoint: Checkpoint,
    pub(super) frames: FrameFormat,
    pub(super) sound: Option<AudioSource>,
    /// A part of a film: what its record says, written instead of the output.
    pub(super) record: Option<PartRecord>,
}

impl EncodeStage<'_> {
    /// Makes the output's writer (saying on `ready` whether it could), then writes what the
    /// dream sends. A writer dropped unfinished removes what it wrote since the last checkpoint,
    /// and only that.
    pub(super) fn run(mut self, ready: Sender<Result<()>>, messages: Receiver<ToEncoder>) -> Result<()> {
        let mut writer = match self.output.writer(self.frames, self.work.path(), self.sound.as_ref()) {
            Ok(writer) => writer,
            Err(e) => {
                let _ = ready.send(Err(e));
                return Ok(());
            }
        };
        let _ = ready.send(Ok(()));
        for message in messages {
            match message {
                ToEncoder::Frame(frame) => {
                    writer.write(&frame)?;
                    crate::run::test_hooks::pause(crate::run::test_hooks::Stage::Encode);
                }
                ToEncoder::Aside(frame) => self.set_aside(&frame)?,
                ToEncoder::Checkpoint { frames_done, last } => {
                    self.checkpoint.segments.extend(writer.checkpoint()?);
                    self.checkpoint.frames_done = frames_done;
                    self.work.save(&mut self.checkpoint, &last)?;
                }
                ToEncoder::Finish => return self.finish(writer),
                ToEncoder::Stopped => {
                    self.stop(writer);
                    return Ok(());
                }
            }
        }
        writer.abandon();
        Ok(())
    }

    /// Saves a frame of a cross-fade as a PNG in the work folder, atomically.
    pub(super) fn set_aside(&self, frame: &Frame) -> Result<()> {
        let path = self.work.file(&parts::fade_name(frame.index, frame.pts));
        crate::frame::image_io::save_rgb8(frame.width, frame.height, frame.rgb.clone(), &path, image::ImageFormat::Png)
    }

    /// Makes the output of the finished segments, with the sound; a part of a film records
    /// itself instead, for the join.
    pub(super) fn finish(self, writer: Box<dyn FrameWriter>) -> Result<()> {
        if let Some(record) = &self.record {
            writer.abandon();
            let part = record.range.part();
            let last = record.range.end.map_or(self.checkpoint.frames_done, |end| end.min(self.checkpoint.frames_done));
            let record = PartRecord {
                written: last.saturating_sub(record.range.start),
                segments: self.checkpoint.segments.clone(),
                ..record.clone()
            };
            return parts::save_record(self.output.path(), part, &record);
        }
        crate::run::test_hooks::pause(crate::run::test_hooks::Stage::Join);
        if self.sound.is_some() && crate::run::test_hooks::fail_sound_mux() {
            let path = self.output.path();
            return Err(Error::write(path, "the sound could not be muxed (DREAMREEL_TEST_FAIL_SOUND_MUX)"));
        }
        let segments: Vec<PathBuf> = self.checkpoint.segments.iter().map(|name| self.work.file(name)).collect();
        // A join that fails keeps the segments and the checkpoint: `--resume` (with `--no-audio`,
        // which changes no frame, if the sound was at fault) joins them again.
        writer.finish(&segments, self.checkpoint.frames_done)?;
        // The output is whole: an interrupted run's partial file beside it has served.
        if let Some(partial) = self.output.partial() {
            let _ = std::fs::remove_file(partial.path());
        }
        Ok(())
    }

    /// An interrupted render: the output stays as it was (an earlier finished one is never
    /// replaced by fewer frames), and the frames so far, every one checkpointed, are joined
    /// beside it into the output's partial file to be watched. A part of a film writes no record:
    /// it has not finished. The partial file only shows the checkpoint's frames: failing to make
    /// it loses nothing, so it is no error (the render still ends as interrupted).
    pub(super) fn stop(self, writer: Box<dyn FrameWriter>) {
        writer.abandon();
        let Some(partial) = self.output.partial().filter(|_| self.record.is_none()) else { return };
        if self.checkpoint.segments.is_empty() {
            return;
        }
        let segments: Vec<PathBuf> = self.checkpoint.segments.iter().map(|name| self.work.file(name)).collect();
        if let Ok(writer) = partial.writer(self.frames, self.work.path(), self.sound.as_ref()) {
            let _ = writer.finish(&segments, self.checkpoint.frames_done);
        }
    }
}
