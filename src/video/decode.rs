//! Reading: demux + decode the best video stream, convert to upright RGB24 frames.
#![cfg(feature = "video")]

use std::path::{Path, PathBuf};

use ffmpeg::format::Pixel;
use ffmpeg::packet::Ref as _;
use ffmpeg::software::scaling;
use ffmpeg::{codec, decoder, format, frame, media};
use ffmpeg_next as ffmpeg;
use image::metadata::Orientation;

use super::{Frame, Rational, VideoError, container_start_seconds, init, set_sws_colorspace, show};

/// Frames whose time is within this of the requested start still count as "at the start".
const START_TOLERANCE_SECONDS: f64 = 0.0005;
/// Give up after this many consecutive packets the decoder rejects.
const MAX_CONSECUTIVE_DECODE_ERRORS: u32 = 64;

/// Which part of the input to read and at what size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// Seconds from the start of the file (FFmpeg `-ss` semantics: relative to the container start time).
    pub start_seconds: f64,
    pub max_frames: Option<u64>,
    pub max_seconds: Option<f64>,
    /// Scale to this width (after rotation), keeping the aspect ratio; height is rounded.
    pub width: Option<u32>,
    /// Frame rate of an image-sequence input (`frames/%05d.png` or a folder); 25 when not given.
    pub sequence_fps: Option<f64>,
}

/// What the reader will deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    /// Size of the delivered frames, after rotation and scaling.
    pub width: u32,
    pub height: u32,
    /// Time base of `Frame::pts`.
    pub time_base: Rational,
    pub frame_rate: Rational,
    /// Estimate of the number of frames in the span (for progress bars).
    pub frame_count: Option<u64>,
    /// Estimate of the span's duration in seconds.
    pub duration_seconds: Option<f64>,
    /// Presentation time of the first delivered frame, in seconds from the start of the file (use it to cut audio).
    pub start_seconds: f64,
    /// Number of audio streams in the file.
    pub audio_streams: usize,
    /// Clockwise rotation (0, 90, 180, 270) that was applied to make frames upright (for images:
    /// the first image's EXIF orientation, less any mirroring it also asks for).
    pub rotation: u32,
}

/// Decoder for one video file; lives on the thread that opened it.
pub struct VideoReader {
    path: PathBuf,
    ictx: format::context::Input,
    stream_index: usize,
    decoder: decoder::Video,
    /// Seconds per pts tick.
    tick: f64,
    /// Container start time in seconds (pts of "0 s" for start_seconds).
    origin_seconds: f64,
    opts: ReadOptions,
    rotation: u32,
    /// Where the images of an image input are, to read each one's EXIF orientation.
    images: Option<ImageFiles>,
    /// Size to scale to before rotation.
    scaled: (u32, u32),
    scaler: Option<Scaler>,
    decoded: frame::Video,
    /// Source pts of the first delivered frame.
    first_pts: Option<i64>,
    last_source_pts: Option<i64>,
    last_rel_pts: Option<i64>,
    /// Ticks per frame at the nominal rate, for frames without a timestamp.
    nominal_frame_ticks: i64,
    produced: u64,
    returned: u64,
    /// First frame, decoded during `open` to learn its real start time.
    buffered: Option<Frame>,
    eof_sent: bool,
    done: bool,
    info: VideoInfo,
    damage: Damage,
}

/// What the decoder could not decode, counted as it goes (the library prints nothing).
#[derive(Default)]
struct Damage {
    /// Packets the decoder refused outright.
    rejected_packets: u64,
    /// Packets it took but then reported as broken.
    failed_frames: u64,
    /// Packets it took (those the container marks to discard aside) and frames it gave back.
    packets_in: u64,
    frames_out: u64,
    /// Packets of the stream read, and how many the container's index lists (MP4 knows, Matroska
    /// does not): a damaged or cut file ends before its last ones.
    packets_read: u64,
    indexed_packets: Option<u64>,
    /// The decoder gave back all it holds: every packet taken has come out as a frame or not at all.
    drained: bool,
    /// Reading began at a seek, where a decoder may drop leading frames that were never broken.
    seeked: bool,
}

impl Damage {
    fn undecodable(&self) -> u64 {
        if !self.drained || self.seeked {
            return self.rejected_packets + self.failed_frames;
        }
        let lost = self.failed_frames.max(self.packets_in.saturating_sub(self.frames_out));
        let unread = self.indexed_packets.map_or(0, |indexed| indexed.saturating_sub(self.packets_read));
        self.rejected_packets + lost + unread
    }
}

/// The files of an image input: one still, or a numbered sequence.
enum ImageFiles {
    Still(PathBuf),
    Sequence { pattern: String, start: u64 },
}

impl ImageFiles {
    /// The file the frame at `source_pts` (the image2 demuxer counts images from 0) was read from.
    fn file(&self, source_pts: i64) -> Option<PathBuf> {
        match self {
            ImageFiles::Still(path) => Some(path.clone()),
            ImageFiles::Sequence { pattern, start } => {
                let number = start.checked_add(u64::try_from(source_pts).ok()?)?;
                super::encode::format_pattern(pattern, number).map(PathBuf::from)
            }
        }
    }
}

