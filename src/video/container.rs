//! Container facts in one place: the containers dreamreel writes (their extensions, muxers,
//! default codecs and sound encoders) and each container's quirks. The table is plain data, built
//! without FFmpeg too: the job decides an output's container from its name by [`Container::named`].
#[cfg(feature = "video")]
use ffmpeg::{codec, format};
#[cfg(feature = "video")]
use ffmpeg_next as ffmpeg;

use crate::video::codec::Codec;

/// One output container dreamreel writes.
#[derive(Debug, PartialEq, Eq)]
pub struct Container {
    pub extension: &'static str,
    /// FFmpeg's muxer name.
    pub muxer: &'static str,
    pub default_codec: Codec,
    /// Encoders for sound the container cannot take as it is, best first.
    pub audio_encoders: &'static [&'static str],
}

const CONTAINERS: [Container; 4] = [
    Container { extension: "mp4", muxer: "mp4", default_codec: Codec::H264, audio_encoders: &["aac"] },
    Container { extension: "mov", muxer: "mov", default_codec: Codec::H264, audio_encoders: &["aac"] },
    Container { extension: "mkv", muxer: "matroska", default_codec: Codec::H264, audio_encoders: &["aac"] },
    Container {
        extension: "webm",
        muxer: "webm",
        default_codec: Codec::Vp9,
        audio_encoders: &["libopus", "libvorbis"],
    },
];

/// The Matroska container, which holds every codec: what segments are written in.
#[cfg(feature = "video")]
pub(crate) const MATROSKA: &Container = &CONTAINERS[2];

/// The extensions of the containers that encode video, as a message lists them: ".mp4, .mov, .mkv or .webm".
pub fn encoded_extensions() -> String {
    let names: Vec<String> = CONTAINERS.iter().map(|c| format!(".{}", c.extension)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

impl Container {
    /// The container whose extension is `extension` (lowercase, without the dot).
    pub fn named(extension: &str) -> Option<&'static Container> {
        CONTAINERS.iter().find(|c| c.extension == extension)
    }
}

#[cfg(feature = "video")]
impl Container {
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
#[cfg(feature = "video")]
pub(crate) fn muxer_accepts(octx: &format::context::Output, id: codec::Id) -> bool {
    // SAFETY: the output format pointer is static FFmpeg data.
    unsafe {
        ffmpeg::ffi::avformat_query_codec(octx.format().as_ptr(), id.into(), ffmpeg::ffi::FF_COMPLIANCE_NORMAL) == 1
    }
}

#[cfg(feature = "video")]
pub(crate) fn codec_id(codec: Codec) -> codec::Id {
    match codec {
        Codec::H264 => codec::Id::H264,
        Codec::H265 => codec::Id::HEVC,
        Codec::Vp9 => codec::Id::VP9,
        Codec::Av1 => codec::Id::AV1,
    }
}

/// The codec of an FFmpeg id, if dreamreel writes it.
#[cfg(feature = "video")]
pub(crate) fn codec_of(id: codec::Id) -> Option<Codec> {
    [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1].into_iter().find(|&c| codec_id(c) == id)
}

#[cfg(all(test, feature = "video"))]
mod tests {
    use super::*;

    #[test]
    fn extensions_find_their_container_in_any_case() {
        assert_eq!(Container::named("mkv").unwrap().muxer, "matroska");
        assert_eq!(Container::named("webm").unwrap().default_codec, Codec::Vp9);
        assert_eq!(MATROSKA.extension, "mkv");
        assert!(Container::named("gif").is_none());
        assert_eq!(encoded_extensions(), ".mp4, .mov, .mkv or .webm");
        for codec in [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1] {
            assert_eq!(codec_of(codec_id(codec)), Some(codec));
        }
    }
}
