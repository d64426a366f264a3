//! Writing: RGB frames -> an encoder -> a muxer, as a [`StreamSpec`] decided by the output (a
//! container's codec, a GIF's full-frame segments, an APNG's lossless frames), with the planned
//! sound; or a numbered PNG sequence. The file's name is never looked at to choose any of it.
//!
//! Output goes to a temporary file beside the target and is renamed on
//! `finish`, so an existing file is never clobbered by a failed or aborted render.
#![cfg(feature = "video")]

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{Dictionary, Packet, codec, encoder, format, frame};
use ffmpeg_next as ffmpeg;

use super::audio::AudioMux;
use super::container::Container;
use super::sound_plan::SoundPlan;
use super::writer::FrameFormat;
use super::{Codec, Frame, VideoError, init, set_sws_colorspace, show};
use crate::output::PARTIAL;

mod frame_record;

/// Audio is written this far behind the video, so nothing past the (not yet known) video end is ever muxed.
pub(super) const AUDIO_LAG_SECONDS: f64 = 0.5;

/// How the frames of one file are encoded and muxed: decided by the output, never by the name.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSpec {
    /// FFmpeg's muxer name.
    pub muxer: &'static str,
    /// FFmpeg's encoders, best first.
    pub encoders: &'static [&'static str],
    /// The encoder's private options.
    pub options: Vec<(&'static str, String)>,
    /// YUV 4:2:0 crops an odd last column or row (as players expect); 4:4:4 and RGB keep every pixel.
    pub pixel: Pixel,
    /// The muxer's options.
    pub muxer_options: Vec<(&'static str, String)>,
    /// A container and the codec to check it takes before anything is written.
    pub container: Option<(&'static Container, Codec)>,
}

impl StreamSpec {
    /// `codec` at `crf` (its default when `None`) in `container`; `full_frame` keeps every pixel
    /// (4:4:4 at any size), as a GIF's segments need.
    pub fn video(container: &'static Container, codec: Codec, crf: Option<u32>, full_frame: bool) -> StreamSpec {
        StreamSpec {
            muxer: container.muxer,
            encoders: codec.encoder_names(),
            options: codec.encoder_options(crf),
            pixel: if full_frame { Pixel::YUV444P } else { Pixel::YUV420P },
            muxer_options: Vec::new(),
            container: Some((container, codec)),
        }
    }
}

/// How to write one file: its frames, how they are encoded, and the sound planned for it.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteOptions {
    pub frames: FrameFormat,
    pub stream: StreamSpec,
    pub sound: Option<SoundPlan>,
}

/// Encoder + muxer for one output; lives on the thread that created it.
pub struct VideoWriter {
    target: PathBuf,
    sink: Option<Sink>,
}

enum Sink {
    Container(Box<ContainerSink>),
    Images(Box<ImageSink>),
}

struct ContainerSink {
    octx: format::context::Output,
    parts: ContainerParts,
    last_pts: Option<i64>,
}

struct ImageSink {
    pattern: String,
    temp: PathBuf,
    encoder: encoder::Video,
    converter: RgbToEncoder,
    /// The numbers of the frames this writer put in place (all in the sequence's record).
    written: Vec<u64>,
}

/// Copies packed RGB into an FFmpeg frame (cropping to the encoder size) and converts its pixel format.
struct RgbToEncoder {
    in_w: u32,
    in_h: u32,
    width: u32,
    height: u32,
    rgb: frame::Video,
    out: frame::Video,
    scaler: Option<scaling::Context>,
}

/// Refuses frames no encoder takes and an invalid timing, naming `path`.
fn check_frames(path: &Path, frames: &FrameFormat) -> Result<(), VideoError> {
    init()?;
    if frames.width < 2 || frames.height < 2 {
        return Err(VideoError::invalid(path, format!("frame size {}x{} is too small", frames.width, frames.height)));
    }
    if !frames.time_base.is_valid() || !frames.frame_rate.is_valid() {
        return Err(VideoError::invalid(
            path,
            format!("invalid time base {} or frame rate {}", frames.time_base, frames.frame_rate),
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| VideoError::io(path, "cannot create the output folder", e))?;
    }
    Ok(())
}

impl VideoWriter {
    /// A file at `path` encoded and muxed as `opts.stream` says, with `opts.sound`.
    pub(crate) fn create(path: &Path, opts: &WriteOptions) -> Result<Self, VideoError> {
        check_frames(path, &opts.frames)?;
        let sink = Sink::Container(Box::new(ContainerSink::create(path, opts)?));
        Ok(VideoWriter { target: path.to_path_buf(), sink: Some(sink) })
    }

    /// PNG frames numbered by the pattern `pattern` (`frames/%05d.png`), from each frame's index.
    pub(crate) fn sequence(pattern: &Path, frames: &FrameFormat) -> Result<Self, VideoError> {
        check_frames(pattern, frames)?;
        let sink = Sink::Images(Box::new(ImageSink::create(pattern, frames)?));
        Ok(VideoWriter { target: pattern.to_path_buf(), sink: Some(sink) })
    }

    pub(crate) fn write_frame(&mut self, frame: &Frame) -> Result<(), VideoError> {
        match &mut self.sink {
            Some(Sink::Container(c)) => c.write(&self.target, frame),
            Some(Sink::Images(i)) => i.write(&self.target, frame),
            None => Err(VideoError::invalid(&self.target, "writer already finished")),
        }
    }

    /// Flush the encoder and the remaining audio, write the trailer, then rename into place.
    pub fn finish(mut self) -> Result<(), VideoError> {
        match self.sink.take() {
            Some(Sink::Container(c)) => {
                let temp = c.parts.temp.clone();
                let result = c.finish(&self.target);
                if result.is_err() {
                    let _ = std::fs::remove_file(&temp);
                }
                result
            }
            Some(Sink::Images(i)) => i.finish(&self.target),
            None => Ok(()),
        }
    }
}

impl Drop for VideoWriter {
    /// An unfinished writer removes its temporary output (and, for image sequences, the frames it wrote).
    fn drop(&mut self) {
        match self.sink.take() {
            Some(Sink::Container(c)) => {
                let temp = c.parts.temp.clone();
                // Close the file before deleting it.
                drop(c);
                let _ = std::fs::remove_file(temp);
            }
            Some(Sink::Images(i)) => {
                let _ = std::fs::remove_file(&i.temp);
                if !i.written.is_empty() {
                    let _ = frame_record::remove(Path::new(&i.pattern), |n| i.written.contains(&n));
                }
            }
            None => {}
        }
    }
}

impl ContainerSink {
    fn create(path: &Path, opts: &WriteOptions) -> Result<Self, VideoError> {
        let temp = crate::output::temporary_path(path);
        let mut octx = format::output_as(&temp, opts.stream.muxer)
            .map_err(|e| VideoError::ffmpeg(path, "cannot create the output file", e))?;
        let result = Self::setup(path, opts, temp.clone(), &mut octx);
        match result {
            Ok(parts) => Ok(parts.into_sink(octx)),
            Err(e) => {
                drop(octx);
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Everything after the muxer exists; split out so a failure can clean up the temp file.
    // Long: one FFmpeg set-up in its order (codec, options, stream, header).
    fn setup(
        path: &Path,
        opts: &WriteOptions,
        temp: PathBuf,
        octx: &mut format::context::Output,
    ) -> Result<ContainerParts, VideoError> {
        let (spec, frames) = (&opts.stream, &opts.frames);
        if let Some((container, chosen)) = spec.container
            && !container.accepts(octx, chosen)
        {
            let ext = container.extension.to_string();
            return Err(VideoError::IncompatibleCodec { path: show(path), codec: chosen, ext });
        }
        let codec =
            spec.encoders.iter().find_map(|name| encoder::find_by_name(name)).ok_or_else(|| VideoError::NoEncoder {
                path: show(path),
                what: match spec.container {
                    Some((_, chosen)) => format!("{chosen} ({})", spec.encoders.join(" or ")),
                    None => spec.encoders.join(" or "),
                },
            })?;

        // yuv420p needs even dimensions: crop the odd last column/row (4:4:4 and RGB take any size).
        let (width, height) = match spec.pixel {
            Pixel::YUV420P => (frames.width & !1, frames.height & !1),
            _ => (frames.width, frames.height),
        };
        let enc_tb = ffmpeg::Rational::from(frames.time_base);
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| VideoError::ffmpeg(path, "cannot create the video encoder", e))?;
        enc.set_width(width);
        enc.set_height(height);
        enc.set_format(spec.pixel);
        enc.set_time_base(enc_tb);
        enc.set_frame_rate(Some(ffmpeg::Rational::from(frames.frame_rate)));
        if spec.pixel != Pixel::RGB24 {
            enc.set_colorspace(ffmpeg::color::Space::BT709);
            enc.set_color_range(ffmpeg::color::Range::MPEG);
            // SAFETY: plain field writes on a valid, not yet opened codec context.
            unsafe {
                let raw = enc.as_mut_ptr();
                (*raw).color_primaries = ffmpeg::ffi::AVColorPrimaries::AVCOL_PRI_BT709;
                (*raw).color_trc = ffmpeg::ffi::AVColorTransferCharacteristic::AVCOL_TRC_BT709;
            }
        }
        if octx.format().flags().contains(format::Flags::GLOBAL_HEADER) {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let encoder = enc
            .open_as_with(codec, dictionary(&spec.options))
            .map(|opened| EndedOnDrop::new(opened, codec.name()))
            .map_err(|e| VideoError::ffmpeg(path, format!("cannot open video encoder {}", codec.name()), e))?;

        let stream_index = {
            let mut ost =
                octx.add_stream(codec).map_err(|e| VideoError::ffmpeg(path, "cannot add the video stream", e))?;
            ost.set_parameters(&*encoder);
            ost.set_time_base(enc_tb);
            ost.set_avg_frame_rate(ffmpeg::Rational::from(frames.frame_rate));
            ost.set_rate(ffmpeg::Rational::from(frames.frame_rate));
            let tag = spec.container.map_or(0, |(container, chosen)| container.codec_tag(chosen));
            if tag != 0 {
                // SAFETY: the stream's codecpar is valid while `ost` lives.
                unsafe {
                    (*ost.parameters().as_mut_ptr()).codec_tag = tag;
                }
            }
            ost.index()
        };

        let mut audio = match &opts.sound {
            Some(plan) => AudioMux::open(plan, octx)?,
            None => None,
        };

        octx.write_header_with(dictionary(&spec.muxer_options))
            .map_err(|e| VideoError::ffmpeg(path, "cannot write the file header", e))?;
        let stream_tb = octx.stream(stream_index).map(|s| s.time_base()).unwrap_or(enc_tb);
        if let Some(audio) = &mut audio {
            audio.header_written(octx);
        }

        let frame_ticks = (frames.time_base.den as f64 / (frames.time_base.num as f64 * frames.frame_rate.as_f64()))
            .round()
            .max(1.0) as i64;
        Ok(ContainerParts {
            temp,
            encoder,
            enc_tb,
            stream_index,
            stream_tb,
            converter: RgbToEncoder::new(frames.width, frames.height, width, height, spec.pixel),
            frame_ticks,
            tick_seconds: frames.time_base.as_f64(),
            audio,
        })
    }

    fn write(&mut self, target: &Path, frame: &Frame) -> Result<(), VideoError> {
        if let Some(last) = self.last_pts
            && frame.pts <= last
        {
            return Err(VideoError::invalid(
                target,
                format!("frame {} has pts {} not after {last}", frame.index, frame.pts),
            ));
        }
        let yuv = self.parts.converter.convert(target, frame)?;
        yuv.set_pts(Some(frame.pts));
        self.parts.encoder.send_frame(yuv).map_err(|e| VideoError::ffmpeg(target, "video encoding failed", e))?;
        self.last_pts = Some(frame.pts);
        self.drain(target)?;
        if let Some(audio) = &mut self.parts.audio {
            let now = frame.pts as f64 * self.parts.tick_seconds;
            audio.pump(&mut self.octx, now - AUDIO_LAG_SECONDS)?;
        }
        Ok(())
    }

    /// Move encoded packets into the muxer.
    fn drain(&mut self, target: &Path) -> Result<(), VideoError> {
        let mut packet = Packet::empty();
        while self.parts.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.parts.stream_index);
            if packet.duration() <= 0 {
                packet.set_duration(self.parts.frame_ticks);
            }
            packet.rescale_ts(self.parts.enc_tb, self.parts.stream_tb);
            packet
                .write_interleaved(&mut self.octx)
                .map_err(|e| VideoError::ffmpeg(target, "cannot write video", e))?;
        }
        Ok(())
    }

    fn finish(mut self, target: &Path) -> Result<(), VideoError> {
        let Some(last) = self.last_pts else {
            return Err(VideoError::invalid(target, "no frames were written"));
        };
        self.parts.encoder.send_eof().map_err(|e| VideoError::ffmpeg(target, "video encoder flush failed", e))?;
        self.drain(target)?;
        if let Some(audio) = &mut self.parts.audio {
            let video_end = (last + self.parts.frame_ticks) as f64 * self.parts.tick_seconds;
            audio.finish(&mut self.octx, video_end)?;
        }
        self.octx.write_trailer().map_err(|e| VideoError::ffmpeg(target, "cannot finish the file", e))?;
        let temp = self.parts.temp.clone();
        // Close the file (flushing it) before it is renamed into place.
        drop(self);
        std::fs::rename(&temp, target)
            .map_err(|e| VideoError::io(target, "cannot move the finished file into place", e))
    }
}

/// A set-up container sink, minus the muxer context (which `create` owns until setup succeeds).
struct ContainerParts {
    temp: PathBuf,
    encoder: EndedOnDrop,
    enc_tb: ffmpeg::Rational,
    stream_index: usize,
    stream_tb: ffmpeg::Rational,
    converter: RgbToEncoder,
    frame_ticks: i64,
    tick_seconds: f64,
    audio: Option<AudioMux>,
}

/// A video encoder that is sent the end of its stream before it is freed, however it is dropped
/// (an unused writer, a failed setup, an interrupted render); its last packets are discarded.
/// SVT-AV1 freed without an end of stream waits for one for ever (its deinit drains its output
/// queue), and so does an end of stream after no frame: that hung every AV1 render on the
/// writability check's unused writer. Other encoders are freed as they are, so an interrupt
/// does not wait for x264 to encode its lookahead.
struct EndedOnDrop {
    encoder: encoder::Video,
    needs_end: bool,
    frames_sent: bool,
}

impl EndedOnDrop {
    fn new(encoder: encoder::Video, name: &str) -> Self {
        EndedOnDrop { encoder, needs_end: name == "libsvtav1", frames_sent: false }
    }

    fn send_frame(&mut self, frame: &frame::Video) -> Result<(), ffmpeg::Error> {
        self.encoder.send_frame(frame)?;
        self.frames_sent = true;
        Ok(())
    }
}

impl std::ops::Deref for EndedOnDrop {
    type Target = encoder::Video;
    fn deref(&self) -> &encoder::Video {
        &self.encoder
    }
}

impl std::ops::DerefMut for EndedOnDrop {
    fn deref_mut(&mut self) -> &mut encoder::Video {
        &mut self.encoder
    }
}

impl Drop for EndedOnDrop {
    fn drop(&mut self) {
        if !self.needs_end {
            return;
        }
        if !self.frames_sent {
            let mut blank = frame::Video::new(self.encoder.format(), self.encoder.width(), self.encoder.height());
            for plane in 0..blank.planes() {
                blank.data_mut(plane).fill(0);
            }
            blank.set_pts(Some(0));
            let _ = self.encoder.send_frame(&blank);
        }
        // After `finish` the stream has ended already and this is refused at once.
        if self.encoder.send_eof().is_ok() {
            let mut packet = Packet::empty();
            while self.encoder.receive_packet(&mut packet).is_ok() {}
        }
    }
}

impl ContainerParts {
    fn into_sink(self, octx: format::context::Output) -> ContainerSink {
        ContainerSink { octx, parts: self, last_pts: None }
    }
}

impl ImageSink {
    fn create(path: &Path, frames: &FrameFormat) -> Result<Self, VideoError> {
        let pattern =
            path.to_str().ok_or_else(|| VideoError::invalid(path, "image sequence pattern is not UTF-8"))?.to_string();
        let codec = encoder::find(codec::Id::PNG)
            .ok_or_else(|| VideoError::NoEncoder { path: show(path), what: "png".to_string() })?;
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| VideoError::ffmpeg(path, "cannot create the PNG encoder", e))?;
        enc.set_width(frames.width);
        enc.set_height(frames.height);
        enc.set_format(Pixel::RGB24);
        enc.set_time_base(ffmpeg::Rational::from(frames.time_base));
        let encoder = enc.open_as(codec).map_err(|e| VideoError::ffmpeg(path, "cannot open the PNG encoder", e))?;
        let folder = path.parent().unwrap_or(Path::new(""));
        Ok(ImageSink {
            pattern,
            temp: folder.join(format!(".{PARTIAL}-frame.png")),
            encoder,
            converter: RgbToEncoder::new(frames.width, frames.height, frames.width, frames.height, Pixel::RGB24),
            written: Vec::new(),
        })
    }

    fn write(&mut self, target: &Path, frame: &Frame) -> Result<(), VideoError> {
        let image = self.converter.convert(target, frame)?;
        self.encoder.send_frame(image).map_err(|e| VideoError::ffmpeg(target, "PNG encoding failed", e))?;
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            // Numbered by the frame's place in the render, from 1 like ffmpeg's image2 muxer, so a
            // resumed render (a new writer) carries on the numbering. PNG has no encoder delay.
            let number = frame.index + 1;
            let name = PathBuf::from(
                format_pattern(&self.pattern, number)
                    .ok_or_else(|| VideoError::invalid(target, "not an image sequence pattern"))?,
            );
            let bytes = packet.data().unwrap_or_default();
            std::fs::write(&self.temp, bytes).map_err(|e| VideoError::io(&self.temp, "cannot write frame", e))?;
            // Recorded before it is in place: a frame on disk that this program wrote is always in the record.
            frame_record::note(Path::new(&self.pattern), number)?;
            std::fs::rename(&self.temp, &name).map_err(|e| VideoError::io(&name, "cannot move frame into place", e))?;
            self.written.push(number);
        }
        Ok(())
    }

    fn finish(mut self, target: &Path) -> Result<(), VideoError> {
        if self.written.is_empty() {
            return Err(VideoError::invalid(target, "no frames were written"));
        }
        // Frames are already in place; forget them so nothing is cleaned up.
        self.written.clear();
        Ok(())
    }
}

impl RgbToEncoder {
    /// Frames arrive as `in_w` x `in_h`; the encoder gets the top-left `width` x `height`.
    fn new(in_w: u32, in_h: u32, width: u32, height: u32, format: Pixel) -> Self {
        RgbToEncoder {
            in_w,
            in_h,
            width,
            height,
            rgb: frame::Video::new(Pixel::RGB24, width, height),
            out: frame::Video::new(format, width, height),
            scaler: None,
        }
    }

    /// The frame in the encoder's size and pixel format (RGB frames are passed through).
    fn convert(&mut self, target: &Path, frame: &Frame) -> Result<&mut frame::Video, VideoError> {
        let row = frame.width as usize * 3;
        if frame.rgb.len() != row * frame.height as usize || frame.width != self.in_w || frame.height != self.in_h {
            return Err(VideoError::invalid(
                target,
                format!(
                    "frame {} is {}x{} with {} bytes, expected {}x{} RGB24",
                    frame.index,
                    frame.width,
                    frame.height,
                    frame.rgb.len(),
                    self.in_w,
                    self.in_h
                ),
            ));
        }
        // An encoder may keep the frame it was last sent (APNG and PNG compare the next with it):
        // write into a buffer of our own, never into the one it holds.
        make_writable(target, &mut self.rgb)?;
        let copy = self.width as usize * 3;
        let stride = self.rgb.stride(0);
        let data = self.rgb.data_mut(0);
        for y in 0..self.height as usize {
            data[y * stride..y * stride + copy].copy_from_slice(&frame.rgb[y * row..y * row + copy]);
        }
        if self.out.format() == Pixel::RGB24 {
            return Ok(&mut self.rgb);
        }
        if self.scaler.is_none() {
            let mut ctx = scaling::Context::get(
                Pixel::RGB24,
                self.width,
                self.height,
                self.out.format(),
                self.width,
                self.height,
                scaling::Flags::BICUBIC,
            )
            .map_err(|e| VideoError::ffmpeg(target, "cannot create the RGB to YUV converter", e))?;
            set_sws_colorspace(&mut ctx, ffmpeg::color::Space::BT709, false, false);
            self.scaler = Some(ctx);
        }
        make_writable(target, &mut self.out)?;
        if let Some(scaler) = &mut self.scaler {
            scaler
                .run(&self.rgb, &mut self.out)
                .map_err(|e| VideoError::ffmpeg(target, "RGB to YUV conversion failed", e))?;
        }
        Ok(&mut self.out)
    }
}

/// Gives `frame` a buffer of its own when another holder (an encoder) still refers to it.
fn make_writable(target: &Path, frame: &mut frame::Video) -> Result<(), VideoError> {
    // SAFETY: `frame` is a valid, allocated frame; FFmpeg copies it into a new buffer if shared.
    let code = unsafe { ffmpeg::ffi::av_frame_make_writable(frame.as_mut_ptr()) };
    match code {
        0 => Ok(()),
        code => Err(VideoError::ffmpeg(target, "cannot get a frame buffer", ffmpeg::Error::from(code))),
    }
}

/// FFmpeg's dictionary of `options`.
fn dictionary(options: &[(&str, String)]) -> Dictionary<'static> {
    let mut dict = Dictionary::new();
    for (key, value) in options {
        dict.set(key, value);
    }
    dict
}