/// The EXIF orientation of an image file, as `still` applies it; none when it has none or
/// cannot be read here (FFmpeg reports real damage when it decodes the file).
fn image_orientation(path: &Path) -> Orientation {
    use image::ImageDecoder;
    let decoder = image::ImageReader::open(path).and_then(|r| r.with_guessed_format()).ok();
    decoder
        .and_then(|r| r.into_decoder().ok())
        .and_then(|mut d| d.orientation().ok())
        .unwrap_or(Orientation::NoTransforms)
}

/// FFmpeg's demuxers of stills ("image2", "jpeg_pipe", "png_pipe"...): what they read may carry an
/// EXIF orientation, which FFmpeg's decoders do not apply.
fn is_image_demuxer(name: &str) -> bool {
    name == "image2" || name.ends_with("_pipe")
}

/// Whether the orientation turns the picture a quarter, swapping width and height.
fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// The clockwise rotation part of an orientation (mirroring aside), as `VideoInfo::rotation` says it.
fn rotation_part(orientation: Orientation) -> u32 {
    match orientation {
        Orientation::Rotate90 | Orientation::Rotate90FlipH => 90,
        Orientation::Rotate180 | Orientation::FlipVertical => 180,
        Orientation::Rotate270 | Orientation::Rotate270FlipH => 270,
        Orientation::NoTransforms | Orientation::FlipHorizontal => 0,
    }
}

/// swscale context for one source format/size and target size.
struct Scaler {
    source: (Pixel, u32, u32, u32, u32),
    ctx: scaling::Context,
    out: frame::Video,
}

