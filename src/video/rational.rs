//! Time bases and frame rates as fractions, as FFmpeg keeps them.
#[cfg(feature = "video")]
use ffmpeg_next as ffmpeg;
use std::fmt;

/// A time base or frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rational {
    pub num: i32,
    pub den: i32,
}

impl Rational {
    pub fn new(num: i32, den: i32) -> Self {
        Rational { num, den }
    }

    /// The value as a float (0 when the denominator is 0).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 { 0.0 } else { f64::from(self.num) / f64::from(self.den) }
    }

    #[cfg(feature = "video")]
    pub(crate) fn is_valid(self) -> bool {
        self.num > 0 && self.den > 0
    }
}

#[cfg(feature = "video")]
impl From<ffmpeg::Rational> for Rational {
    fn from(r: ffmpeg::Rational) -> Self {
        Rational::new(r.numerator(), r.denominator())
    }
}

#[cfg(feature = "video")]
impl From<Rational> for ffmpeg::Rational {
    fn from(r: Rational) -> Self {
        ffmpeg::Rational::new(r.num, r.den)
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}
