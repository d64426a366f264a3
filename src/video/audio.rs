//! Audio for the writer: copy or transcode every audio stream of a source file into the output,
//! as its [`SoundPlan`] decided, cut to a time span and shifted to start at 0.
//!
//! Audio is fed to the muxer as video frames arrive (see `AudioMux::pump`), so
//! a long render never buffers its whole soundtrack.
#![cfg(feature = "video")]

use std::path::{Path, PathBuf};

use ffmpeg::{Packet, codec, decoder, encoder, filter, format, frame, media};
use ffmpeg_next as ffmpeg;

use super::sound_plan::{SoundAction, SoundPlan, decoder_format, open_decoder, open_encoder};
use super::{VideoError, container_start_seconds, show};

/// Copied packets that start this much before the cut still count as inside (rounding slack).
const TIME_SLACK_SECONDS: f64 = 1e-4;
/// After the end of the span, keep reading this long before giving up (packets are not perfectly ordered).
const READ_PAST_END_SECONDS: f64 = 1.0;

/// Audio streams being carried from one source file into an output.
pub(crate) struct AudioMux {
    path: PathBuf,
    ictx: format::context::Input,
    tracks: Vec<Track>,
    /// Absolute source time (seconds) that becomes 0 in the output.
    cut_start: f64,
    /// Output-relative end, when the caller gave a duration.
    explicit_end: Option<f64>,
    /// A packet read ahead of the video, held until the video catches up.
    pending: Option<Packet>,
    input_done: bool,
}

struct Track {
    in_index: usize,
    in_tb: ffmpeg::Rational,
    out_index: usize,
    out_tb: ffmpeg::Rational,
    mode: Mode,
}

enum Mode {
    Copy,
    Transcode(Box<Transcoder>),
}

struct Transcoder {
    decoder: decoder::Audio,
    graph: filter::Graph,
    encoder: encoder::Audio,
    enc_tb: ffmpeg::Rational,
    decoded: frame::Audio,
    filtered: frame::Audio,
}