impl VideoReader {
    // Long: one FFmpeg set-up in its order (demuxer, stream, decoder, scaler); split, its halves would
    // pass half-built contexts around.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self, VideoError> {
        init()?;
        let sequence = super::sequence::find(path)?;
        let mut ictx = match &sequence {
            Some(sequence) => open_sequence(path, sequence, opts.sequence_fps)?,
            None => {
                check_input_file(path)?;
                format::input(&path).map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })?
            }
        };

        let images = match &sequence {
            Some(sequence) => Some(ImageFiles::Sequence {
                pattern: sequence.pattern.to_string_lossy().into_owned(),
                start: sequence.start,
            }),
            None if is_image_demuxer(ictx.format().name()) => Some(ImageFiles::Still(path.to_owned())),
            None => None,
        };
        let audio_streams = ictx.streams().filter(|s| s.parameters().medium() == media::Type::Audio).count();
        let stream_index = pick_video_stream(&ictx).ok_or_else(|| VideoError::NoVideoStream {
            path: show(path),
            what: if audio_streams > 0 { "audio only".to_string() } else { "no audio or video streams".to_string() },
        })?;

        let (decoder, time_base, frame_rate, rotation, stream_seconds, stream_frames, indexed_packets) = {
            let stream = ictx.stream(stream_index).ok_or_else(|| VideoError::invalid(path, "video stream vanished"))?;
            let time_base = stream.time_base();
            let codec_name = stream.parameters().id().name();
            let mut ctx = codec::context::Context::from_parameters(stream.parameters())
                .map_err(|e| VideoError::ffmpeg(path, "cannot read the video stream", e))?;
            // Frame threading with an automatic thread count: decoding is rarely the bottleneck, but it is free speed.
            ctx.set_threading(codec::threading::Config { kind: codec::threading::Type::Frame, ..Default::default() });
            let mut opening = ctx.decoder();
            opening.set_packet_time_base(time_base);
            let decoder = opening
                .video()
                .map_err(|e| VideoError::ffmpeg(path, format!("cannot decode video codec {codec_name}"), e))?;
            let frame_rate = [stream.avg_frame_rate(), stream.rate()]
                .into_iter()
                .map(Rational::from)
                .find(|r| r.is_valid())
                .unwrap_or(Rational::new(25, 1));
            let stream_seconds = (stream.duration() > 0).then(|| stream.duration() as f64 * f64::from(time_base));
            let indexed_packets = u64::try_from(stream.frames()).ok().filter(|&n| n > 0);
            // A picture read as footage is one frame.
            let one_picture = matches!(images, Some(ImageFiles::Still(_))).then_some(1);
            let stream_frames = indexed_packets.or(sequence.as_ref().map(|s| s.frames)).or(one_picture);
            (
                decoder,
                Rational::from(time_base),
                frame_rate,
                rotation_of(&stream),
                stream_seconds,
                stream_frames,
                indexed_packets,
            )
        };

        let origin_seconds = container_start_seconds(&ictx);
        let file_seconds = stream_seconds
            .or_else(|| (ictx.duration() > 0).then(|| ictx.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)));

        let start = opts.start_seconds.max(0.0);
        if start > 0.0 {
            // Land on the keyframe at or before the start; frames before it are decoded and dropped.
            let target = ((origin_seconds + start) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
            // A failed seek (unseekable input) just means decoding from the beginning.
            let _ = ictx.seek(target, ..target);
        }

        // An image's EXIF orientation stands where a video's display matrix would.
        let rotation = match images.as_ref().and_then(|files| files.file(0)) {
            Some(first) => {
                let orientation = image_orientation(&first);
                if swaps_axes(orientation) { 90 } else { rotation_part(orientation) }
            }
            None => rotation,
        };
        let (width, height) = upright_size(decoder.width(), decoder.height(), rotation, opts.width);
        let scaled = if rotation % 180 == 90 { (height, width) } else { (width, height) };
        let (duration_seconds, frame_count) = span_estimate(opts, start, file_seconds, stream_frames, frame_rate);
        let tick = time_base.as_f64();
        let nominal_frame_ticks = ((1.0 / frame_rate.as_f64()) / tick).round().max(1.0) as i64;

        let mut reader = VideoReader {
            path: path.to_path_buf(),
            ictx,
            stream_index,
            decoder,
            tick,
            origin_seconds,
            opts: ReadOptions { start_seconds: start, ..opts.clone() },
            rotation,
            images,
            scaled,
            scaler: None,
            decoded: frame::Video::empty(),
            first_pts: None,
            last_source_pts: None,
            last_rel_pts: None,
            nominal_frame_ticks,
            produced: 0,
            returned: 0,
            buffered: None,
            eof_sent: false,
            done: false,
            info: VideoInfo {
                width,
                height,
                time_base,
                frame_rate,
                frame_count,
                duration_seconds,
                start_seconds: start,
                audio_streams,
                rotation,
            },
            damage: Damage { seeked: start > 0.0, indexed_packets, ..Damage::default() },
        };

        // Decode the first frame now: its real time is needed for cutting audio, and an empty span is an error.
        let first = reader.decode_next()?.ok_or_else(|| match file_seconds {
            // The user's --start, past the end: bad input (exit 2), as a batch job says.
            Some(len) if start > 0.0 => VideoError::PastTheEnd {
                path: show(path),
                what: format!(
                    "{} {start}: no video frames at or after {start:.3}s (the video is {len:.3}s long)",
                    crate::error::mention("start")
                ),
            },
            _ => VideoError::invalid(path, "no decodable video frames"),
        })?;
        if let Some(first_pts) = reader.first_pts {
            reader.info.start_seconds = first_pts as f64 * tick - origin_seconds;
        }
        if let Some(files) = &reader.images {
            // The rotation of the first image's orientation, mirroring included.
            let orientation =
                files.file(reader.first_pts.unwrap_or(0)).map_or(Orientation::NoTransforms, |f| image_orientation(&f));
            reader.info.rotation = rotation_part(orientation);
        }
        reader.buffered = Some(first);
        Ok(reader)
    }

    pub(crate) fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// Frames of the file read so far that could not be decoded (a damaged clip plays with
    /// holes): packets the decoder refused or reported broken and, once the whole file has been
    /// read from its start, packets that never came out as a frame. Ask after the last frame.
    pub fn undecodable_frames(&self) -> u64 {
        self.damage.undecodable()
    }

    /// Next frame in presentation order, or `None` at the end of the span.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        if self.done || self.opts.max_frames.is_some_and(|max| self.returned >= max) {
            self.done = true;
            return Ok(None);
        }
        let frame = match self.buffered.take() {
            Some(frame) => Some(frame),
            None => self.decode_next()?,
        };
        match frame {
            Some(frame) => {
                self.returned += 1;
                Ok(Some(frame))
            }
            None => {
                self.done = true;
                Ok(None)
            }
        }
    }

    /// Decode until a frame inside the span comes out; `None` when the span or file ends.
    fn decode_next(&mut self) -> Result<Option<Frame>, VideoError> {
        loop {
            let received = self.decoder.receive_frame(&mut self.decoded);
            if received.is_ok() {
                self.damage.frames_out += 1;
            }
            match received {
                Ok(()) => match self.place_frame() {
                    Placement::Skip => continue,
                    Placement::Stop => return Ok(None),
                    Placement::Keep(rel_pts) => return self.convert(rel_pts).map(Some),
                },
                Err(ffmpeg::Error::Eof) => {
                    self.damage.drained = true;
                    return Ok(None);
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    if !self.feed_decoder()? {
                        return Ok(None);
                    }
                }
                // Frame-threaded decoders report damaged packets here; skip them like the ffmpeg CLI does.
                Err(ffmpeg::Error::InvalidData) => self.damage.failed_frames += 1,
                Err(e) => return Err(self.decoding_failed(e)),
            }
        }
    }

    /// A decoder's failure: before any frame, the file is not footage FFmpeg can read (bad input,
    /// as a text file named `.png`); after one, the work failed.
    fn decoding_failed(&self, error: ffmpeg::Error) -> VideoError {
        if self.damage.frames_out == 0 {
            return VideoError::NotMedia { path: show(&self.path), reason: format!("no frame decodes: {error}") };
        }
        VideoError::ffmpeg(&self.path, "video decoding failed", error)
    }

    /// Send the next packet of our stream (or end-of-stream); false when nothing more can be sent.
    fn feed_decoder(&mut self) -> Result<bool, VideoError> {
        if self.eof_sent {
            return Ok(false);
        }
        let mut packet = ffmpeg::Packet::empty();
        let mut rejected = 0;
        loop {
            match packet.read(&mut self.ictx) {
                Ok(()) if packet.stream() != self.stream_index => continue,
                Ok(()) => match self.send_counted(&packet) {
                    Ok(()) => {
                        // SAFETY: a plain field read of the packet just read.
                        let flags = unsafe { (*packet.as_ptr()).flags };
                        if flags & ffmpeg::ffi::AV_PKT_FLAG_DISCARD == 0 {
                            self.damage.packets_in += 1;
                        }
                        return Ok(true);
                    }
                    Err(e) => {
                        // Damaged packet: skip it, but don't spin forever on a hopeless stream.
                        self.damage.rejected_packets += 1;
                        rejected += 1;
                        if rejected >= MAX_CONSECUTIVE_DECODE_ERRORS {
                            return Err(VideoError::ffmpeg(&self.path, "video stream is damaged", e));
                        }
                    }
                },
                // EOF, or a read error from a truncated/damaged file: drain what the decoder holds.
                Err(_) => {
                    self.eof_sent = true;
                    return match self.decoder.send_eof() {
                        Ok(()) => Ok(true),
                        Err(ffmpeg::Error::Eof) => Ok(false),
                        Err(e) => Err(self.decoding_failed(e)),
                    };
                }
            }
        }
    }

    /// Sends a packet of the stream to the decoder, counting it as read.
    fn send_counted(&mut self, packet: &ffmpeg::Packet) -> Result<(), ffmpeg::Error> {
        self.damage.packets_read += 1;
        self.decoder.send_packet(packet)
    }

    /// Decide whether the decoded frame is before, inside or after the span.
    fn place_frame(&mut self) -> Placement {
        let source_pts = self.decoded.timestamp().or_else(|| self.decoded.pts()).unwrap_or_else(|| {
            // No timestamp at all: assume the nominal frame rate.
            self.last_source_pts.map_or(0, |last| last + self.nominal_frame_ticks)
        });
        self.last_source_pts = Some(source_pts);
        let first = match self.first_pts {
            Some(first) => first,
            None => {
                let seconds = source_pts as f64 * self.tick - self.origin_seconds;
                if seconds < self.opts.start_seconds - START_TOLERANCE_SECONDS {
                    return Placement::Skip;
                }
                self.first_pts = Some(source_pts);
                source_pts
            }
        };
        let mut rel = source_pts - first;
        // Encoders need strictly increasing timestamps; nudge duplicates/backsteps of broken files.
        if let Some(last) = self.last_rel_pts
            && rel <= last
        {
            rel = last + 1;
        }
        if let Some(max) = self.opts.max_seconds
            && rel as f64 * self.tick >= max - START_TOLERANCE_SECONDS
        {
            return Placement::Stop;
        }
        self.last_rel_pts = Some(rel);
        Placement::Keep(rel)
    }

    /// Convert the decoded frame to upright packed RGB24.
    fn convert(&mut self, rel_pts: i64) -> Result<Frame, VideoError> {
        // Each image of an image input turns as its own EXIF orientation says.
        let orientation = match &self.images {
            Some(files) => {
                let source_pts = self.last_source_pts.unwrap_or(0);
                files.file(source_pts).map_or(Orientation::NoTransforms, |file| image_orientation(&file))
            }
            None => Orientation::NoTransforms,
        };
        if self.images.is_some() {
            let (width, height) = (self.info.width, self.info.height);
            self.scaled = if swaps_axes(orientation) { (height, width) } else { (width, height) };
        }
        let (dw, dh) = self.scaled;
        let source = (self.decoded.format(), self.decoded.width(), self.decoded.height(), dw, dh);
        if self.scaler.as_ref().is_none_or(|s| s.source != source) {
            self.scaler = Some(self.make_scaler(source)?);
        }
        let Some(scaler) = self.scaler.as_mut() else {
            return Err(VideoError::invalid(&self.path, "no scaler"));
        };
        scaler
            .ctx
            .run(&self.decoded, &mut scaler.out)
            .map_err(|e| VideoError::ffmpeg(&self.path, "pixel format conversion failed", e))?;

        let (w, h) = self.scaled;
        let row = w as usize * 3;
        let stride = scaler.out.stride(0);
        let data = scaler.out.data(0);
        let mut rgb = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            rgb.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        let (width, height, rgb) = match self.images {
            Some(_) => orient_rgb(rgb, w, h, orientation),
            None => rotate_rgb(rgb, w, h, self.rotation),
        };

        let frame = Frame { index: self.produced, pts: rel_pts, width, height, rgb };
        self.produced += 1;
        Ok(frame)
    }

    fn make_scaler(&self, source: (Pixel, u32, u32, u32, u32)) -> Result<Scaler, VideoError> {
        let (format, w, h, dw, dh) = source;
        let mut ctx = scaling::Context::get(format, w, h, Pixel::RGB24, dw, dh, scaling::Flags::BICUBIC)
            .map_err(|e| VideoError::ffmpeg(&self.path, format!("cannot convert {format:?} {w}x{h} to RGB"), e))?;
        if is_yuv(format) {
            let space = match self.decoded.color_space() {
                // Untagged video: HD is almost always BT.709, SD BT.601 (what players assume).
                ffmpeg::color::Space::Unspecified | ffmpeg::color::Space::Reserved => {
                    if h >= 720 {
                        ffmpeg::color::Space::BT709
                    } else {
                        ffmpeg::color::Space::BT470BG
                    }
                }
                other => other,
            };
            let full_range = self.decoded.color_range() == ffmpeg::color::Range::JPEG
                || matches!(format, Pixel::YUVJ420P | Pixel::YUVJ422P | Pixel::YUVJ444P | Pixel::YUVJ440P);
            set_sws_colorspace(&mut ctx, space, full_range, true);
        }
        Ok(Scaler { source, ctx, out: frame::Video::empty() })
    }
}

