//! A soundtrack decoded for analysis: its first audio stream as mono 32-bit float samples at one
//! rate, cut to a span (the audio signals of schedules are computed from it).
#![cfg(feature = "video")]
use std::path::Path;

use ffmpeg::{ChannelLayout, Packet, codec, filter, format, frame, media};
use ffmpeg_next as ffmpeg;

use super::{VideoError, container_start_seconds, init, show};

/// Decodes `path`'s first audio stream from `start_seconds` for at most `duration_seconds`, mixed
/// down to mono at `rate` Hz. `Ok(None)` when the file has no audio stream.
pub fn decode_mono(
    path: &Path,
    rate: u32,
    start_seconds: f64,
    duration_seconds: Option<f64>,
) -> Result<Option<Vec<f32>>, VideoError> {
    init()?;
    if !path.exists() {
        return Err(VideoError::NotFound { path: show(path) });
    }
    let mut ictx =
        format::input(&path).map_err(|e| VideoError::NotMedia { path: show(path), reason: e.to_string() })?;
    let Some(stream) = ictx.streams().best(media::Type::Audio) else { return Ok(None) };
    let (index, in_tb) = (stream.index(), stream.time_base());
    let context = codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| VideoError::ffmpeg(path, "cannot read the audio stream", e))?;
    let mut opening = context.decoder();
    opening.set_packet_time_base(in_tb);
    let mut decoder = opening.audio().map_err(|e| VideoError::ffmpeg(path, "cannot decode the audio", e))?;
    let layout = if decoder.channel_layout().bits() != 0 {
        decoder.channel_layout()
    } else {
        ChannelLayout::default(i32::from(decoder.channels().max(1)))
    };
    let cut_start = container_start_seconds(&ictx) + start_seconds.max(0.0);
    let source_args = format!(
        "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
        in_tb.numerator(),
        in_tb.denominator(),
        decoder.rate(),
        decoder.format().name(),
        layout.bits()
    );
    let end = duration_seconds.map_or(String::new(), |d| format!(":duration={d}"));
    let chain = format!(
        "atrim=start={cut_start}{end},asetpts=PTS-STARTPTS,aresample={rate},\
         aformat=sample_fmts=flt:sample_rates={rate}:channel_layouts=mono"
    );
    let mut graph = super::audio::audio_filter(path, &source_args, &chain)?;

    if start_seconds > 0.0 {
        let target = (cut_start * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        let _ = ictx.seek(target, ..target);
    }
    let mut samples = Vec::new();
    let (mut decoded, mut filtered) = (frame::Audio::empty(), frame::Audio::empty());
    let stop_after = duration_seconds.map(|d| cut_start + d + 1.0);
    let mut drain = |graph: &mut filter::Graph, samples: &mut Vec<f32>| {
        while let Some(mut sink) = graph.get("out") {
            if sink.sink().frame(&mut filtered).is_err() {
                break;
            }
            let count = filtered.samples();
            samples.extend_from_slice(&filtered.plane::<f32>(0)[..count]);
        }
    };
    let mut packet = Packet::empty();
    while packet.read(&mut ictx).is_ok() {
        if packet.stream() != index {
            continue;
        }
        if let (Some(stop), Some(pts)) = (stop_after, packet.pts())
            && pts as f64 * f64::from(in_tb) > stop
        {
            break;
        }
        // A damaged packet only loses its own samples.
        if decoder.send_packet(&packet).is_err() {
            continue;
        }
        push_decoded(&mut decoder, &mut graph, &mut decoded, path)?;
        drain(&mut graph, &mut samples);
    }
    let _ = decoder.send_eof();
    push_decoded(&mut decoder, &mut graph, &mut decoded, path)?;
    if let Some(mut source) = graph.get("in") {
        let _ = source.source().flush();
    }
    drain(&mut graph, &mut samples);
    Ok(Some(samples))
}

fn push_decoded(
    decoder: &mut ffmpeg::decoder::Audio,
    graph: &mut filter::Graph,
    decoded: &mut frame::Audio,
    path: &Path,
) -> Result<(), VideoError> {
    while decoder.receive_frame(decoded).is_ok() {
        let timestamp = decoded.timestamp();
        decoded.set_pts(timestamp);
        if let Some(mut source) = graph.get("in") {
            source.source().add(decoded).map_err(|e| VideoError::ffmpeg(path, "cannot filter the audio", e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::testutil::ffmpeg;

    #[test]
    fn a_tone_decodes_to_mono_at_the_asked_rate_and_span() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("tone.wav");
        let wav_arg = wav.to_str().unwrap();
        ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2", wav_arg]);
        let all = decode_mono(&wav, 22_050, 0.0, None).unwrap().unwrap();
        assert!((all.len() as i64 - 44_100).abs() < 200, "{}", all.len());
        let part = decode_mono(&wav, 22_050, 0.5, Some(1.0)).unwrap().unwrap();
        assert!((part.len() as i64 - 22_050).abs() < 200, "{}", part.len());
        let peak = part.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.05 && peak <= 1.0, "{peak}");
        let silent_video = dir.path().join("video.mp4");
        ffmpeg(&["-f", "lavfi", "-i", "color=c=red:s=64x64:d=0.2", silent_video.to_str().unwrap()]);
        assert_eq!(decode_mono(&silent_video, 22_050, 0.0, None).unwrap(), None);
        let missing = decode_mono(&dir.path().join("nope.wav"), 22_050, 0.0, None).unwrap_err();
        assert!(missing.to_string().ends_with("nope.wav: file not found"), "{missing}");
    }
}
