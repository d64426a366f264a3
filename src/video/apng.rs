//! APNG out (`-o loop.apng`): lossless frames in FFmpeg's own `apng` encoder and muxer, looping
//! forever. Written as APNG segments in the work folder (each checkpoint closes one), whose frames
//! are encoded again into the one output at the end, at the render's frame rate.
#![cfg(feature = "video")]
use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg_next as ffmpeg;

use super::encode::{StreamSpec, WriteOptions};
use super::segments::{Join, Segmented};
use super::writer::{FrameFormat, FrameWriter};
use super::{Frame, Rational, ReadOptions, VideoError, VideoReader, VideoWriter};

/// The writer of an APNG at `output`, its segments in `work`.
pub(crate) fn writer(output: &Path, frames: FrameFormat, work: &Path) -> Box<dyn FrameWriter> {
    Box::new(Segmented::new(ApngJoin { output: output.to_owned(), frames }, work, frames))
}

struct ApngJoin {
    output: PathBuf,
    frames: FrameFormat,
}

/// RGB in, RGB out: every pixel as dreamed; `plays` 0 loops forever.
fn stream() -> StreamSpec {
    StreamSpec {
        muxer: "apng",
        encoders: &["apng"],
        options: Vec::new(),
        pixel: Pixel::RGB24,
        muxer_options: vec![("plays", "0".to_string())],
        container: None,
    }
}

impl Join for ApngJoin {
    fn segment(&self) -> (&'static str, StreamSpec) {
        ("apng", stream())
    }

    fn join(&self, segments: &[PathBuf]) -> Result<(), VideoError> {
        let rate = self.frames.frame_rate;
        let frames = FrameFormat { time_base: Rational::new(rate.den, rate.num), ..self.frames };
        let mut writer = VideoWriter::create(&self.output, &WriteOptions { frames, stream: stream(), sound: None })?;
        let mut written = 0u64;
        for segment in segments {
            let mut reader = VideoReader::open(segment, &ReadOptions::default())?;
            while let Some(frame) = reader.next_frame()? {
                writer.write_frame(&Frame { index: written, pts: written as i64, ..frame })?;
                written += 1;
            }
        }
        writer.finish()
    }
}