enum Placement {
    Skip,
    Keep(i64),
    Stop,
}

/// Opens a numbered run of images with FFmpeg's image2 demuxer at `fps`.
fn open_sequence(
    path: &Path,
    sequence: &super::sequence::Sequence,
    fps: Option<f64>,
) -> Result<format::context::Input, VideoError> {
    let mut options = ffmpeg::Dictionary::new();
    options.set("start_number", &sequence.start.to_string());
    options.set("pattern_type", "sequence");
    if let Some(fps) = fps {
        options.set("framerate", &fps.to_string());
    }
    format::input_with_dictionary(&sequence.pattern, options)
        .map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })
}

/// Distinguish "missing" and "empty" from FFmpeg's generic open failure.
fn check_input_file(path: &Path) -> Result<(), VideoError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VideoError::NotFound { path: show(path) }),
        Err(e) => Err(VideoError::io(path, "cannot read file", e)),
        Ok(meta) if meta.is_file() && meta.len() == 0 => Err(VideoError::EmptyFile { path: show(path) }),
        Ok(_) => Ok(()),
    }
}

/// The best video stream that is real video (not cover art).
fn pick_video_stream(ictx: &format::context::Input) -> Option<usize> {
    let is_movie = |s: &format::stream::Stream| {
        s.parameters().medium() == media::Type::Video
            && !s.disposition().contains(format::stream::Disposition::ATTACHED_PIC)
    };
    ictx.streams()
        .best(media::Type::Video)
        .filter(|s| is_movie(s))
        .or_else(|| ictx.streams().find(|s| is_movie(s)))
        .map(|s| s.index())
}