/// True when the file name holds a printf frame-number pattern such as `%05d` or `%d`.
pub fn is_image_sequence(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|name| format_pattern(name, 1).is_some())
}

/// The file of frame `number` (from 1) of an image sequence, or `None` when `path` is no pattern.
pub fn sequence_frame(path: &Path, number: u64) -> Option<PathBuf> {
    let name = format_pattern(path.file_name()?.to_str()?, number)?;
    Some(path.with_file_name(name))
}

/// The numbered frames of the image sequence `pattern` found on disk, by number.
pub fn existing_frames(pattern: &Path) -> Vec<(u64, PathBuf)> {
    let Some(name_pattern) = pattern.file_name().and_then(|n| n.to_str()) else { return Vec::new() };
    let folder = crate::output::parent_folder(pattern);
    let Ok(entries) = std::fs::read_dir(&folder) else { return Vec::new() };
    let mut frames: Vec<(u64, PathBuf)> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            // The number is the name's digits; the name must be exactly what the pattern makes of it.
            let digits: String = name.chars().filter(char::is_ascii_digit).collect();
            let number = (1..=digits.len())
                .flat_map(|len| (0..=digits.len() - len).map(move |at| (at, len)))
                .filter_map(|(at, len)| digits[at..at + len].parse::<u64>().ok())
                .find(|&number| format_pattern(name_pattern, number).as_deref() == Some(name.as_str()))?;
            Some((number, pattern.with_file_name(&name)))
        })
        .collect();
    frames.sort();
    frames
}

