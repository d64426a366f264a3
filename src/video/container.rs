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
    /// The sound codecs (as FFmpeg names them) that players play in this container, so a copy
    /// keeps them; others the muxer takes are transcoded all the same. `None`: whatever the muxer takes.
    pub played_sound: Option<&'static [&'static str]>,
}

/// Sound that players play in MP4 as it is: the codecs with a registered MP4 sample entry that
/// browsers, phones and QuickTime decode (AAC and MP3 as `mp4a`, AC-3, E-AC-3, ALAC). FFmpeg's MP4
/// muxer also takes Vorbis (a private object type no player reads), Opus, MP2 and DTS, which most
/// players refuse there: those are transcoded to AAC, the muxer's default, as FFmpeg does without `-c:a copy`.
const MP4_PLAYED: &[&str] = &["aac", "mp3", "ac3", "eac3", "alac"];
/// MOV adds QuickTime's uncompressed sound (LPCM).
const MOV_PLAYED: &[&str] = &[
    "aac",
    "mp3",
    "ac3",
    "eac3",
    "alac",
    "pcm_s16le",
    "pcm_s16be",
    "pcm_s24le",
    "pcm_s24be",
    "pcm_s32le",
    "pcm_s32be",
    "pcm_f32le",
    "pcm_f32be",
    "pcm_u8",
];

const CONTAINERS: [Container; 4] = [
    Container {
        extension: "mp4",
        muxer: "mp4",
        default_codec: Codec::H264,
        audio_encoders: &["aac"],
        played_sound: Some(MP4_PLAYED),
    },
    Container {
        extension: "mov",
        muxer: "mov",
        default_codec: Codec::H264,
        audio_encoders: &["aac"],
        played_sound: Some(MOV_PLAYED),
    },
    // Matroska's players (VLC, mpv, browsers for WebM) play what its muxer takes.
    Container {
        extension: "mkv",
        muxer: "matroska",
        default_codec: Codec::H264,
        audio_encoders: &["aac"],
        played_sound: None,
    },
    Container {
        extension: "webm",
        muxer: "webm",
        default_codec: Codec::Vp9,
        audio_encoders: &["libopus", "libvorbis"],
        played_sound: None,
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

    /// Whether players play sound of `codec` (FFmpeg's name, "vorbis") in this container as it
    /// is: a copy keeps only such sound, when the muxer takes it too.
    pub fn plays_sound(&self, codec: &str) -> bool {
        self.played_sound.is_none_or(|played| played.contains(&codec))
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
        let [mp4, mov, mkv] = ["mp4", "mov", "mkv"].map(|name| Container::named(name).unwrap());
        assert!(mp4.plays_sound("aac") && mp4.plays_sound("mp3") && mov.plays_sound("pcm_s16le"));
        assert!(!mp4.plays_sound("vorbis") && !mp4.plays_sound("opus") && !mov.plays_sound("vorbis"));
        assert!(!mp4.plays_sound("pcm_s16le") && mkv.plays_sound("vorbis") && mkv.plays_sound("opus"));
        for codec in [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1] {
            assert_eq!(codec_of(codec_id(codec)), Some(codec));
        }
    }
}