/// Clockwise rotation needed to show the stream upright, following the ffmpeg CLI's autorotate.
fn rotation_of(stream: &format::stream::Stream) -> u32 {
    let Some(side) = stream.side_data().find(|sd| sd.kind() == codec::packet::side_data::Type::DisplayMatrix) else {
        return 0;
    };
    let bytes = side.data();
    if bytes.len() < 36 {
        return 0;
    }
    let m: Vec<f64> = bytes[..36]
        .chunks_exact(4)
        .map(|c| f64::from(i32::from_ne_bytes([c[0], c[1], c[2], c[3]])) / 65536.0)
        .collect();
    let (scale0, scale1) = (m[0].hypot(m[3]), m[1].hypot(m[4]));
    if scale0 == 0.0 || scale1 == 0.0 {
        return 0;
    }
    // Same as -av_display_rotation_get(): counter-clockwise angle of the matrix, negated.
    let theta = (m[1] / scale1).atan2(m[0] / scale0).to_degrees().round();
    let theta = theta - 360.0 * (theta / 360.0 + 0.9 / 360.0).floor();
    match theta.round() as i64 {
        89..=91 => 90,
        179..=181 => 180,
        269..=271 => 270,
        _ => 0,
    }
}

/// Frame size after rotation and the optional width scaling.
fn upright_size(w: u32, h: u32, rotation: u32, want_width: Option<u32>) -> (u32, u32) {
    let (dw, dh) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    match want_width {
        Some(tw) if tw > 0 && tw != dw && dw > 0 => {
            let th = (f64::from(dh) * f64::from(tw) / f64::from(dw)).round().max(1.0);
            (tw, th as u32)
        }
        _ => (dw, dh),
    }
}