/// Removes the frames of the image sequence `pattern` numbered after `last` that its record says
/// this program wrote: what an earlier, longer render left, which a finished render must not keep
/// beside its own. Numbered files the record does not list (the user's own) stay.
pub fn remove_frames_after(pattern: &Path, last: u64) -> Result<(), VideoError> {
    frame_record::remove(pattern, |number| number > last)
}

/// Substitute `number` into the first `%d` / `%0Nd` / `%Nd` of `pattern` (`%%` is a literal %).
pub(crate) fn format_pattern(pattern: &str, number: u64) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    let mut substituted = false;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let spec = &rest[pos + 1..];
        if let Some(after) = spec.strip_prefix('%') {
            out.push('%');
            rest = after;
            continue;
        }
        let digits = spec.bytes().take_while(u8::is_ascii_digit).count();
        if substituted || !spec[digits..].starts_with('d') {
            return None;
        }
        let width: usize = if digits == 0 { 0 } else { spec[..digits].parse().ok()? };
        if spec.starts_with('0') {
            out.push_str(&format!("{number:0width$}"));
        } else {
            out.push_str(&format!("{number:width$}"));
        }
        substituted = true;
        rest = &spec[digits + 1..];
    }
    out.push_str(rest);
    substituted.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::testutil::{ffmpeg as run_ffmpeg, leftovers, make_clip, stream_span, write_options};
    use crate::video::{AudioSource, Rational, ReadOptions, VideoReader};
    use ffmpeg::media;
    use std::process::Command;

    fn read_frames(path: &Path, opts: &ReadOptions) -> (crate::video::VideoInfo, Vec<Frame>) {
        let mut reader = VideoReader::open(path, opts).unwrap();
        let info = reader.info().clone();
        let mut frames = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            frames.push(frame);
        }
        (info, frames)
    }

    fn options_for(path: &Path, info: &crate::video::VideoInfo, audio: Option<AudioSource>) -> WriteOptions {
        let frames = FrameFormat {
            width: info.width,
            height: info.height,
            time_base: info.time_base,
            frame_rate: info.frame_rate,
        };
        write_options(path, frames, None, audio.as_ref())
    }

    fn write_all(path: &Path, opts: &WriteOptions, frames: &[Frame]) -> Result<(), VideoError> {
        let mut writer = VideoWriter::create(path, opts)?;
        for frame in frames {
            writer.write_frame(frame)?;
        }
        writer.finish()
    }

    /// A solid-colour generated frame, the way the renderer produces them.
    fn synthetic(index: u64, width: u32, height: u32) -> Frame {
        let shade = (index * 20 % 256) as u8;
        Frame { index, pts: index as i64, width, height, rgb: vec![shade; (width * height * 3) as usize] }
    }

    fn generated(width: u32, height: u32) -> FrameFormat {
        FrameFormat { width, height, time_base: Rational::new(1, 25), frame_rate: Rational::new(25, 1) }
    }

    fn generated_options(path: &Path, width: u32, height: u32) -> WriteOptions {
        write_options(path, generated(width, height), None, None)
    }

    fn probe(path: &Path, entries: &str) -> String {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn round_trip_with_audio_in_every_container() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.0);
        let (info, frames) = read_frames(&clip, &ReadOptions::default());
        for name in ["out.mp4", "out.mkv", "out.webm", "out.mov"] {
            let out = dir.path().join(name);
            let audio = AudioSource { path: clip.clone(), start_seconds: info.start_seconds, duration_seconds: None };
            write_all(&out, &options_for(&out, &info, Some(audio)), &frames).unwrap();
            let (back_info, back) = read_frames(&out, &ReadOptions::default());
            assert_eq!(back.len(), frames.len(), "{name}");
            assert_eq!(back_info.frame_rate, info.frame_rate, "{name}");
            assert_eq!((back_info.width, back_info.height), (64, 48), "{name}");
            assert_eq!(back_info.audio_streams, 1, "{name}");
            let video_seconds = back.len() as f64 / info.frame_rate.as_f64();
            let (a0, a1) = stream_span(&out, media::Type::Audio).unwrap();
            let audio_seconds = a1 - a0.max(0.0);
            assert!(
                (audio_seconds - video_seconds).abs() <= 0.04,
                "{name}: audio {audio_seconds} video {video_seconds}"
            );
            assert!(leftovers(dir.path()).is_empty(), "{name}");
        }
        // webm can't hold AAC: it was transcoded.
        let codec = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
            .arg(dir.path().join("out.webm"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&codec.stdout).trim(), "opus");
        assert_eq!(probe(&dir.path().join("out.webm"), "stream=codec_name"), "vp9");
    }

    #[test]
    fn audio_is_interleaved_while_writing() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 3.0);
        let (info, frames) = read_frames(&clip, &ReadOptions::default());
        let audio = AudioSource { path: clip.clone(), start_seconds: 0.0, duration_seconds: None };
        let out = dir.path().join("out.mkv");
        let mut writer = VideoWriter::create(&out, &options_for(&out, &info, Some(audio))).unwrap();
        for frame in &frames[..50] {
            writer.write_frame(frame).unwrap();
        }
        // After 2 s of video, audio has been read up to ~1.5 s (the lag), not held back until finish.
        let Some(Sink::Container(sink)) = &writer.sink else { panic!("container sink") };
        let pending = sink.parts.audio.as_ref().and_then(|a| a.pending_seconds()).unwrap();
        assert!((pending - (1.96 - AUDIO_LAG_SECONDS)).abs() < 0.05, "{pending}");
        for frame in &frames[50..] {
            writer.write_frame(frame).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn plain_data_types_are_send() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Frame>();
        send_sync::<WriteOptions>();
        send_sync::<crate::video::VideoInfo>();
        send_sync::<VideoError>();
        // Planned before the first frame on one thread, followed by the join on another.
        send_sync::<crate::video::SoundPlan>();
    }

    #[test]
    fn span_with_cut_audio() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.2);
        let opts = ReadOptions { start_seconds: 0.5, max_frames: Some(5), ..Default::default() };
        let (info, frames) = read_frames(&clip, &opts);
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[0].pts, 0);
        let out = dir.path().join("span.mp4");
        let audio = AudioSource { path: clip.clone(), start_seconds: info.start_seconds, duration_seconds: None };
        write_all(&out, &options_for(&out, &info, Some(audio)), &frames).unwrap();
        let (_, back) = read_frames(&out, &ReadOptions::default());
        assert_eq!(back.len(), 5);
        let (a0, a1) = stream_span(&out, media::Type::Audio).unwrap();
        assert!(((a1 - a0.max(0.0)) - 0.2).abs() <= 0.04, "audio {a0}..{a1}");
    }

    #[test]
    fn pcm_audio_is_transcoded_for_mp4_and_explicit_duration_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("pcm.mkv");
        run_ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=25:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=1:sample_rate=48000",
            "-map",
            "1:a",
            "-map",
            "0:v",
            "-c:v",
            "libx264",
            "-c:a",
            "pcm_s16le",
            src.to_str().unwrap(),
        ]);
        let (info, frames) = read_frames(&src, &ReadOptions::default());
        let out = dir.path().join("pcm.mp4");
        let audio = AudioSource { path: src.clone(), start_seconds: 0.2, duration_seconds: Some(0.6) };
        write_all(&out, &options_for(&out, &info, Some(audio)), &frames).unwrap();
        let (a0, a1) = stream_span(&out, media::Type::Audio).unwrap();
        assert!(((a1 - a0.max(0.0)) - 0.6).abs() <= 0.04, "audio {a0}..{a1}");
        let codec = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&codec.stdout).trim(), "aac");
    }

    #[test]
    fn variable_frame_rate_survives() {
        let dir = tempfile::tempdir().unwrap();
        let vfr = dir.path().join("vfr.mkv");
        run_ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=25:duration=0.8",
            "-vf",
            "settb=1/1000,setpts='if(lt(N,10),N*0.04,0.4+(N-10)*0.1)/TB'",
            "-fps_mode",
            "passthrough",
            "-enc_time_base:v",
            "1/1000",
            "-c:v",
            "libx264",
            vfr.to_str().unwrap(),
        ]);
        let (info, frames) = read_frames(&vfr, &ReadOptions::default());
        assert_eq!(frames.len(), 20);
        let seconds = |info: &crate::video::VideoInfo, f: &Frame| f.pts as f64 * info.time_base.as_f64();
        let gaps: Vec<f64> = frames.windows(2).map(|w| seconds(&info, &w[1]) - seconds(&info, &w[0])).collect();
        assert!((gaps[0] - 0.04).abs() < 0.002 && (gaps[15] - 0.1).abs() < 0.002, "{gaps:?}");
        for name in ["vfr.mp4", "vfr.webm"] {
            let out = dir.path().join(name);
            write_all(&out, &options_for(&out, &info, None), &frames).unwrap();
            let (back_info, back) = read_frames(&out, &ReadOptions::default());
            assert_eq!(back.len(), frames.len());
            for (a, b) in frames.iter().zip(&back) {
                assert!((seconds(&info, a) - seconds(&back_info, b)).abs() < 0.002, "{name}");
            }
        }
    }

    #[test]
    fn odd_size_is_cropped_to_even() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("odd.mp4");
        let frames: Vec<Frame> = (0..10).map(|i| synthetic(i, 65, 49)).collect();
        write_all(&out, &generated_options(&out, 65, 49), &frames).unwrap();
        let (info, back) = read_frames(&out, &ReadOptions::default());
        assert_eq!((info.width, info.height), (64, 48));
        assert_eq!(info.frame_rate, Rational::new(25, 1));
        assert_eq!(back.len(), 10);
        // The colour survives the RGB -> BT.709 YUV -> RGB round trip.
        let got = back[3].rgb[0..3].to_vec();
        assert!(got.iter().all(|&c| c.abs_diff(60) <= 3), "{got:?}");
    }

    #[test]
    fn other_codecs() {
        let dir = tempfile::tempdir().unwrap();
        let frames: Vec<Frame> = (0..8).map(|i| synthetic(i, 64, 64)).collect();
        let cases = [("h265.mp4", Codec::H265, "hevc"), ("av1.mkv", Codec::Av1, "av1"), ("vp9.mp4", Codec::Vp9, "vp9")];
        for (name, codec, expected) in cases {
            let out = dir.path().join(name);
            let opts = write_options(&out, generated(64, 64), Some(codec), None);
            write_all(&out, &opts, &frames).unwrap();
            assert_eq!(probe(&out, "stream=codec_name"), expected);
            assert_eq!(read_frames(&out, &ReadOptions::default()).1.len(), 8, "{name}");
        }
        assert_eq!(probe(&dir.path().join("h265.mp4"), "stream=codec_tag_string"), "hvc1");
    }

    #[test]
    fn unfinished_av1_writers_close_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let opts = write_options(Path::new("a.mkv"), generated(64, 64), Some(Codec::Av1), None);
        let sound_dir = tempfile::tempdir().unwrap();
        let clip = make_clip(sound_dir.path(), "gone.mp4", 0.2);
        let audio = AudioSource { path: clip.clone(), start_seconds: 0.0, duration_seconds: None };
        let gone = write_options(Path::new("a.mkv"), generated(64, 64), Some(Codec::Av1), Some(&audio));
        std::fs::remove_file(&clip).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let folder = dir.path().to_path_buf();
        std::thread::spawn(move || {
            // Unused, interrupted after frames, and failing after the encoder opened (its sound gone).
            drop(VideoWriter::create(&folder.join("unused.mkv"), &opts).unwrap());
            let mut writer = VideoWriter::create(&folder.join("cut.mkv"), &opts).unwrap();
            writer.write_frame(&synthetic(0, 64, 64)).unwrap();
            drop(writer);
            let failed = VideoWriter::create(&folder.join("bad.mkv"), &gone);
            done.send(failed.is_err()).unwrap();
        });
        let failed = finished.recv_timeout(std::time::Duration::from_secs(30)).expect("an AV1 writer hung on close");
        assert!(failed);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn image_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = dir.path().join("frames").join("%05d.png");
        assert!(is_image_sequence(&pattern));
        assert!(!is_image_sequence(Path::new("out.mp4")));
        assert!(is_image_sequence(Path::new("f%d.png")));
        assert!(!is_image_sequence(Path::new("100%%.png")));
        for name in ["00007.png", "00008.png", "00012.png", "0001.png", "x00003.png", "00002.jpg"] {
            std::fs::create_dir_all(dir.path().join("frames")).unwrap();
            std::fs::write(dir.path().join("frames").join(name), b"").unwrap();
        }
        let numbers: Vec<u64> = existing_frames(&pattern).into_iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, [7, 8, 12]);
        // An earlier render wrote 7 and 8 (its record says so); 12 is the user's own file.
        frame_record::note(&pattern, 7).unwrap();
        frame_record::note(&pattern, 8).unwrap();
        remove_frames_after(&pattern, 7).unwrap();
        let left: Vec<u64> = existing_frames(&pattern).into_iter().map(|(n, _)| n).collect();
        assert_eq!(left, [7, 12]);
        assert_eq!(frame_record::written(&pattern).into_iter().collect::<Vec<_>>(), [7]);
        std::fs::remove_dir_all(dir.path().join("frames")).unwrap();
        let frames: Vec<Frame> = (0..4).map(|i| synthetic(i, 33, 17)).collect();
        let mut writer = VideoWriter::sequence(&pattern, &generated(33, 17)).unwrap();
        for frame in &frames {
            writer.write_frame(frame).unwrap();
        }
        writer.finish().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("frames"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // The record of the frames written stays beside them, for a later `-y` or resume.
        assert_eq!(names, [".%05d.png.written-by-dreamreel", "00001.png", "00002.png", "00003.png", "00004.png"]);
        let (info, back) = read_frames(&dir.path().join("frames/00002.png"), &ReadOptions::default());
        assert_eq!((info.width, info.height), (33, 17));
        assert_eq!(back[0].rgb, frames[1].rgb);
    }

    #[test]
    fn errors_and_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        for codec in [Codec::Vp9, Codec::Av1] {
            let out = dir.path().join("out.mov");
            let err =
                VideoWriter::create(&out, &write_options(&out, generated(64, 48), Some(codec), None)).err().unwrap();
            assert!(err.to_string().ends_with(&format!("out.mov: codec {codec} cannot be written in .mov")), "{err}");
        }
        let out = dir.path().join("out.webm");
        let opts = write_options(&out, generated(64, 48), Some(Codec::H265), None);
        let err = VideoWriter::create(&out, &opts).err().unwrap();
        assert!(err.to_string().ends_with("out.webm: codec h265 cannot be written in .webm"), "{err}");
        let nope = AudioSource { path: dir.path().join("nope.wav"), start_seconds: 0.0, duration_seconds: None };
        let err = crate::video::plan_sound(&nope, crate::video::testutil::container_of(&out)).unwrap_err();
        assert!(err.to_string().ends_with("nope.wav: file not found"), "{err}");
        assert!(leftovers(dir.path()).is_empty());

        // A dropped writer leaves nothing, and never touches an existing output.
        let target = dir.path().join("keep.mp4");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut writer = VideoWriter::create(&target, &generated_options(&target, 64, 48)).unwrap();
            for i in 0..3 {
                writer.write_frame(&synthetic(i, 64, 48)).unwrap();
            }
            assert_eq!(leftovers(dir.path()).len(), 1);
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
        let fresh = dir.path().join("fresh.mkv");
        drop(VideoWriter::create(&fresh, &generated_options(&fresh, 64, 48)).unwrap());
        assert!(!fresh.exists());

        // Wrong frame size and non-increasing pts are errors, not panics.
        let mut writer = VideoWriter::create(&target, &generated_options(&target, 64, 48)).unwrap();
        assert!(writer.write_frame(&synthetic(0, 32, 48)).is_err());
        writer.write_frame(&synthetic(1, 64, 48)).unwrap();
        assert!(writer.write_frame(&synthetic(1, 64, 48)).is_err());
        writer.write_frame(&synthetic(2, 64, 48)).unwrap();
        writer.finish().unwrap();
        assert_ne!(std::fs::read(&target).unwrap(), b"old");

        // Dropped image sequences remove their frames.
        let pattern = dir.path().join("seq_%03d.png");
        {
            let mut writer = VideoWriter::sequence(&pattern, &generated(8, 8)).unwrap();
            writer.write_frame(&synthetic(0, 8, 8)).unwrap();
            assert!(dir.path().join("seq_001.png").exists());
        }
        assert!(!dir.path().join("seq_001.png").exists());
    }
}
