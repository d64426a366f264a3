//! What becomes of each sound stream of a soundtrack in the output container, decided once,
//! before a render dreams its first frame: copied as it is when the muxer really takes it, else
//! transcoded (AAC for MP4/MOV/MKV, Opus or else Vorbis for WebM).
//!
//! FFmpeg's `avformat_query_codec` is not the truth: FLAC in MP4 is "experimental" (refused when
//! the header is written under normal strictness), Opus and FLAC in MOV fail at header time too.
//! So each stream is tried once: a header, its first packets and a trailer are written into
//! memory with the real stream parameters, as the final join will write them.
#![cfg(feature = "video")]

use std::ffi::CString;
use std::fmt;
use std::path::Path;
use std::ptr;

use ffmpeg::packet::Mut;
use ffmpeg::{ChannelLayout, Packet, codec, decoder, encoder, format, media};
use ffmpeg_next as ffmpeg;

use super::container::Container;
use super::writer::AudioSource;
use super::{VideoError, init, show};

/// Packets of each stream written by the trial: enough to meet per-packet checks and bitstream filters.
const TRIAL_PACKETS: usize = 8;
/// The trial stops reading the source after this many packets (of all streams) at the most.
const TRIAL_READ_LIMIT: usize = 4096;

/// The decided sound of one output: which source, and what happens to each of its sound streams.
#[derive(Clone, Debug, PartialEq)]
pub struct SoundPlan {
    source: AudioSource,
    /// The output container the plan was made for.
    container: &'static Container,
    tracks: Vec<SoundTrack>,
}

/// One sound stream of the source and what the output does with it.
#[derive(Clone, Debug, PartialEq)]
pub struct SoundTrack {
    /// The stream's index in the source file.
    pub stream: usize,
    /// The source's codec as FFmpeg names it ("flac").
    pub codec: String,
    pub action: SoundAction,
}

/// Copy a sound stream, or encode it again with the named FFmpeg encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoundAction {
    Copy,
    /// The FFmpeg encoder: "aac", "libopus" or "libvorbis".
    Transcode(&'static str),
}

impl SoundPlan {
    pub fn source(&self) -> &AudioSource {
        &self.source
    }

    pub fn tracks(&self) -> &[SoundTrack] {
        &self.tracks
    }

    /// The output container the plan was made for.
    pub fn container(&self) -> &'static Container {
        self.container
    }

    /// True when the source has no sound stream (the output will be silent).
    pub fn is_silent(&self) -> bool {
        self.tracks.is_empty()
    }

    /// The tracks that are encoded again (the pipeline may say so before dreaming).
    pub fn transcoded(&self) -> impl Iterator<Item = &SoundTrack> {
        self.tracks.iter().filter(|t| t.action != SoundAction::Copy)
    }
}

impl fmt::Display for SoundTrack {
    /// "aac copied", "flac transcoded to aac".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            SoundAction::Copy => write!(f, "{} copied", self.codec),
            SoundAction::Transcode(encoder) => write!(f, "{} transcoded to {}", self.codec, encoder_codec(encoder)),
        }
    }
}

impl fmt::Display for SoundPlan {
    /// "sound: flac transcoded to aac" (one entry per stream, joined by ", "), or "no sound".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tracks.is_empty() {
            return write!(f, "no sound");
        }
        let tracks: Vec<String> = self.tracks.iter().map(ToString::to_string).collect();
        write!(f, "sound: {}", tracks.join(", "))
    }
}

/// The codec an encoder writes, as a user knows it ("libopus" -> "opus").
fn encoder_codec(encoder: &str) -> &str {
    encoder.strip_prefix("lib").unwrap_or(encoder)
}