impl AudioMux {
    /// Open the plan's source and add one output stream per sound stream, copied or transcoded as
    /// the plan decided; call before the header is written. `None` when the plan has no sound.
    pub fn open(plan: &SoundPlan, octx: &mut format::context::Output) -> Result<Option<Self>, VideoError> {
        let source = plan.source();
        let path = source.path.as_path();
        if plan.is_silent() {
            return Ok(None);
        }
        if !path.exists() {
            return Err(VideoError::NotFound { path: show(path) });
        }
        let mut ictx =
            format::input(&path).map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })?;
        let origin = container_start_seconds(&ictx);
        let start = source.start_seconds.max(0.0);
        let cut_start = origin + start;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);

        let mut tracks = Vec::new();
        for planned in plan.tracks() {
            let stream = ictx
                .stream(planned.stream)
                .filter(|s| {
                    s.parameters().medium() == media::Type::Audio && s.parameters().id().name() == planned.codec
                })
                .ok_or_else(|| {
                    VideoError::invalid(path, format!("sound stream {} changed since the render began", planned.stream))
                })?;
            let (in_index, params, in_tb) = (stream.index(), stream.parameters(), stream.time_base());
            let track = match planned.action {
                SoundAction::Copy => {
                    let mut ost = octx
                        .add_stream(encoder::find(codec::Id::None))
                        .map_err(|e| VideoError::ffmpeg(path, "cannot add an audio stream", e))?;
                    ost.set_parameters(params);
                    // SAFETY: the stream's codecpar is valid; a tag from another container may be invalid here, 0 lets the muxer pick.
                    unsafe {
                        (*ost.parameters().as_mut_ptr()).codec_tag = 0;
                    }
                    Track { in_index, in_tb, out_index: ost.index(), out_tb: in_tb, mode: Mode::Copy }
                }
                SoundAction::Transcode(encoder_name) => {
                    let (transcoder, codec) =
                        Transcoder::new(path, params, in_tb, cut_start, encoder_name, global_header)?;
                    let mut ost = octx
                        .add_stream(codec)
                        .map_err(|e| VideoError::ffmpeg(path, "cannot add an audio stream", e))?;
                    ost.set_parameters(&transcoder.encoder);
                    ost.set_time_base(transcoder.enc_tb);
                    Track {
                        in_index,
                        in_tb,
                        out_index: ost.index(),
                        out_tb: transcoder.enc_tb,
                        mode: Mode::Transcode(Box::new(transcoder)),
                    }
                }
            };
            tracks.push(track);
        }

        if start > 0.0 {
            // Land just before the cut; earlier packets are dropped (copy) or trimmed (transcode).
            let target = (cut_start * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
            // Unseekable input: reading from the beginning and dropping still works.
            let _ = ictx.seek(target, ..target);
        }
        Ok(Some(AudioMux {
            path: path.to_path_buf(),
            ictx,
            tracks,
            cut_start,
            explicit_end: source.duration_seconds.map(|d| d.max(0.0)),
            pending: None,
            input_done: false,
        }))
    }

    /// Learn the time bases the muxer chose; call right after writing the header.
    pub(crate) fn header_written(&mut self, octx: &format::context::Output) {
        for track in &mut self.tracks {
            if let Some(stream) = octx.stream(track.out_index) {
                track.out_tb = stream.time_base();
            }
        }
    }

    /// Write audio up to `until` seconds of output time.
    pub(crate) fn pump(&mut self, octx: &mut format::context::Output, until: f64) -> Result<(), VideoError> {
        self.run(octx, until, self.explicit_end)
    }

    /// Write the rest of the span (ending at the video's end unless a duration was given) and flush encoders.
    pub fn finish(&mut self, octx: &mut format::context::Output, video_end: f64) -> Result<(), VideoError> {
        let end = self.explicit_end.unwrap_or(video_end);
        self.run(octx, f64::INFINITY, Some(end))?;
        for i in 0..self.tracks.len() {
            let track = &mut self.tracks[i];
            if let Mode::Transcode(t) = &mut track.mode {
                let (out_index, out_tb) = (track.out_index, track.out_tb);
                t.flush(&self.path, octx, out_index, out_tb, end)?;
            }
        }
        Ok(())
    }

    /// Output time of the packet waiting for the video to catch up (tests check interleaving with it).
    #[cfg(test)]
    pub(crate) fn pending_seconds(&self) -> Option<f64> {
        let packet = self.pending.as_ref()?;
        let track = self.tracks.iter().find(|t| t.in_index == packet.stream())?;
        Some(packet.pts()? as f64 * f64::from(track.in_tb) - self.cut_start)
    }

    fn run(&mut self, octx: &mut format::context::Output, until: f64, end: Option<f64>) -> Result<(), VideoError> {
        loop {
            let packet = match self.pending.take() {
                Some(packet) => packet,
                None if self.input_done => return Ok(()),
                None => {
                    let mut packet = Packet::empty();
                    if packet.read(&mut self.ictx).is_err() {
                        // End of file, or damage: either way there is no more audio.
                        self.input_done = true;
                        return Ok(());
                    }
                    packet
                }
            };
            let Some(track) = self.tracks.iter_mut().find(|t| t.in_index == packet.stream()) else {
                continue;
            };
            let rel = packet.pts().or(packet.dts()).map(|ts| ts as f64 * f64::from(track.in_tb) - self.cut_start);
            if let Some(rel) = rel {
                if rel > until {
                    self.pending = Some(packet);
                    return Ok(());
                }
                if end.is_some_and(|end| rel > end + READ_PAST_END_SECONDS) {
                    self.input_done = true;
                    return Ok(());
                }
            }
            match &mut track.mode {
                Mode::Copy => copy_packet(
                    &self.path,
                    octx,
                    packet,
                    track.in_tb,
                    track.out_index,
                    track.out_tb,
                    self.cut_start,
                    end,
                )?,
                Mode::Transcode(t) => t.push_packet(&self.path, octx, &packet, track.out_index, track.out_tb, end)?,
            }
        }
    }
}

