//! Container facts in one place: which extensions dreamreel writes, their muxers, default codecs
//! and audio encoders, the FFmpeg codec ids and encoders of each codec, and each container's quirks.
#![cfg(feature = "video")]
use std::path::Path;

use ffmpeg::codec;
use ffmpeg::format;
use ffmpeg_next as ffmpeg;

use super::{VideoError, show};
use crate::video::codec::Codec;

/// One output container dreamreel writes.
#[derive(Debug, PartialEq)]
pub(crate) struct Container {
    pub extension: &'static str,
    /// FFmpeg's muxer name.
    pub muxer: &'static str,
    pub default_codec: Codec,
    /// Encoders for sound the container cannot take as it is, best first.
    pub audio_encoders: &'static [&'static str],
    /// GIF is not muxed by FFmpeg: the finished segments are quantised into it at the end (see `gif.rs`).
    pub is_gif: bool,
}

const CONTAINERS: [Container; 5] = [
    Container { extension: "mp4", muxer: "mp4", default_codec: Codec::H264, audio_encoders: &["aac"], is_gif: false },
    Container { extension: "mov", muxer: "mov", default_codec: Codec::H264, audio_encoders: &["aac"], is_gif: false },
    Container {
        extension: "mkv",
        muxer: "matroska",
        default_codec: Codec::H264,
        audio_encoders: &["aac"],
        is_gif: false,
    },
    Container {
        extension: "webm",
        muxer: "webm",
        default_codec: Codec::Vp9,
        audio_encoders: &["libopus", "libvorbis"],
        is_gif: false,
    },
    Container { extension: "gif", muxer: "gif", default_codec: Codec::H264, audio_encoders: &[], is_gif: true },
];

/// The extensions of the containers that encode video, as a message lists them: ".mp4, .mov, .mkv or .webm".
pub(crate) fn encoded_extensions() -> String {
    let names: Vec<String> = CONTAINERS.iter().filter(|c| !c.is_gif).map(|c| format!(".{}", c.extension)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// What an output's name may end in: every container and GIF, or a `%05d.png` sequence.
pub(crate) fn output_names() -> String {
    let names: Vec<String> = CONTAINERS.iter().map(|c| format!(".{}", c.extension)).collect();
    format!("end it in {}, or write a %05d.png sequence", names.join(", ").replacen(", .gif", " or .gif", 1))
}

impl Container {
    /// The container of `path`'s extension (any case).
    pub fn of(path: &Path) -> Result<&'static Container, VideoError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        CONTAINERS
            .iter()
            .find(|c| c.extension == ext)
            .ok_or_else(|| VideoError::UnknownExtension { path: show(path), ext })
    }

    /// Whether `codec` can go in this container: FFmpeg's own answer, less the codecs the mov muxer
    /// claims but refuses at header time ("only supported in MP4").
    pub(crate) fn accepts(&self, octx: &format::context::Output, codec: Codec) -> bool {
        let mov_refuses = self.extension == "mov" && matches!(codec, Codec::Vp9 | Codec::Av1);
        !mov_refuses && muxer_accepts(octx, codec_id(codec))
    }

    /// The stream tag to write: Apple players only accept HEVC tagged hvc1 (FFmpeg writes hev1);
    /// 0 lets the muxer choose.
    pub(crate) fn codec_tag(&self, codec: Codec) -> u32 {
        if codec == Codec::H265 && matches!(self.extension, "mp4" | "mov") { u32::from_le_bytes(*b"hvc1") } else { 0 }
    }
}

/// Whether the muxer of `octx` can hold `id` as it is.
pub(crate) fn muxer_accepts(octx: &format::context::Output, id: codec::Id) -> bool {
    // SAFETY: the output format pointer is static FFmpeg data.
    unsafe {
        ffmpeg::ffi::avformat_query_codec(octx.format().as_ptr(), id.into(), ffmpeg::ffi::FF_COMPLIANCE_NORMAL) == 1
    }
}

pub(crate) fn codec_id(codec: Codec) -> codec::Id {
    match codec {
        Codec::H264 => codec::Id::H264,
        Codec::H265 => codec::Id::HEVC,
        Codec::Vp9 => codec::Id::VP9,
        Codec::Av1 => codec::Id::AV1,
    }
}

/// The codec of an FFmpeg id, if dreamreel writes it.
pub(crate) fn codec_of(id: codec::Id) -> Option<Codec> {
    [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1].into_iter().find(|&c| codec_id(c) == id)
}

/// Encoders for each codec, best first.
pub(crate) fn encoder_names(codec: Codec) -> &'static [&'static str] {
    match codec {
        Codec::H264 => &["libx264"],
        Codec::H265 => &["libx265"],
        Codec::Vp9 => &["libvpx-vp9"],
        Codec::Av1 => &["libsvtav1", "libaom-av1", "librav1e"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_find_their_container_in_any_case() {
        assert_eq!(Container::of(Path::new("a/b.MKV")).unwrap().muxer, "matroska");
        assert_eq!(Container::of(Path::new("x.webm")).unwrap().default_codec, Codec::Vp9);
        assert!(Container::of(Path::new("x.gif")).unwrap().is_gif);
        let err = Container::of(Path::new("x.avi")).unwrap_err().to_string();
        assert_eq!(
            err,
            "x.avi: no output format for extension .avi: end it in .mp4, .mov, .mkv, .webm or .gif, or write a %05d.png sequence"
        );
        for codec in [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1] {
            assert_eq!(codec_of(codec_id(codec)), Some(codec));
        }
    }
}
