//! Joining finished segment files (video only, all written by `VideoWriter` with the same
//! settings) into one output by stream copy, adding the soundtrack.
//!
//! Matroska segments keep milliseconds and no dts, so pts are snapped back onto the nominal
//! frame grid (within that rounding) and dts are rebuilt from the pts order across segments.
#![cfg(feature = "video")]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use ffmpeg::{Packet, codec, encoder, format, media};
use ffmpeg_next as ffmpeg;

use super::Codec;
use super::audio::AudioMux;
use super::container::{Container, MATROSKA, codec_of};
use super::encode::{AUDIO_LAG_SECONDS, StreamSpec, VideoWriter, WriteOptions};
use super::segments::{Join, Segmented};
use super::sound_plan::{SoundPlan, plan_sound};
use super::writer::AudioSource;
use super::writer::{FrameFormat, FrameWriter};
use super::{Rational, VideoError, init, show};

/// How to join segments.
#[derive(Clone, Debug, PartialEq)]
pub struct ConcatOptions {
    /// Nominal frame rate, stored in the stream header (avg/r_frame_rate).
    pub frame_rate: Rational,
    /// Soundtrack, as in `WriteOptions::audio`: copied when the container takes it, else transcoded.
    pub audio: Option<AudioSource>,
}

/// The writer of `output` in a container with its codec (and CRF), its segments in `work`: refused
/// before any frame when it could not be written, its sound planned.
pub(crate) fn writer(
    output: &Path,
    encoding: (&'static Container, Codec, Option<u32>),
    frames: FrameFormat,
    work: &Path,
    sound: Option<&AudioSource>,
) -> Result<Box<dyn FrameWriter>, VideoError> {
    Ok(Box::new(Segmented::new(ContainerJoin::new(output, encoding, frames, sound)?, work, frames)))
}

/// A container with its codec: segments in Matroska with the output's codec and CRF, joined by
/// stream copy with the sound planned before the first frame.
struct ContainerJoin {
    output: PathBuf,
    container: &'static Container,
    codec: Codec,
    crf: Option<u32>,
    frame_rate: Rational,
    sound: Option<SoundPlan>,
}

impl ContainerJoin {
    /// Refuses, before any frame, an output that could not be written (a codec the container
    /// refuses, a missing encoder: a writer for it is opened and dropped), then plans the sound.
    fn new(
        output: &Path,
        (container, codec, crf): (&'static Container, Codec, Option<u32>),
        frames: FrameFormat,
        sound: Option<&AudioSource>,
    ) -> Result<Self, VideoError> {
        let stream = StreamSpec::video(container, codec, crf, false);
        drop(VideoWriter::create(output, &WriteOptions { frames, stream, sound: None })?);
        let sound = sound.map(|source| plan_sound(source, container)).transpose()?;
        Ok(ContainerJoin { output: output.to_owned(), container, codec, crf, frame_rate: frames.frame_rate, sound })
    }
}

impl Join for ContainerJoin {
    fn segment(&self) -> (&'static str, StreamSpec) {
        ("mkv", StreamSpec::video(MATROSKA, self.codec, self.crf, false))
    }

    fn join(&self, segments: &[PathBuf]) -> Result<(), VideoError> {
        join_segments(segments, &self.output, self.container, self.frame_rate, self.sound.as_ref())
    }
}

/// One opened segment and the facts about its video stream that must match across segments.
struct Segment {
    ictx: format::context::Input,
    index: usize,
    tb: ffmpeg::Rational,
    params: codec::Parameters,
    id: codec::Id,
    size: (i32, i32),
    delay: i64,
}

/// Timestamp state carried across segments, in ticks of `tb`.
struct Timeline {
    tb: ffmpeg::Rational,
    /// One nominal frame.
    step: i64,
    /// Upcoming pts not yet used as a dts (a packet's dts is the smallest pts `delay` packets back).
    pending: BinaryHeap<Reverse<i64>>,
    /// Frames of reordering (B-frames) in the segments: how far dts trails pts.
    delay: i64,
    first_pts: Option<i64>,
    /// Largest pts so far: the next segment must start after it.
    latest: i64,
    written: i64,
    end: i64,
}

/// Joins video-only segment files, in order, into `output` in `container` by stream copy, adding
/// the sound as [`plan_sound`] decides now (a render decides it before its first frame and calls
/// [`join_segments`] with that plan). See [`join_segments`] for failures.
pub fn concat_segments(
    segments: &[PathBuf],
    output: &Path,
    container: &'static Container,
    options: &ConcatOptions,
) -> Result<(), VideoError> {
    let sound = options.audio.as_ref().map(|source| plan_sound(source, container)).transpose()?;
    join_segments(segments, output, container, options.frame_rate, sound.as_ref())
}

/// Joins video-only segment files, in order, into `output` by stream copy, with the sound of
/// `sound` copied or transcoded as planned (`None`: silent). The output is written under a
/// temporary name and renamed into place when complete: a failure leaves nothing under `output`,
/// keeps an existing file there, and never touches the segments (they are only read), so the
/// caller can join them again, with other sound or none.
pub fn join_segments(
    segments: &[PathBuf],
    output: &Path,
    container: &'static Container,
    frame_rate: Rational,
    sound: Option<&SoundPlan>,
) -> Result<(), VideoError> {
    init()?;
    let first_path = segments.first().ok_or_else(|| VideoError::invalid(output, "no segments to join"))?;
    if !frame_rate.is_valid() {
        return Err(VideoError::invalid(output, format!("invalid frame rate {frame_rate}")));
    }
    if let Some(plan) = sound
        && plan.container() != container
    {
        let what = format!("the sound was planned for .{}, not .{}", plan.container().extension, container.extension);
        return Err(VideoError::invalid(output, what));
    }
    let temp = crate::output::temporary_path(output);
    if let Some(segment) = segments.iter().find(|s| same_file(s, output) || same_file(s, &temp)) {
        return Err(VideoError::invalid(segment, "a segment cannot be the output it is joined into"));
    }
    let first = Segment::open(first_path)?;
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| VideoError::io(output, "cannot create the output folder", e))?;
    }
    let mut octx = format::output_as(&temp, container.muxer)
        .map_err(|e| VideoError::ffmpeg(output, "cannot create the output file", e))?;
    let result = join(&mut octx, output, container, first, segments, frame_rate, sound);
    // Close the file (flushing it) before it is renamed or removed.
    drop(octx);
    let result = result.and_then(|()| {
        std::fs::rename(&temp, output)
            .map_err(|e| VideoError::io(output, "cannot move the finished file into place", e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// True when both paths exist and name the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Header, every segment's packets (`first` is `segments[0]`, already open) with the audio interleaved, trailer.
fn join(
    octx: &mut format::context::Output,
    output: &Path,
    container: &Container,
    first: Segment,
    segments: &[PathBuf],
    frame_rate: Rational,
    sound: Option<&SoundPlan>,
) -> Result<(), VideoError> {
    let codec = codec_of(first.id).ok_or_else(|| {
        VideoError::invalid(output, format!("segments hold {}, not a codec dreamreel writes", first.id.name()))
    })?;
    if !container.accepts(octx, codec) {
        let ext = container.extension.to_string();
        return Err(VideoError::IncompatibleCodec { path: show(output), codec, ext });
    }
    let mut timeline = Timeline::new(frame_rate, first.tb, first.delay);
    let stream_index = {
        let mut ost = octx
            .add_stream(encoder::find(codec::Id::None))
            .map_err(|e| VideoError::ffmpeg(output, "cannot add the video stream", e))?;
        ost.set_parameters(first.params.clone());
        // A segment's tag is the mkv muxer's; the output's own (hvc1 for HEVC in mp4/mov) or none.
        let tag = container.codec_tag(codec);
        // SAFETY: the stream's codecpar is valid while `ost` lives.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = tag;
        }
        ost.set_time_base(timeline.tb);
        ost.set_avg_frame_rate(ffmpeg::Rational::from(frame_rate));
        ost.set_rate(ffmpeg::Rational::from(frame_rate));
        ost.index()
    };
    let mut audio = match sound {
        Some(plan) => AudioMux::open(plan, octx)?,
        None => None,
    };
    octx.write_header().map_err(|e| VideoError::ffmpeg(output, "cannot write the file header", e))?;
    let stream_tb = octx.stream(stream_index).map(|s| s.time_base()).unwrap_or(timeline.tb);
    if let Some(audio) = &mut audio {
        audio.header_written(octx);
    }

    let describe = |s: &Segment| format!("{} {}x{}", s.id.name(), s.size.0, s.size.1);
    let (key, expected) = ((first.id, first.size), describe(&first));
    let mut first = Some(first);
    for path in segments {
        let segment = match first.take() {
            Some(segment) => segment,
            None => Segment::open(path)?,
        };
        if (segment.id, segment.size) != key {
            let what = format!("segment is {}, unlike the first segment ({expected})", describe(&segment));
            return Err(VideoError::invalid(path, what));
        }
        timeline.copy(octx, path, segment, stream_index, stream_tb, audio.as_mut())?;
    }
    if let Some(audio) = &mut audio {
        audio.finish(octx, timeline.seconds(timeline.end))?;
    }
    octx.write_trailer().map_err(|e| VideoError::ffmpeg(output, "cannot finish the file", e))
}

impl Segment {
    fn open(path: &Path) -> Result<Self, VideoError> {
        if !path.exists() {
            return Err(VideoError::NotFound { path: show(path) });
        }
        let ictx =
            format::input(&path).map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })?;
        let stream = ictx.streams().best(media::Type::Video).ok_or_else(|| VideoError::NoVideoStream {
            path: show(path),
            what: match ictx.streams().best(media::Type::Audio) {
                Some(_) => "audio only".to_string(),
                None => "no audio or video streams".to_string(),
            },
        })?;
        let (index, tb, params) = (stream.index(), stream.time_base(), stream.parameters());
        // SAFETY: plain field reads of the stream's valid codecpar.
        let (size, delay) = unsafe {
            let raw = &*params.as_ptr();
            ((raw.width, raw.height), i64::from(raw.video_delay.max(0)))
        };
        let id = params.id();
        Ok(Segment { ictx, index, tb, params, id, size, delay })
    }
}

impl Timeline {
    /// Ticks that hold both the nominal frame grid and the segments' own ticks exactly.
    fn new(frame_rate: Rational, segment_tb: ffmpeg::Rational, delay: i64) -> Self {
        let (num, den) = (i64::from(frame_rate.num), i64::from(segment_tb.denominator().max(1)));
        let ticks = num / gcd(num, den) * den;
        let tb = i32::try_from(ticks).map_or(segment_tb, |t| ffmpeg::Rational::new(1, t));
        let step = (f64::from(tb.invert()) / frame_rate.as_f64()).round().max(1.0) as i64;
        Timeline { tb, step, pending: BinaryHeap::new(), delay, first_pts: None, latest: i64::MIN, written: 0, end: 0 }
    }

    fn seconds(&self, ticks: i64) -> f64 {
        ticks as f64 * f64::from(self.tb)
    }

    /// Nearest frame-grid point when `ticks` is within the segment's rounding of it.
    fn snap(&self, ticks: i64, rounding: i64) -> i64 {
        let grid = (ticks + self.step / 2).div_euclid(self.step) * self.step;
        if 2 * (ticks - grid).abs() <= rounding { grid } else { ticks }
    }

    /// Write one segment's video packets, pumping audio up to the current video time.
    fn copy(
        &mut self,
        octx: &mut format::context::Output,
        path: &Path,
        mut segment: Segment,
        stream_index: usize,
        stream_tb: ffmpeg::Rational,
        mut audio: Option<&mut AudioMux>,
    ) -> Result<(), VideoError> {
        let rescale = |ts: i64| ffmpeg::Rescale::rescale(&ts, segment.tb, self.tb);
        let rounding = rescale(1).max(1);
        let previous = self.latest;
        let mut packet = Packet::empty();
        loop {
            match packet.read(&mut segment.ictx) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => return Err(VideoError::ffmpeg(path, "cannot read the segment", e)),
            }
            if packet.stream() != segment.index {
                continue;
            }
            let pts = packet.pts().ok_or_else(|| VideoError::invalid(path, "video packet without a timestamp"))?;
            let pts = self.snap(rescale(pts), rounding);
            // Overlapping timestamps would only surface as an obscure muxer error (or a jump back in time).
            if pts <= previous {
                return Err(VideoError::invalid(
                    path,
                    format!("segment has a frame at {:.3}s, not after the previous segment", self.seconds(pts)),
                ));
            }
            self.latest = self.latest.max(pts);
            let first_pts = *self.first_pts.get_or_insert(pts);
            self.pending.push(Reverse(pts));
            let dts = if self.written < self.delay {
                // Before the first reordered frame is out: count back from the first pts, like the encoder does.
                first_pts - (self.delay - self.written) * self.step
            } else {
                self.pending.pop().map_or(pts, |Reverse(smallest)| smallest)
            };
            // Matroska durations are truncated, so they may be a whole tick short.
            let duration = match self.snap(rescale(packet.duration()), 2 * rounding) {
                d if d > 0 => d,
                _ => self.step,
            };
            self.end = self.end.max(pts + duration);
            self.written += 1;
            packet.set_pts(Some(pts));
            packet.set_dts(Some(dts));
            packet.set_duration(duration);
            packet.rescale_ts(self.tb, stream_tb);
            packet.set_stream(stream_index);
            packet.set_position(-1);
            packet.write_interleaved(octx).map_err(|e| VideoError::ffmpeg(path, "cannot write video", e))?;
            if let Some(audio) = audio.as_deref_mut() {
                audio.pump(octx, self.seconds(dts) - AUDIO_LAG_SECONDS)?;
            }
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs().max(1) } else { gcd(b, a % b) }
}

/// The encoder setting that produced this stream.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::codec::Codec;
    use crate::video::testutil::{container_of, ffmpeg as run_ffmpeg, leftovers, stream_span, write_options};
    use crate::video::{Frame, ReadOptions, VideoReader, VideoWriter};
    use std::process::Command;

    /// Solid frames whose shade encodes the absolute index, at 24 fps.
    fn write_segment(path: &Path, frames: std::ops::Range<u64>, codec: Codec, size: (u32, u32)) -> PathBuf {
        let format = FrameFormat {
            width: size.0,
            height: size.1,
            time_base: Rational::new(1, 24),
            frame_rate: Rational::new(24, 1),
        };
        let opts = write_options(path, format, Some(codec), None);
        let mut writer = VideoWriter::create(path, &opts).unwrap();
        for index in frames {
            let rgb = vec![shade(index); (size.0 * size.1 * 3) as usize];
            writer.write_frame(&Frame { index, pts: index as i64, width: size.0, height: size.1, rgb }).unwrap();
        }
        writer.finish().unwrap();
        path.to_path_buf()
    }

    fn shade(index: u64) -> u8 {
        (20 + index * 10) as u8
    }

    fn options(audio: Option<&Path>) -> ConcatOptions {
        ConcatOptions {
            frame_rate: Rational::new(24, 1),
            audio: audio.map(|p| AudioSource { path: p.to_path_buf(), start_seconds: 0.0, duration_seconds: None }),
        }
    }

    fn probe(path: &Path, stream: &str, entries: &str) -> String {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", stream, "-show_entries", entries])
            .args(["-of", "csv=p=0"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn joins_segments_with_audio_in_each_container() {
        let dir = tempfile::tempdir().unwrap();
        let sine = dir.path().join("sine.m4a");
        run_ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", sine.to_str().unwrap()]);
        let cases =
            [("out.mp4", Codec::H264), ("out.mkv", Codec::H264), ("out.webm", Codec::Vp9), ("out.mov", Codec::H265)];
        for (name, codec) in cases {
            let segments = [
                write_segment(&dir.path().join(format!("{codec}-a.mkv")), 0..10, codec, (64, 48)),
                write_segment(&dir.path().join(format!("{codec}-b.mkv")), 10..20, codec, (64, 48)),
            ];
            let out = dir.path().join(name);
            concat_segments(&segments, &out, container_of(&out), &options(Some(&sine))).unwrap();
            assert_eq!(
                probe(&out, "v:0", "stream=nb_read_frames,r_frame_rate,avg_frame_rate"),
                "24/1,24/1,20",
                "{name}"
            );

            let mut reader = VideoReader::open(&out, &ReadOptions::default()).unwrap();
            let info = reader.info().clone();
            assert_eq!((info.width, info.height, info.frame_rate), (64, 48, Rational::new(24, 1)), "{name}");
            assert_eq!(info.audio_streams, 1, "{name}");
            let mut frames = Vec::new();
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push(frame);
            }
            assert_eq!(frames.len(), 20, "{name}");
            let at = frames[15].pts as f64 * info.time_base.as_f64();
            assert!((at - 15.0 / 24.0).abs() < 1e-3, "{name}: frame 15 at {at}");
            let got = &frames[15].rgb[..3];
            assert!(got.iter().all(|&c| c.abs_diff(shade(15)) <= 3), "{name}: {got:?}");

            // webm shifts everything by Opus's pre-skip (a few ms), so compare lengths, not starts.
            let (v0, v1) = stream_span(&out, media::Type::Video).unwrap();
            assert!((v1 - v0 - 20.0 / 24.0).abs() < 1e-3, "{name}: video {v0}..{v1}");
            let (a0, a1) = stream_span(&out, media::Type::Audio).unwrap();
            let audio_seconds = a1 - a0.max(0.0);
            assert!((audio_seconds - (v1 - v0)).abs() <= 1.0 / 24.0, "{name}: audio {a0}..{a1}, video {v0}..{v1}");
            assert!(leftovers(dir.path()).is_empty(), "{name}");
        }
        assert_eq!(probe(&dir.path().join("out.webm"), "a:0", "stream=codec_name"), "opus");
        assert_eq!(probe(&dir.path().join("out.mov"), "v:0", "stream=codec_tag_string"), "hvc1");
    }

    #[test]
    fn a_failed_join_keeps_the_segments_for_a_join_without_sound() {
        let dir = tempfile::tempdir().unwrap();
        let sound = dir.path().join("sound.flac");
        run_ffmpeg(&["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "flac", sound.to_str().unwrap()]);
        let segments = [
            write_segment(&dir.path().join("a.mkv"), 0..10, Codec::H264, (64, 48)),
            write_segment(&dir.path().join("b.mkv"), 10..20, Codec::H264, (64, 48)),
        ];
        let bytes = |paths: &[PathBuf]| paths.iter().map(|p| std::fs::read(p).unwrap()).collect::<Vec<_>>();
        let before = bytes(&segments);
        let out = dir.path().join("out.mp4");
        let source = AudioSource { path: sound.clone(), start_seconds: 0.0, duration_seconds: None };
        let plan = plan_sound(&source, container_of(&out)).unwrap();
        assert_eq!(plan.to_string(), "sound: flac transcoded to aac");

        // The sound goes away between the plan and the join: the join fails at its end.
        std::fs::remove_file(&sound).unwrap();
        let rate = Rational::new(24, 1);
        let mp4 = container_of(&out);
        let err = join_segments(&segments, &out, mp4, rate, Some(&plan)).unwrap_err();
        assert!(err.to_string().ends_with("sound.flac: file not found"), "{err}");
        let mkv = dir.path().join("out.mkv");
        let err = join_segments(&segments, &mkv, container_of(&mkv), rate, Some(&plan)).unwrap_err();
        assert!(err.to_string().ends_with("out.mkv: the sound was planned for .mp4, not .mkv"), "{err}");
        let err = join_segments(&segments, &segments[1], MATROSKA, rate, None).unwrap_err();
        assert!(err.to_string().ends_with("b.mkv: a segment cannot be the output it is joined into"), "{err}");
        assert!(!out.exists());
        assert!(leftovers(dir.path()).is_empty());
        assert_eq!(bytes(&segments), before, "a failed join changed a segment");

        // The same segments join again without the sound.
        join_segments(&segments, &out, mp4, rate, None).unwrap();
        assert_eq!(probe(&out, "v:0", "stream=nb_read_frames"), "20");
        assert_eq!(probe(&out, "a", "stream=codec_name"), "");
        assert_eq!(bytes(&segments), before);
    }

    #[test]
    fn refuses_bad_segment_lists_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.mp4");
        let mp4 = container_of(&out);
        let err = concat_segments(&[], &out, mp4, &options(None)).unwrap_err();
        assert!(err.to_string().ends_with("out.mp4: no segments to join"), "{err}");

        let a = write_segment(&dir.path().join("a.mkv"), 0..10, Codec::H264, (64, 48));
        let small = write_segment(&dir.path().join("small.mkv"), 10..20, Codec::H264, (32, 32));
        let err = concat_segments(&[a.clone(), small], &out, mp4, &options(None)).unwrap_err();
        assert!(
            err.to_string().ends_with("small.mkv: segment is h264 32x32, unlike the first segment (h264 64x48)"),
            "{err}"
        );
        assert!(!out.exists());

        let b = write_segment(&dir.path().join("b.mkv"), 10..20, Codec::H264, (64, 48));
        let err = concat_segments(&[b, a.clone()], &out, mp4, &options(None)).unwrap_err();
        assert!(
            err.to_string().ends_with("a.mkv: segment has a frame at 0.000s, not after the previous segment"),
            "{err}"
        );
        let err = concat_segments(&[a.clone(), dir.path().join("gone.mkv")], &out, mp4, &options(None)).unwrap_err();
        assert!(err.to_string().ends_with("gone.mkv: file not found"), "{err}");
        let vp9 = write_segment(&dir.path().join("vp9.mkv"), 0..4, Codec::Vp9, (64, 48));
        let mov = dir.path().join("out.mov");
        let err = concat_segments(&[vp9], &mov, container_of(&mov), &options(None)).unwrap_err();
        assert!(err.to_string().ends_with("out.mov: codec vp9 cannot be written in .mov"), "{err}");

        // A failed join never touches an existing output.
        std::fs::write(&out, b"old").unwrap();
        let bad_audio = ConcatOptions { audio: options(Some(&dir.path().join("nope.wav"))).audio, ..options(None) };
        assert!(concat_segments(&[a], &out, mp4, &bad_audio).is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }
}
