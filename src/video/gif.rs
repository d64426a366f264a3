//! GIF out: the finished segments of a render, decoded again and quantised frame by frame (each
//! frame gets its own 256-colour palette, by NeuQuant), looping forever, with each frame's delay
//! taken from the timestamps so variable frame rates survive to the centisecond GIF allows.
#![cfg(feature = "video")]
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::container::MATROSKA;
use super::encode::StreamSpec;
use super::segments::{Join, Segmented};
use super::writer::{FrameFormat, FrameWriter};
use super::{Codec, Frame, ReadOptions, VideoError, VideoReader};

/// NeuQuant's sampling: 1 is best and slowest, 30 fastest; 10 is gifski's and FFmpeg's balance.
const QUANTISER_SPEED: i32 = 10;

/// The writer of a GIF at `output`, its segments in `work`.
pub(crate) fn writer(output: &Path, frames: FrameFormat, work: &Path) -> Box<dyn FrameWriter> {
    Box::new(Segmented::new(GifJoin { output: output.to_owned() }, work, frames))
}

/// A GIF: made of segments that keep every pixel (H.264 4:4:4, odd sizes too), quantised at the end.
struct GifJoin {
    output: PathBuf,
}

impl Join for GifJoin {
    fn segment(&self) -> (&'static str, StreamSpec) {
        ("mkv", StreamSpec::video(MATROSKA, Codec::H264, None, true))
    }

    fn join(&self, segments: &[PathBuf]) -> Result<(), VideoError> {
        write_gif(segments, &self.output)
    }
}

/// Writes `segments` (in order) as one looping GIF at `output`, through a temporary name.
pub(crate) fn write_gif(segments: &[PathBuf], output: &Path) -> Result<(), VideoError> {
    let temp = crate::output::temporary_path(output);
    let result = write_to(segments, output, &temp).and_then(|()| {
        std::fs::rename(&temp, output)
            .map_err(|e| VideoError::io(output, "cannot move the finished file into place", e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn write_to(segments: &[PathBuf], output: &Path, temp: &Path) -> Result<(), VideoError> {
    let file = File::create(temp).map_err(|e| VideoError::io(output, "cannot create the output file", e))?;
    let mut writer: Option<gif::Encoder<BufWriter<File>>> = None;
    let mut file = Some(BufWriter::new(file));
    let mut clock = Clock::default();
    let mut frames = 0u64;
    for segment in segments {
        // Times within a segment come from its timestamps; a segment's last frame lasts the nominal
        // frame time, since each segment file keeps its own time origin.
        let mut reader = VideoReader::open(segment, &ReadOptions::default())?;
        let (tick, nominal) = (reader.info().time_base.as_f64(), 1.0 / reader.info().frame_rate.as_f64());
        let mut pending: Option<Frame> = None;
        while let Some(frame) = reader.next_frame()? {
            if let Some(previous) = pending.take() {
                let delay = clock.centiseconds((frame.pts - previous.pts) as f64 * tick);
                write_frame(&mut writer, &mut file, output, &previous, delay)?;
                frames += 1;
            }
            pending = Some(frame);
        }
        if let Some(last) = pending {
            write_frame(&mut writer, &mut file, output, &last, clock.centiseconds(nominal))?;
            frames += 1;
        }
    }
    if frames == 0 {
        return Err(VideoError::invalid(output, "no frames to write"));
    }
    let encoder = writer.ok_or_else(|| VideoError::invalid(output, "no frames to write"))?;
    let mut file = encoder.into_inner().map_err(|e| VideoError::io(output, "cannot write", e))?;
    std::io::Write::flush(&mut file).map_err(|e| VideoError::io(output, "cannot write", e))
}

/// Quantises and writes one frame, opening the GIF on the first.
fn write_frame(
    writer: &mut Option<gif::Encoder<BufWriter<File>>>,
    file: &mut Option<BufWriter<File>>,
    output: &Path,
    frame: &Frame,
    delay: u16,
) -> Result<(), VideoError> {
    let (Ok(width), Ok(height)) = (u16::try_from(frame.width), u16::try_from(frame.height)) else {
        return Err(VideoError::invalid(output, format!("{}x{} is too big for a GIF", frame.width, frame.height)));
    };
    let gif_error = |e: gif::EncodingError| match e {
        gif::EncodingError::Io(e) => VideoError::io(output, "cannot write", e),
        other => VideoError::invalid(output, other.to_string()),
    };
    if writer.is_none() {
        let sink = file.take().ok_or_else(|| VideoError::invalid(output, "the GIF was already closed"))?;
        let mut encoder = gif::Encoder::new(sink, width, height, &[]).map_err(gif_error)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(gif_error)?;
        *writer = Some(encoder);
    }
    let mut quantised = gif::Frame::from_rgb_speed(width, height, &frame.rgb, QUANTISER_SPEED);
    quantised.delay = delay;
    match writer {
        Some(encoder) => encoder.write_frame(&quantised).map_err(gif_error),
        None => Ok(()),
    }
}

/// Turns frame durations into GIF's whole centiseconds, carrying the rounding so the total
/// length stays true (24 fps alternates 4 and 5).
#[derive(Default)]
struct Clock {
    owed: f64,
}

impl Clock {
    fn centiseconds(&mut self, seconds: f64) -> u16 {
        let wanted = self.owed + seconds.max(0.0) * 100.0;
        // Browsers show delays under 2 cs as 10 cs: never write less than 2.
        let delay = wanted.round().clamp(2.0, f64::from(u16::MAX));
        self.owed = wanted - delay;
        delay as u16
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn delays_carry_their_rounding() {
        let mut clock = Clock::default();
        let delays: Vec<u16> = (0..24).map(|_| clock.centiseconds(1.0 / 24.0)).collect();
        assert_eq!(delays.iter().map(|&d| u32::from(d)).sum::<u32>(), 100, "{delays:?}");
        assert!(delays.iter().all(|&d| d == 4 || d == 5), "{delays:?}");
    }
}