/// (duration, frame count) estimates of the span that will be read.
fn span_estimate(
    opts: &ReadOptions,
    start: f64,
    file_seconds: Option<f64>,
    stream_frames: Option<u64>,
    rate: Rational,
) -> (Option<f64>, Option<u64>) {
    let fps = rate.as_f64();
    let mut seconds = file_seconds.map(|d| (d - start).max(0.0));
    if let Some(max) = opts.max_seconds {
        seconds = Some(seconds.map_or(max, |s| s.min(max)));
    }
    if let Some(max) = opts.max_frames {
        let limit = max as f64 / fps;
        seconds = Some(seconds.map_or(limit, |s| s.min(limit)));
    }
    let whole_file = start == 0.0 && opts.max_seconds.is_none();
    let mut count = match stream_frames {
        Some(n) if whole_file => Some(n),
        _ => seconds.map(|s| (s * fps).round() as u64),
    };
    if let Some(max) = opts.max_frames {
        count = Some(count.map_or(max, |c| c.min(max)));
    }
    (seconds, count)
}

/// True for YUV formats, the only ones whose matrix/range matter for the RGB conversion.
fn is_yuv(format: Pixel) -> bool {
    format.descriptor().is_some_and(|d| {
        // SAFETY: the descriptor pointer comes from av_pix_fmt_desc_get and is static.
        let flags = unsafe { (*d.as_ptr()).flags };
        d.nb_components() >= 3 && flags & ffmpeg::ffi::AV_PIX_FMT_FLAG_RGB as u64 == 0
    })
}

/// Packed RGB24 turned and mirrored as an EXIF orientation says; returns (width, height, pixels).
fn orient_rgb(rgb: Vec<u8>, w: u32, h: u32, orientation: Orientation) -> (u32, u32, Vec<u8>) {
    if orientation == Orientation::NoTransforms {
        return (w, h, rgb);
    }
    let Some(picture) = image::RgbImage::from_raw(w, h, rgb.clone()) else { return (w, h, rgb) };
    let mut picture = image::DynamicImage::ImageRgb8(picture);
    picture.apply_orientation(orientation);
    let upright = picture.into_rgb8();
    (upright.width(), upright.height(), upright.into_raw())
}