/// Decides, for every sound stream of `source`, whether `container` takes it as it is (tried by
/// writing it into memory) or which encoder makes it fit; fails at once, naming the file, when
/// the source cannot be read or a stream can be neither copied nor transcoded.
pub fn plan_sound(source: &AudioSource, container: &'static Container) -> Result<SoundPlan, VideoError> {
    init()?;
    let path = source.path.as_path();
    if !path.exists() {
        return Err(VideoError::NotFound { path: show(path) });
    }
    let mut ictx =
        format::input(&path).map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })?;
    // Each stream's parameters as the muxer will find them when it opens the file: copied now,
    // since reading packets lets FFmpeg's parsers change the stream's own (MP3 in MP4 does).
    let streams: Vec<(usize, codec::Parameters, ffmpeg::Rational)> = ictx
        .streams()
        .filter(|s| s.parameters().medium() == media::Type::Audio)
        // (`Parameters::clone` copies; `parameters()` is the stream's own, live.)
        .map(|s| (s.index(), s.parameters().clone(), s.time_base()))
        .collect();
    let mut tracks = Vec::new();
    if streams.is_empty() {
        return Ok(SoundPlan { source: source.clone(), container, tracks });
    }
    let packets = first_packets(&mut ictx, &streams);
    for ((stream, params, tb), packets) in streams.into_iter().zip(packets) {
        let codec_name = params.id().name().to_string();
        let action = if trial_mux(container.muxer, &params, tb, &packets) {
            SoundAction::Copy
        } else {
            SoundAction::Transcode(transcoder_for(path, container, stream, &codec_name, params, tb)?)
        };
        tracks.push(SoundTrack { stream, codec: codec_name, action });
    }
    Ok(SoundPlan { source: source.clone(), container, tracks })
}

/// The first packets of each of `streams`, in their order.
fn first_packets(
    ictx: &mut format::context::Input,
    streams: &[(usize, codec::Parameters, ffmpeg::Rational)],
) -> Vec<Vec<Packet>> {
    let mut packets: Vec<Vec<Packet>> = streams.iter().map(|_| Vec::new()).collect();
    for _ in 0..TRIAL_READ_LIMIT {
        let mut packet = Packet::empty();
        if packet.read(ictx).is_err() {
            break;
        }
        if let Some(slot) = streams.iter().position(|(index, _, _)| *index == packet.stream())
            && packets[slot].len() < TRIAL_PACKETS
        {
            packets[slot].push(packet);
        }
        if packets.iter().all(|p| p.len() >= TRIAL_PACKETS) {
            break;
        }
    }
    packets
}

/// The first of the container's encoders that exists, can be fed from this stream and whose
/// output the muxer takes.
fn transcoder_for(
    path: &Path,
    container: &Container,
    stream: usize,
    codec_name: &str,
    params: codec::Parameters,
    tb: ffmpeg::Rational,
) -> Result<&'static str, VideoError> {
    let cannot = |why: String| {
        VideoError::invalid(
            path,
            format!("sound stream {stream} ({codec_name}) cannot go into .{}: {why}", container.extension),
        )
    };
    let decoder = open_decoder(path, params, tb)
        .map_err(|e| cannot(format!("it cannot be copied, and FFmpeg cannot decode it ({e})")))?;
    let (rate, layout) = decoder_format(&decoder);
    for name in container.audio_encoders {
        let Some(codec) = encoder::find_by_name(name) else { continue };
        let Ok(encoder) = open_encoder(path, codec, rate, layout, true) else { continue };
        let params = codec::Parameters::from(&encoder);
        if trial_mux(container.muxer, &params, ffmpeg::Rational::new(1, encoder.rate() as i32), &[]) {
            return Ok(name);
        }
    }
    let encoders = container.audio_encoders.join(" or ");
    let what = format!("sound stream {stream} ({codec_name}) in .{} ({encoders})", container.extension);
    Err(VideoError::NoEncoder { path: show(path), what })
}

/// An audio decoder for a stream's parameters.
pub(super) fn open_decoder(
    path: &Path,
    params: codec::Parameters,
    tb: ffmpeg::Rational,
) -> Result<decoder::Audio, VideoError> {
    let codec_name = params.id().name();
    let ctx = codec::context::Context::from_parameters(params)
        .map_err(|e| VideoError::ffmpeg(path, "cannot read an audio stream", e))?;
    let mut opening = ctx.decoder();
    opening.set_packet_time_base(tb);
    opening.audio().map_err(|e| VideoError::ffmpeg(path, format!("cannot decode audio codec {codec_name}"), e))
}

/// The decoder's sample rate and channel layout (a plain one for its channel count when unset).
pub(super) fn decoder_format(decoder: &decoder::Audio) -> (i32, ChannelLayout) {
    let layout = if decoder.channel_layout().bits() != 0 {
        decoder.channel_layout()
    } else {
        ChannelLayout::default(i32::from(decoder.channels().max(1)))
    };
    (decoder.rate() as i32, layout)
}