/// Copy one packet if it overlaps [0, end) of output time, shifted so the cut is at 0.
// Eight parameters: the packet's place in both streams (time bases, index, cut, end), per packet.
#[allow(clippy::too_many_arguments)]
fn copy_packet(
    path: &Path,
    octx: &mut format::context::Output,
    mut packet: Packet,
    in_tb: ffmpeg::Rational,
    out_index: usize,
    out_tb: ffmpeg::Rational,
    cut_start: f64,
    end: Option<f64>,
) -> Result<(), VideoError> {
    let Some(ts) = packet.pts().or(packet.dts()) else {
        return Ok(());
    };
    let tick = f64::from(in_tb);
    let rel = ts as f64 * tick - cut_start;
    let rel_end = rel + packet.duration() as f64 * tick;
    // Packet-accurate cut: keep packets overlapping the span (the one straddling the start primes the decoder).
    let overlaps_start = if packet.duration() > 0 { rel_end > TIME_SLACK_SECONDS } else { rel >= -TIME_SLACK_SECONDS };
    if !overlaps_start || end.is_some_and(|end| rel >= end - TIME_SLACK_SECONDS) {
        return Ok(());
    }
    let offset = (cut_start / tick).round() as i64;
    packet.set_pts(packet.pts().map(|p| p - offset));
    packet.set_dts(packet.dts().map(|d| d - offset));
    packet.rescale_ts(in_tb, out_tb);
    packet.set_stream(out_index);
    packet.set_position(-1);
    packet.write_interleaved(octx).map_err(|e| VideoError::ffmpeg(path, "cannot write audio", e))
}

impl Transcoder {
    /// Decoder -> filter (trim, shift, resample) -> encoder for one audio stream.
    // Long: one FFmpeg set-up in its order; split, its halves would pass half-built contexts around.
    fn new(
        path: &Path,
        params: codec::Parameters,
        in_tb: ffmpeg::Rational,
        cut_start: f64,
        encoder_name: &str,
        global_header: bool,
    ) -> Result<(Self, ffmpeg::Codec), VideoError> {
        let decoder = open_decoder(path, params, in_tb)?;
        let codec = encoder::find_by_name(encoder_name)
            .ok_or_else(|| VideoError::NoEncoder { path: show(path), what: format!("audio ({encoder_name})") })?;
        let (in_rate, in_layout) = decoder_format(&decoder);
        let encoder = open_encoder(path, codec, in_rate, in_layout, global_header)?;
        let (rate, layout, sample_format) = (encoder.rate() as i32, encoder.channel_layout(), encoder.format());
        let enc_tb = ffmpeg::Rational::new(1, rate);

        // atrim drops what precedes the cut, asetpts moves the cut to 0, aresample/aformat match the encoder.
        let source_args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            in_tb.numerator(),
            in_tb.denominator(),
            in_rate,
            decoder.format().name(),
            in_layout.bits()
        );
        let chain = format!(
            "atrim=start={cut_start},asetpts=PTS-{cut_start}/TB,aresample={rate},\
             aformat=sample_fmts={}:sample_rates={rate}:channel_layouts=0x{:x}",
            sample_format.name(),
            layout.bits()
        );
        let mut graph = audio_filter(path, &source_args, &chain)?;
        let fixed_frame_size = !codec.capabilities().contains(codec::capabilities::Capabilities::VARIABLE_FRAME_SIZE);
        if fixed_frame_size
            && encoder.frame_size() > 0
            && let Some(mut sink) = graph.get("out")
        {
            // Encoders like AAC want exactly frame_size samples per frame.
            sink.sink().set_frame_size(encoder.frame_size());
        }

