//! The video codecs a render can encode with, by the names the command line and presets take.
use serde::{Deserialize, Serialize};

/// Video codecs for the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    H264,
    H265,
    Vp9,
    Av1,
}

impl Codec {
    pub const ALL: [Codec; 4] = [Codec::H264, Codec::H265, Codec::Vp9, Codec::Av1];

    /// Short lowercase name, as the command line takes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Vp9 => "vp9",
            Codec::Av1 => "av1",
        }
    }
}

impl Codec {
    /// The CRF values the codec's encoder takes: x264 and x265 0-51, VP9 and AV1 0-63.
    pub(crate) fn crf_range(self) -> std::ops::RangeInclusive<u32> {
        match self {
            Codec::H264 | Codec::H265 => 0..=51,
            Codec::Vp9 | Codec::Av1 => 0..=63,
        }
    }

    /// Refuses a frame size the codec's encoder would refuse when it opens (after the odd last
    /// column and row are cropped): SVT-AV1 takes 64x64 to 16384x8704, x265 16x16 and up. A side
    /// not known yet (footage's height follows its aspect) is left to the check at its real size.
    /// A refusal is the option's name (`width`, `height`) and why.
    pub fn check_size(self, width: Option<u32>, height: Option<u32>) -> Result<(), (&'static str, String)> {
        let (min, max_height) = match self {
            Codec::Av1 => (64, 8704),
            Codec::H265 => (16, 16384),
            Codec::H264 | Codec::Vp9 => (2, 16384),
        };
        let size = match (width, height) {
            (Some(w), Some(h)) => format!("; this one is {}x{}", w & !1, h & !1),
            _ => String::new(),
        };
        for (option, side) in [("width", width), ("height", height)] {
            if let Some(side) = side.map(|s| s & !1)
                && side < min
            {
                return Err((
                    option,
                    format!(
                        "a {option} of {side} is too small for {self}, which needs frames of at least {min}x{min}{size}"
                    ),
                ));
            }
        }
        if let Some(h) = height.map(|h| h & !1)
            && h > max_height
        {
            return Err((
                "height",
                format!("{h} is too tall for {self}, which takes frames at most {max_height} high"),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