/// Rotate packed RGB24 clockwise by 0/90/180/270 degrees; returns (width, height, pixels).
fn rotate_rgb(rgb: Vec<u8>, w: u32, h: u32, rotation: u32) -> (u32, u32, Vec<u8>) {
    let (w, h) = (w as usize, h as usize);
    let at = |x: usize, y: usize| (y * w + x) * 3;
    let mut out = vec![0u8; rgb.len()];
    let (ow, oh) = match rotation {
        90 => (h, w),
        180 => (w, h),
        270 => (h, w),
        _ => return (w as u32, h as u32, rgb),
    };
    for y in 0..h {
        for x in 0..w {
            let (ox, oy) = match rotation {
                90 => (h - 1 - y, x),
                180 => (w - 1 - x, h - 1 - y),
                _ => (y, w - 1 - x),
            };
            let dst = (oy * ow + ox) * 3;
            out[dst..dst + 3].copy_from_slice(&rgb[at(x, y)..at(x, y) + 3]);
        }
    }
    (ow as u32, oh as u32, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::testutil::{ffmpeg as run_ffmpeg, make_clip};
    use std::process::Command;

    fn read_all(path: &Path, opts: &ReadOptions) -> Result<(VideoInfo, Vec<Frame>), VideoError> {
        let mut reader = VideoReader::open(path, opts)?;
        let info = reader.info().clone();
        let mut frames = Vec::new();
        while let Some(frame) = reader.next_frame()? {
            frames.push(frame);
        }
        Ok((info, frames))
    }

    fn open_err(path: &Path) -> String {
        match VideoReader::open(path, &ReadOptions::default()) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_generated_clip() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.0);
        let (info, frames) = read_all(&clip, &ReadOptions::default()).unwrap();
        assert_eq!((info.width, info.height), (64, 48));
        assert_eq!(info.frame_rate, Rational::new(25, 1));
        assert_eq!(info.audio_streams, 1);
        assert_eq!(info.frame_count, Some(25));
        assert_eq!(frames.len(), 25);
        assert_eq!(frames[0].pts, 0);
        assert!(frames.windows(2).all(|w| w[1].pts > w[0].pts));
        assert!(frames.iter().enumerate().all(|(i, f)| f.index == i as u64));
        assert!(frames.iter().all(|f| f.rgb.len() == 64 * 48 * 3));
        let mut reader = VideoReader::open(&clip, &ReadOptions::default()).unwrap();
        while reader.next_frame().unwrap().is_some() {}
        assert_eq!(reader.undecodable_frames(), 0);
    }

    /// Reads every frame and counts those that could not be decoded.
    fn read_counting(path: &Path) -> (usize, u64) {
        let mut reader = VideoReader::open(path, &ReadOptions::default()).unwrap();
        let mut frames = 0;
        while reader.next_frame().unwrap().is_some() {
            frames += 1;
        }
        (frames, reader.undecodable_frames())
    }

    #[test]
    fn frames_a_damaged_clip_loses_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.92);
        assert_eq!(read_counting(&clip), (48, 0));
        let mut bytes = std::fs::read(&clip).unwrap();
        // Garbage over some frames in the middle of the media data; the index stays whole.
        let middle = bytes.len() / 2;
        bytes[middle..middle + 3000].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 37 % 251) as u8);
        let damaged = dir.path().join("damaged.mp4");
        std::fs::write(&damaged, &bytes).unwrap();
        let (frames, undecodable) = read_counting(&damaged);
        assert!(frames < 48, "{frames} frames");
        assert_eq!(frames as u64 + undecodable, 48, "{frames} frames, {undecodable} undecodable");
    }

    /// A JPEG of `width` x `height`, left half red and right half blue, with an EXIF orientation tag.
    fn jpeg(path: &Path, width: u32, height: u32, orientation: Option<u8>) {
        let picture = image::RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) }
        });
        let mut bytes = Vec::new();
        picture.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
        if let Some(orientation) = orientation {
            // A big-endian TIFF block with one entry: tag 0x0112 (orientation), SHORT, 1 value.
            let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".to_vec();
            tiff.extend([orientation, 0, 0, 0, 0, 0, 0]);
            let mut app1 = vec![0xff, 0xe1];
            app1.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
            app1.extend(b"Exif\0\0");
            app1.extend(tiff);
            bytes.splice(2..2, app1);
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// The colour at (x, y) of a frame: 'r', 'b' or '?'.
    fn colour(frame: &Frame, x: u32, y: u32) -> char {
        let at = ((y * frame.width + x) * 3) as usize;
        match frame.rgb[at..at + 3] {
            [r, _, b] if r > 200 && b < 60 => 'r',
            [r, _, b] if b > 200 && r < 60 => 'b',
            _ => '?',
        }
    }

    #[test]
    fn images_turn_as_their_exif_orientation_says() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("photos");
        std::fs::create_dir(&folder).unwrap();
        // Phone photos stored sideways and tagged 6 ("turn 90 degrees clockwise"), and one that is
        // already upright (its red half on top, as the others' once turned).
        jpeg(&folder.join("p_001.jpg"), 40, 20, Some(6));
        jpeg(&folder.join("p_002.jpg"), 40, 20, Some(6));
        let upright =
            image::RgbImage::from_fn(
                20,
                40,
                |_, y| {
                    if y < 20 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) }
                },
            );
        upright.save(folder.join("p_003.jpg")).unwrap();
        let (info, frames) = read_all(&folder, &ReadOptions::default()).unwrap();
        assert_eq!((info.width, info.height, info.rotation), (20, 40, 90));
        assert_eq!(frames.len(), 3);
        for frame in &frames {
            assert_eq!((frame.width, frame.height), (20, 40));
            assert_eq!((colour(frame, 10, 5), colour(frame, 10, 35)), ('r', 'b'), "frame {}", frame.index);
        }
        let (info, frames) = read_all(&folder, &ReadOptions { width: Some(10), ..Default::default() }).unwrap();
        assert_eq!((info.width, info.height, frames[0].width, frames[0].height), (10, 20, 10, 20));

        // One still turned the other way (8: 90 degrees counter-clockwise), and a mirrored one (2).
        let still = dir.path().join("still.jpg");
        jpeg(&still, 40, 20, Some(8));
        let (info, frames) = read_all(&still, &ReadOptions::default()).unwrap();
        assert_eq!((info.width, info.height, info.rotation), (20, 40, 270));
        assert_eq!((colour(&frames[0], 10, 5), colour(&frames[0], 10, 35)), ('b', 'r'));
        jpeg(&still, 40, 20, Some(2));
        let (info, frames) = read_all(&still, &ReadOptions::default()).unwrap();
        assert_eq!((info.width, info.height), (40, 20));
        assert_eq!((colour(&frames[0], 5, 10), colour(&frames[0], 35, 10)), ('b', 'r'));
    }

    #[test]
    fn audio_first_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 0.4);
        let swapped = dir.path().join("swapped.mkv");
        run_ffmpeg(&[
            "-i",
            clip.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "0:v",
            "-c",
            "copy",
            swapped.to_str().unwrap(),
        ]);
        let (info, frames) = read_all(&swapped, &ReadOptions::default()).unwrap();
        assert_eq!(frames.len(), 10);
        assert_eq!((info.width, info.height), (64, 48));
    }

    #[test]
    fn start_and_max_frames() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.2);
        let opts = ReadOptions { start_seconds: 0.5, max_frames: Some(5), ..Default::default() };
        let (info, frames) = read_all(&clip, &opts).unwrap();
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[0].pts, 0);
        // Frames sit at multiples of 0.04 s: the first one at or after 0.5 s is 0.52 s (frame 13).
        assert!((info.start_seconds - 0.52).abs() < 1e-3, "{}", info.start_seconds);
        assert_eq!(info.frame_count, Some(5));
        let (_, all) = read_all(&clip, &ReadOptions::default()).unwrap();
        assert_eq!(frames[0].rgb, all[13].rgb);
        assert_eq!(frames[4].pts - frames[0].pts, all[17].pts - all[13].pts);
    }

    #[test]
    fn max_seconds_and_width() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.0);
        let opts = ReadOptions { max_seconds: Some(0.4), width: Some(32), ..Default::default() };
        let (info, frames) = read_all(&clip, &opts).unwrap();
        assert_eq!(frames.len(), 10);
        assert_eq!((info.width, info.height), (32, 24));
        assert!(frames.iter().all(|f| (f.width, f.height) == (32, 24)));
    }

    #[test]
    fn rotated_input_is_upright_like_ffmpeg_cli() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 0.2);
        let rotated = dir.path().join("rot.mp4");
        run_ffmpeg(&[
            "-i",
            clip.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v",
            "rotate=90",
            rotated.to_str().unwrap(),
        ]);
        let (info, frames) = read_all(&rotated, &ReadOptions::default()).unwrap();
        assert_eq!((info.width, info.height), (48, 64));
        assert_eq!(info.rotation % 180, 90);
        // The CLI's autorotated first frame is the reference.
        let out = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-i",
                rotated.to_str().unwrap(),
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-",
            ])
            .output()
            .unwrap();
        assert_eq!(out.stdout.len(), frames[0].rgb.len());
        let diff: u64 = out.stdout.iter().zip(&frames[0].rgb).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = diff as f64 / out.stdout.len() as f64;
        assert!(mean < 4.0, "mean difference {mean}");
    }

    #[test]
    fn error_messages() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.mp4");
        assert!(open_err(&missing).ends_with("missing.mp4: file not found"));

        let text = dir.path().join("text.mp4");
        std::fs::write(&text, "this is not a video, just some text\n".repeat(20)).unwrap();
        assert!(open_err(&text).contains("text.mp4: not a media file FFmpeg can read"));

        let empty = dir.path().join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        assert!(open_err(&empty).ends_with("empty.mp4: file is empty"));

        let audio = dir.path().join("audio.m4a");
        run_ffmpeg(&["-f", "lavfi", "-i", "sine=duration=0.3", "-c:a", "aac", audio.to_str().unwrap()]);
        assert!(open_err(&audio).ends_with("audio.m4a: no video stream (audio only)"));

        for msg in [open_err(&missing), open_err(&text), open_err(&empty), open_err(&audio)] {
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn truncated_files_fail_cleanly_or_yield_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 1.0);
        // moov at the end (ffmpeg's default): half a file has no index at all.
        let bytes = std::fs::read(&clip).unwrap();
        let cut = dir.path().join("cut.mp4");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let msg = open_err(&cut);
        assert!(msg.contains("cut.mp4: not a media file FFmpeg can read"), "{msg}");

        // moov first (+faststart): the frames before the cut decode.
        let fast = dir.path().join("fast.mp4");
        run_ffmpeg(&["-i", clip.to_str().unwrap(), "-c", "copy", "-movflags", "+faststart", fast.to_str().unwrap()]);
        let bytes = std::fs::read(&fast).unwrap();
        let cut_fast = dir.path().join("cut_fast.mp4");
        std::fs::write(&cut_fast, &bytes[..bytes.len() / 2]).unwrap();
        match VideoReader::open(&cut_fast, &ReadOptions::default()) {
            Ok(mut reader) => {
                let mut frames = 0;
                while reader.next_frame().unwrap().is_some() {
                    frames += 1;
                }
                assert!(frames < 25, "{frames} frames");
                // The frames the index lists past the cut count as not decoded.
                assert_eq!(frames + reader.undecodable_frames(), 25, "{frames} frames");
            }
            Err(e) => assert!(e.to_string().contains("cut_fast.mp4"), "{e}"),
        }
    }

    #[test]
    fn start_past_the_end_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let clip = make_clip(dir.path(), "in.mp4", 0.4);
        let opts = ReadOptions { start_seconds: 5.0, ..Default::default() };
        let msg = VideoReader::open(&clip, &opts).err().unwrap().to_string();
        assert!(msg.contains("no video frames at or after 5.000s"), "{msg}");
    }

    #[test]
    fn rotate_rgb_quarter_turns() {
        // 2x1 image: red, green.
        let rgb = vec![255, 0, 0, 0, 255, 0];
        let (w, h, cw) = rotate_rgb(rgb.clone(), 2, 1, 90);
        assert_eq!((w, h), (1, 2));
        assert_eq!(cw, vec![255, 0, 0, 0, 255, 0]);
        let (_, _, ccw) = rotate_rgb(rgb.clone(), 2, 1, 270);
        assert_eq!(ccw, vec![0, 255, 0, 255, 0, 0]);
        let (_, _, half) = rotate_rgb(rgb, 2, 1, 180);
        assert_eq!(half, vec![0, 255, 0, 255, 0, 0]);
    }
}
