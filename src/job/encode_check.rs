//! What a video job's output will be encoded with, checked before the first frame: a codec or CRF
//! given for an output that takes none (a GIF, a PNG sequence), a CRF outside the codec's range,
//! a frame size its encoder refuses. Each is one line naming the option, exit 2. A mistake is
//! the key at fault (the long option's name) and what is wrong.
use crate::config::settings::Settings;
use crate::video::codec::Codec;
use crate::video::{self, container::Container};
use std::path::Path;

/// Checks `settings`' codec and CRF against the output `output` and the size when it is known.
pub(crate) fn check_encode(output: &Path, settings: &Settings) -> Result<(), (&'static str, String)> {
    let unencoded = if video::is_image_sequence(output) {
        Some("an image sequence is written as PNG frames")
    } else if Container::of(output).is_ok_and(|c| c.is_gif) {
        Some("a .gif is made from the frames' own colours")
    } else {
        None
    };
    if let Some(what) = unencoded {
        for (key, given) in [("codec", settings.codec.is_some()), ("crf", settings.crf.is_some())] {
            if given {
                let message =
                    format!("{what}, with no video codec: leave --{key} out or write .mp4, .mkv, .webm or .mov");
                return Err((key, message));
            }
        }
        return Ok(());
    }
    // An unknown extension is reported, with the formats, when the output is checked.
    let Ok(container) = Container::of(output) else { return Ok(()) };
    let codec = settings.codec.unwrap_or(container.default_codec);
    check_codec(codec, settings.crf, settings.width, settings.height)
}

/// The CRF and the frame size (each side when known) against what `codec` takes.
pub(crate) fn check_codec(
    codec: Codec,
    crf: Option<u32>,
    width: Option<u32>,
    height: Option<u32>,
) -> Result<(), (&'static str, String)> {
    if let Some(crf) = crf {
        let range = codec.crf_range();
        if !range.contains(&crf) {
            let message = format!("{crf} must be between 0 and {} for {codec}", range.end());
            return Err(("crf", message));
        }
    }
    codec.check_size(width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_codec_has_its_limits() {
        let settings = |codec, crf, width, height| Settings { codec, crf, width, height, ..Default::default() };
        let problem = |output: &str, s: Settings| check_encode(Path::new(output), &s).unwrap_err();
        let p = problem("a.mp4", settings(Some(Codec::H265), Some(60), None, None));
        assert_eq!((p.0, p.1.as_str()), ("crf", "60 must be between 0 and 51 for h265"));
        assert_eq!(problem("a.mp4", settings(None, Some(52), None, None)).0, "crf");
        assert!(check_encode(Path::new("a.webm"), &settings(None, Some(63), None, None)).is_ok());
        let p = problem("a.mkv", settings(Some(Codec::Av1), None, Some(64), Some(48)));
        assert_eq!(p.0, "height");
        assert!(p.1.contains("at least 64x64; this one is 64x48"), "{}", p.1);
        assert!(check_encode(Path::new("a.mkv"), &settings(Some(Codec::Av1), None, Some(65), Some(64))).is_ok());
        assert_eq!(problem("a.gif", settings(Some(Codec::H265), None, None, None)).0, "codec");
        assert_eq!(problem("f/%04d.png", settings(None, Some(20), None, None)).0, "crf");
    }
}
