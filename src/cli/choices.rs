//! The library's enums as clap choices, with their help, so the library itself needs no clap.
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use dreamreel::config::schedule::Interpolation;
use dreamreel::engine::ascent::CarrySchedule;
use dreamreel::engine::fourier::Prior;
use dreamreel::frame::camera::{Padding, Sampling};
use dreamreel::frame::color::ColorMode;
use dreamreel::frame::transform::{Border, Resample};
use dreamreel::model::kind::ModelKind;
use dreamreel::model::precision::Precision;
use dreamreel::video::codec::Codec;
use std::marker::PhantomData;

/// An enum the command line offers by name.
pub trait Choice: Copy + Send + Sync + 'static {
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
    /// One line of help for the choice ("" for none).
    fn help(self) -> &'static str {
        ""
    }
}

impl Choice for ModelKind {
    fn all() -> &'static [Self] {
        &ModelKind::ALL
    }
    fn name(self) -> &'static str {
        ModelKind::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            ModelKind::GoogLeNet => "GoogLeNet (Inception v1) in torchvision's layout: the 2015 DeepDream network",
            _ => "",
        }
    }
}

impl Choice for Codec {
    fn all() -> &'static [Self] {
        &Codec::ALL
    }
    fn name(self) -> &'static str {
        Codec::name(self)
    }
}

impl Choice for CarrySchedule {
    fn all() -> &'static [Self] {
        &CarrySchedule::ALL
    }
    fn name(self) -> &'static str {
        CarrySchedule::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            CarrySchedule::Full => "Every frame dreamed in full, as the first (the 2015 notebook's way)",
            CarrySchedule::Half => "Half the iterations on every octave",
            CarrySchedule::SkipLowest => "The lowest octave left out, half the iterations on the others",
            CarrySchedule::Third => "A third of the iterations on every octave",
            CarrySchedule::LongStrides => "Half the iterations at twice the step",
            CarrySchedule::Flow => "Half the iterations, more as the share of new (occluded, revealed) pixels grows",
        }
    }
}

impl Choice for ColorMode {
    fn all() -> &'static [Self] {
        &ColorMode::ALL
    }
    fn name(self) -> &'static str {
        ColorMode::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            ColorMode::Match => "Match each Lab channel's mean and standard deviation to the image dreamed from",
            ColorMode::Keep => "Keep the dream's lightness only; colours (a, b) come from the image dreamed from",
            ColorMode::Free => "Leave the dream's colours as they come (they drift in long feedback renders)",
        }
    }
}

impl Choice for Border {
    fn all() -> &'static [Self] {
        &[Border::Replicate, Border::Wrap]
    }
    fn name(self) -> &'static str {
        match self {
            Border::Replicate => "replicate",
            Border::Wrap => "wrap",
        }
    }
}

impl Choice for Resample {
    fn all() -> &'static [Self] {
        &[Resample::Exact, Resample::Deforum]
    }
    fn name(self) -> &'static str {
        match self {
            Resample::Exact => "exact",
            Resample::Deforum => "deforum",
        }
    }
    fn help(self) -> &'static str {
        match self {
            Resample::Exact => "Bilinear at the exact sub-pixel position, float levels, about the true centre",
            Resample::Deforum => "As Deforum's OpenCV warp on uint8 frames: 1/32-pixel positions, 8-bit levels",
        }
    }
}

impl Choice for Sampling {
    fn all() -> &'static [Self] {
        &[Sampling::Bicubic, Sampling::Bilinear, Sampling::Nearest]
    }
    fn name(self) -> &'static str {
        match self {
            Sampling::Bicubic => "bicubic",
            Sampling::Bilinear => "bilinear",
            Sampling::Nearest => "nearest",
        }
    }
}

impl Choice for Padding {
    fn all() -> &'static [Self] {
        &[Padding::Border, Padding::Reflection, Padding::Zeros]
    }
    fn name(self) -> &'static str {
        match self {
            Padding::Border => "border",
            Padding::Reflection => "reflection",
            Padding::Zeros => "zeros",
        }
    }
}

impl Choice for Precision {
    fn all() -> &'static [Self] {
        &Precision::ALL
    }
    fn name(self) -> &'static str {
        Precision::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            Precision::Auto => "bf16 on CUDA, fp32 on the CPU (where fp32 is faster)",
            Precision::Fp32 => "Full precision",
            Precision::Fp16 => "Half precision; the objective is scaled by 1024 so small gradients survive",
            Precision::Bf16 => "fp32's exponent range with 8 bits of mantissa: no scaling needed",
        }
    }
}

impl Choice for Prior {
    fn all() -> &'static [Self] {
        &Prior::ALL
    }
    fn name(self) -> &'static str {
        Prior::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            Prior::Pixel => "The octave ascent on the pixels (dreams of an image)",
            Prior::Fourier => "Adam on a decorrelated-colour 1/f spectrum (objects from noise)",
        }
    }
}

impl Choice for Interpolation {
    fn all() -> &'static [Self] {
        &Interpolation::ALL
    }
    fn name(self) -> &'static str {
        Interpolation::name(self)
    }
    fn help(self) -> &'static str {
        match self {
            Interpolation::Linear => "Straight lines between keyframes (Deforum's default)",
            Interpolation::Cubic => "A smooth curve through the keyframes (Catmull-Rom tangents)",
        }
    }
}

/// clap's parser for a [`Choice`]: its names as possible values (listed in `--help` and in the
/// error for a wrong one), parsed into the enum.
#[derive(Clone)]
pub struct ChoiceParser<T>(PhantomData<T>);

/// The parser of `T`'s choices, for `#[arg(value_parser = choice::<T>())]`.
pub fn choice<T: Choice>() -> ChoiceParser<T> {
    ChoiceParser(PhantomData)
}

impl<T: Choice> ChoiceParser<T> {
    fn values() -> impl Iterator<Item = PossibleValue> {
        T::all().iter().map(|choice| {
            let value = PossibleValue::new(choice.name());
            if choice.help().is_empty() { value } else { value.help(choice.help()) }
        })
    }
}

impl<T: Choice> TypedValueParser for ChoiceParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let name = PossibleValuesParser::new(Self::values()).parse_ref(command, argument, value)?;
        T::all()
            .iter()
            .copied()
            .find(|choice| choice.name() == name)
            .ok_or_else(|| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("'{name}' is not a choice")))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Self::values()))
    }
}