/// Opens `codec` for sound at the source's rate (else the nearest higher one it takes: Opus
/// 48 kHz) and the best layout for the source's channels, 64 kb/s a channel.
pub(super) fn open_encoder(
    path: &Path,
    codec: ffmpeg::Codec,
    in_rate: i32,
    in_layout: ChannelLayout,
    global_header: bool,
) -> Result<encoder::Audio, VideoError> {
    let caps = codec.audio().map_err(|e| VideoError::ffmpeg(path, "audio encoder is not an audio codec", e))?;
    let layout = caps.channel_layouts().map(|layouts| layouts.best(in_layout.channels())).unwrap_or(in_layout);
    let rate = match caps.rates() {
        Some(rates) => {
            let rates: Vec<i32> = rates.collect();
            if rates.contains(&in_rate) {
                in_rate
            } else {
                let higher = rates.iter().copied().filter(|&r| r >= in_rate).min();
                higher.or_else(|| rates.iter().copied().max()).unwrap_or(48_000)
            }
        }
        None => in_rate,
    };
    let sample_format = caps
        .formats()
        .and_then(|mut formats| formats.next())
        .ok_or_else(|| VideoError::invalid(path, "audio encoder lists no sample formats"))?;
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .map_err(|e| VideoError::ffmpeg(path, "cannot create the audio encoder", e))?;
    enc.set_rate(rate);
    enc.set_channel_layout(layout);
    enc.set_channels(layout.channels());
    enc.set_format(sample_format);
    enc.set_time_base(ffmpeg::Rational::new(1, rate));
    enc.set_bit_rate(64_000 * layout.channels().max(1) as usize);
    if global_header {
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    enc.open_as(codec).map_err(|e| VideoError::ffmpeg(path, format!("cannot open audio encoder {}", codec.name()), e))
}

/// Whether `muxer` writes a header, `packets` and a trailer for one stream of `params`.
fn trial_mux(muxer: &str, params: &codec::Parameters, tb: ffmpeg::Rational, packets: &[Packet]) -> bool {
    let Some(output) = MemoryOutput::new(muxer) else { return false };
    output.try_write(params, tb, packets).is_ok()
}

/// A muxer writing into a growing memory buffer, freed on drop.
struct MemoryOutput {
    ctx: *mut ffmpeg::ffi::AVFormatContext,
}

impl MemoryOutput {
    fn new(muxer: &str) -> Option<Self> {
        use ffmpeg::ffi;
        let name = CString::new(muxer).ok()?;
        let mut ctx = ptr::null_mut();
        // SAFETY: FFmpeg allocates the context (or leaves it null on failure); the dynamic buffer
        // becomes its I/O context, and `Drop` frees both.
        unsafe {
            if ffi::avformat_alloc_output_context2(&mut ctx, ptr::null_mut(), name.as_ptr(), ptr::null()) < 0
                || ctx.is_null()
            {
                return None;
            }
            let output = MemoryOutput { ctx };
            if ffi::avio_open_dyn_buf(&mut (*ctx).pb) < 0 {
                (*ctx).pb = ptr::null_mut();
                return None;
            }
            Some(output)
        }
    }

    /// Header, packets (already in stream order) and trailer; the first failure ends the trial.
    fn try_write(&self, params: &codec::Parameters, tb: ffmpeg::Rational, packets: &[Packet]) -> Result<(), i32> {
        use ffmpeg::ffi;
        let check = |code: i32| if code < 0 { Err(code) } else { Ok(code) };
        // SAFETY: `ctx` is a valid output context with an I/O buffer and the stream belongs to it;
        // `av_write_frame` does not keep the packets, each a copy freed when it is dropped.
        unsafe {
            let stream = ffi::avformat_new_stream(self.ctx, ptr::null());
            if stream.is_null() {
                return Err(-1);
            }
            check(ffi::avcodec_parameters_copy((*stream).codecpar, params.as_ptr()))?;
            // A tag from the source's container may be invalid here; 0 lets the muxer pick, as the join does.
            (*(*stream).codecpar).codec_tag = 0;
            (*stream).time_base = tb.into();
            check(ffi::avformat_write_header(self.ctx, ptr::null_mut()))?;
            let out_tb = (*stream).time_base;
            let mut origin = None;
            for packet in packets {
                let mut copy = packet.clone();
                let start = *origin.get_or_insert(copy.dts().or(copy.pts()).unwrap_or(0));
                copy.set_pts(copy.pts().map(|p| p - start));
                copy.set_dts(copy.dts().map(|d| d - start));
                copy.rescale_ts(tb, ffmpeg::Rational::from(out_tb));
                copy.set_stream(0);
                copy.set_position(-1);
                check(ffi::av_write_frame(self.ctx, copy.as_mut_ptr()))?;
            }
            check(ffi::av_write_trailer(self.ctx))?;
        }
        Ok(())
    }
}

impl Drop for MemoryOutput {
    fn drop(&mut self) {
        use ffmpeg::ffi;
        // SAFETY: the context and its buffer were made in `new`; the buffer is detached before the
        // context is freed (an output context never frees its I/O), then closed and freed.
        unsafe {
            let pb = (*self.ctx).pb;
            (*self.ctx).pb = ptr::null_mut();
            ffi::avformat_free_context(self.ctx);
            if !pb.is_null() {
                let mut buffer = ptr::null_mut();
                ffi::avio_close_dyn_buf(pb, &mut buffer);
                ffi::av_free(buffer.cast());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::codec::Codec;
    use crate::video::testutil::{container_of, ffmpeg as run_ffmpeg, leftovers, stream_span, write_options};
    use crate::video::{Frame, FrameFormat, Rational, VideoWriter, join_segments};
    use std::path::PathBuf;
    use std::process::Command;

    /// (encoder, codec as FFmpeg names it) of each sound codec a user's footage may hold.
    const SOUND: [(&str, &str); 7] = [
        ("aac", "aac"),
        ("libmp3lame", "mp3"),
        ("ac3", "ac3"),
        ("libopus", "opus"),
        ("libvorbis", "vorbis"),
        ("flac", "flac"),
        ("pcm_s16le", "pcm_s16le"),
    ];
    const CONTAINERS: [&str; 4] = ["mp4", "mov", "mkv", "webm"];

    /// 1 s of 64x48 testsrc at 25 fps with a sine in `encoder`, in Matroska (which holds every one).
    fn footage(dir: &Path, encoder: &str) -> PathBuf {
        let path = dir.join(format!("{encoder}.mkv"));
        run_ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=25:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            encoder,
            path.to_str().unwrap(),
        ]);
        path
    }

    /// 25 grey frames at 25 fps in one segment of `codec`.
    fn segment(path: &Path, codec: Codec) -> PathBuf {
        let frames =
            FrameFormat { width: 64, height: 48, time_base: Rational::new(1, 25), frame_rate: Rational::new(25, 1) };
        let opts = write_options(path, frames, Some(codec), None);
        let mut writer = VideoWriter::create(path, &opts).unwrap();
        for index in 0..25 {
            let rgb = vec![(index * 8) as u8; 64 * 48 * 3];
            writer.write_frame(&Frame { index, pts: index as i64, width: 64, height: 48, rgb }).unwrap();
        }
        writer.finish().unwrap();
        path.to_path_buf()
    }

    fn sound_codec(path: &Path) -> String {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
            .arg(path)
            .output()
            .unwrap();
        // A stream with side data (AC-3 in MP4) gets an empty field after its name.
        String::from_utf8_lossy(&out.stdout).trim().trim_end_matches(',').to_string()
    }

    /// Whether the FFmpeg command line copies the sound of `input` into a `.extension` file.
    fn cli_copies(input: &Path, extension: &str) -> bool {
        let probe = input.with_extension(format!("copy.{extension}"));
        let status = Command::new("ffmpeg")
            .args(["-v", "quiet", "-nostdin", "-y", "-i"])
            .arg(input)
            .args(["-vn", "-c:a", "copy"])
            .arg(&probe)
            .status()
            .unwrap();
        let _ = std::fs::remove_file(probe);
        status.success()
    }

    fn action(plan: &SoundPlan) -> SoundAction {
        assert_eq!(plan.tracks().len(), 1, "{plan}");
        plan.tracks()[0].action
    }

    #[test]
    fn every_sound_codec_reaches_every_container_with_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let h264 = [segment(&dir.path().join("h264.mkv"), Codec::H264)];
        let vp9 = [segment(&dir.path().join("vp9.mkv"), Codec::Vp9)];
        let mut decided = Vec::new();
        for (encoder, codec) in SOUND {
            let source = AudioSource { path: footage(dir.path(), encoder), start_seconds: 0.0, duration_seconds: None };
            for extension in CONTAINERS {
                let output = dir.path().join(format!("{codec}.{extension}"));
                let plan = plan_sound(&source, container_of(&output)).unwrap();
                let segments = if extension == "webm" { &vp9 } else { &h264 };
                join_segments(segments, &output, container_of(&output), Rational::new(25, 1), Some(&plan))
                    .unwrap_or_else(|e| panic!("{codec} into .{extension} ({plan}): {e}"));
                let expected = match action(&plan) {
                    SoundAction::Copy => codec,
                    SoundAction::Transcode(encoder) => encoder_codec(encoder),
                };
                assert_eq!(sound_codec(&output), expected, "{codec} into .{extension}");
                let (v0, v1) = stream_span(&output, media::Type::Video).unwrap();
                let (a0, a1) = stream_span(&output, media::Type::Audio).unwrap();
                let sound_seconds = a1 - a0.max(0.0);
                assert!((sound_seconds - (v1 - v0)).abs() <= 0.05, "{codec} into .{extension}: sound {a0}..{a1}");
                let copies = cli_copies(&source.path, extension);
                assert_eq!(action(&plan) == SoundAction::Copy, copies, "{codec} into .{extension}: {plan}");
                if !copies {
                    let encoder = if extension == "webm" { "libopus" } else { "aac" };
                    assert_eq!(action(&plan), SoundAction::Transcode(encoder), "{codec} into .{extension}");
                }
                decided.push(format!("{codec}.{extension}: {}", plan.tracks()[0]));
            }
        }
        assert!(leftovers(dir.path()).is_empty());
        // The plan copies exactly what the FFmpeg command line copies (the muxer's own answer);
        // with FFmpeg 5.1: FLAC and PCM refused by MP4, Opus and FLAC by MOV, all but Opus and
        // Vorbis by WebM.
        let refused: Vec<&String> = decided.iter().filter(|d| d.contains("transcoded")).collect();
        assert!(refused.len() >= 5, "{decided:#?}");
    }

    #[test]
    fn silent_sources_and_bad_files_are_told_before_any_frame() {
        let dir = tempfile::tempdir().unwrap();
        let silent = dir.path().join("silent.mkv");
        run_ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=0.2", silent.to_str().unwrap()]);
        let source = |path: PathBuf| AudioSource { path, start_seconds: 0.0, duration_seconds: None };
        let mp4 = Container::named("mp4").unwrap();
        let plan = plan_sound(&source(silent), mp4).unwrap();
        assert!(plan.is_silent());
        assert_eq!(plan.to_string(), "no sound");

        let err = plan_sound(&source(dir.path().join("nope.wav")), mp4).unwrap_err();
        assert!(err.to_string().ends_with("nope.wav: file not found"), "{err}");
        let text = dir.path().join("text.wav");
        std::fs::write(&text, "not sound at all\n".repeat(40)).unwrap();
        let err = plan_sound(&source(text), mp4).unwrap_err();
        assert!(err.to_string().contains("text.wav: not a media file"), "{err}");
    }

    #[test]
    fn a_camera_file_with_mp3_as_stream_0_keeps_its_sound_in_mp4_mov_and_mkv() {
        let dir = tempfile::tempdir().unwrap();
        // As cameras write it: the sound first (MP3), the picture second, in MP4.
        let camera = dir.path().join("camera.mp4");
        run_ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=25:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-map",
            "1:a",
            "-map",
            "0:v",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "libmp3lame",
            camera.to_str().unwrap(),
        ]);
        let h264 = [segment(&dir.path().join("h264.mkv"), Codec::H264)];
        let source = AudioSource { path: camera, start_seconds: 0.0, duration_seconds: None };
        for extension in ["mp4", "mov", "mkv"] {
            let output = dir.path().join(format!("out.{extension}"));
            let plan = plan_sound(&source, container_of(&output)).unwrap();
            assert_eq!((plan.tracks()[0].stream, plan.tracks()[0].codec.as_str()), (0, "mp3"), "{plan}");
            join_segments(&h264, &output, container_of(&output), Rational::new(25, 1), Some(&plan))
                .unwrap_or_else(|e| panic!(".{extension}: {e}"));
            assert_eq!(sound_codec(&output), "mp3", ".{extension}");
        }
    }
}