        Ok((
            Transcoder {
                decoder,
                graph,
                encoder,
                enc_tb,
                decoded: frame::Audio::empty(),
                filtered: frame::Audio::empty(),
            },
            codec,
        ))
    }

    fn push_packet(
        &mut self,
        path: &Path,
        octx: &mut format::context::Output,
        packet: &Packet,
        out_index: usize,
        out_tb: ffmpeg::Rational,
        end: Option<f64>,
    ) -> Result<(), VideoError> {
        // A damaged packet only loses its own samples.
        if self.decoder.send_packet(packet).is_ok() {
            self.drain_decoder(path, octx, out_index, out_tb, end)?;
        }
        Ok(())
    }

    fn flush(
        &mut self,
        path: &Path,
        octx: &mut format::context::Output,
        out_index: usize,
        out_tb: ffmpeg::Rational,
        end: f64,
    ) -> Result<(), VideoError> {
        if self.decoder.send_eof().is_ok() {
            self.drain_decoder(path, octx, out_index, out_tb, Some(end))?;
        }
        if let Some(mut source) = self.graph.get("in") {
            source.source().flush().map_err(|e| VideoError::ffmpeg(path, "audio filter flush failed", e))?;
        }
        self.drain_filter(path, octx, out_index, out_tb, Some(end))?;
        self.encoder.send_eof().map_err(|e| VideoError::ffmpeg(path, "audio encoder flush failed", e))?;
        self.drain_encoder(path, octx, out_index, out_tb)
    }

    fn drain_decoder(
        &mut self,
        path: &Path,
        octx: &mut format::context::Output,
        out_index: usize,
        out_tb: ffmpeg::Rational,
        end: Option<f64>,
    ) -> Result<(), VideoError> {
        while self.decoder.receive_frame(&mut self.decoded).is_ok() {
            let ts = self.decoded.timestamp();
            self.decoded.set_pts(ts);
            let Some(mut source) = self.graph.get("in") else {
                return Err(VideoError::invalid(path, "audio filter has no input"));
            };
            source.source().add(&self.decoded).map_err(|e| VideoError::ffmpeg(path, "audio filtering failed", e))?;
            self.drain_filter(path, octx, out_index, out_tb, end)?;
        }
        Ok(())
    }

    fn drain_filter(
        &mut self,
        path: &Path,
        octx: &mut format::context::Output,
        out_index: usize,
        out_tb: ffmpeg::Rational,
        end: Option<f64>,
    ) -> Result<(), VideoError> {
        let Some(mut sink) = self.graph.get("out") else {
            return Err(VideoError::invalid(path, "audio filter has no output"));
        };
        let sink_tb = sink.sink().time_base();
        while sink.sink().frame(&mut self.filtered).is_ok() {
            let pts = self.filtered.pts().unwrap_or(0);
            let pts = ffmpeg::Rescale::rescale(&pts, sink_tb, self.enc_tb);
            self.filtered.set_pts(Some(pts));
            if let Some(end) = end {
                // Trim the tail at the end of the span (sample accurate).
                let rate = f64::from(self.enc_tb.denominator()) / f64::from(self.enc_tb.numerator());
                let start = pts as f64 / rate;
                if start >= end {
                    continue;
                }
                let keep = ((end - start) * rate).ceil() as usize;
                if keep < self.filtered.samples() {
                    self.filtered.set_samples(keep);
                }
            }
            self.encoder
                .send_frame(&self.filtered)
                .map_err(|e| VideoError::ffmpeg(path, "audio encoding failed", e))?;
            self.drain_encoder(path, octx, out_index, out_tb)?;
        }
        Ok(())
    }

    fn drain_encoder(
        &mut self,
        path: &Path,
        octx: &mut format::context::Output,
        out_index: usize,
        out_tb: ffmpeg::Rational,
    ) -> Result<(), VideoError> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.rescale_ts(self.enc_tb, out_tb);
            packet.set_stream(out_index);
            packet.write_interleaved(octx).map_err(|e| VideoError::ffmpeg(path, "cannot write audio", e))?;
        }
        Ok(())
    }
}

/// An audio filter graph from an `abuffer` with `source_args` through `chain` to a sink named
/// "out" (the transcoder's and the analysis' resampling both take this shape).
pub(crate) fn audio_filter(path: &Path, source_args: &str, chain: &str) -> Result<filter::Graph, VideoError> {
    let graph_error = |e| VideoError::ffmpeg(path, "cannot build the audio filter", e);
    let mut graph = filter::Graph::new();
    let abuffer = filter::find("abuffer").ok_or_else(|| graph_error(ffmpeg::Error::FilterNotFound))?;
    let abuffersink = filter::find("abuffersink").ok_or_else(|| graph_error(ffmpeg::Error::FilterNotFound))?;
    graph.add(&abuffer, "in", source_args).map_err(graph_error)?;
    graph.add(&abuffersink, "out", "").map_err(graph_error)?;
    graph.output("in", 0).and_then(|p| p.input("out", 0)).and_then(|p| p.parse(chain)).map_err(graph_error)?;
    graph.validate().map_err(graph_error)?;
    Ok(graph)
}
