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
    /// The CRF values the codec's encoder takes: x264 and x265 0-51, VP9 and AV1 0-63. The one
    /// place a CRF's range is decided.
    pub fn crf_range(self) -> std::ops::RangeInclusive<u32> {
        match self {
            Codec::H264 | Codec::H265 => 0..=51,
            Codec::Vp9 | Codec::Av1 => 0..=63,
        }
    }

    /// The CRF values some codec takes: what a CRF given before its codec is known may be.
    pub fn any_crf_range() -> std::ops::RangeInclusive<u32> {
        let highest = Codec::ALL.iter().map(|codec| *codec.crf_range().end()).max().unwrap_or(0);
        0..=highest
    }

    /// Refuses a CRF the codec's encoder does not take: "60 must be between 0 and 51 for h265".
    pub fn check_crf(self, crf: u32) -> Result<(), String> {
        let range = self.crf_range();
        match range.contains(&crf) {
            true => Ok(()),
            false => Err(format!("{crf} must be between {} and {} for {self}", range.start(), range.end())),
        }
    }

    /// The CRF when none is given: visually lossless for each encoder's scale.
    pub fn default_crf(self) -> u32 {
        match self {
            Codec::H264 => 18,
            Codec::H265 => 22,
            Codec::Vp9 => 24,
            Codec::Av1 => 28,
        }
    }

    /// FFmpeg's encoders for the codec, best first.
    pub fn encoder_names(self) -> &'static [&'static str] {
        match self {
            Codec::H264 => &["libx264"],
            Codec::H265 => &["libx265"],
            Codec::Vp9 => &["libvpx-vp9"],
            Codec::Av1 => &["libsvtav1", "libaom-av1", "librav1e"],
        }
    }

    /// The encoder's private options: the quality target (`crf`, else the codec's default) and
    /// sane speed settings.
    pub fn encoder_options(self, crf: Option<u32>) -> Vec<(&'static str, String)> {
        let mut options = vec![("crf", crf.unwrap_or(self.default_crf()).to_string())];
        let own: &[(&'static str, &str)] = match self {
            Codec::H264 => &[("preset", "medium")],
            // x265 prints its banner straight to stderr otherwise.
            Codec::H265 => &[("preset", "medium"), ("x265-params", "log-level=error")],
            // Constant-quality mode needs the bitrate target off.
            Codec::Vp9 => &[("b", "0"), ("deadline", "good"), ("cpu-used", "2"), ("row-mt", "1")],
            Codec::Av1 => &[],
        };
        options.extend(own.iter().map(|(key, value)| (*key, value.to_string())));
        options
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_codec_owns_its_crf_range_and_default() {
        assert_eq!(Codec::any_crf_range(), 0..=63);
        for codec in Codec::ALL {
            assert!(codec.crf_range().contains(&codec.default_crf()), "{codec}");
            assert!(codec.check_crf(*codec.crf_range().end()).is_ok());
            assert_eq!(codec.encoder_options(None)[0], ("crf", codec.default_crf().to_string()));
            assert!(!codec.encoder_names().is_empty());
        }
        assert_eq!(Codec::H265.check_crf(60).unwrap_err(), "60 must be between 0 and 51 for h265");
        assert_eq!(Codec::Vp9.encoder_options(Some(30))[0], ("crf", "30".to_string()));
    }
}
