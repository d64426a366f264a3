//! The settings that may change from frame to frame, declared once.
//!
//! `per_frame_numbers!` below is the one list of the numeric per-frame settings: each line names
//! the setting's key (its long option and TOML key), its field (in `SettingsPatch`, `Settings`
//! and [`FrameNumbers`]), its kind (how it is read and stored) and its range check. The list is
//! handed to two macros: here, to make [`NumberKey`] and [`FrameNumbers`]; in
//! `config/settings.rs`, to take each from a settings layer and set and check its constant. A
//! setting added to the list is then taken from a patch, set as a constant, scheduled, checked on
//! every frame and shown by `dreamreel plan` with no other edit, and a match that forgets one does
//! not compile. [`SwitchKey`] is the same for the settings that switch at keyframes.
use crate::config::schedule::Scheduled;
use serde::Serialize;

/// How one kind of per-frame number is read, kept in [`Settings`] and kept in a frame's row.
pub trait NumberKind {
    /// Its type in [`Settings`] (a constant; `Option` where "unset" means a default decided later).
    type Setting: Clone;
    /// Its type in a frame's row.
    type Value: Clone + PartialEq + std::fmt::Debug + Serialize;
    /// Numbers per frame (a pan has two).
    const DIMENSIONS: usize;
    /// A constant as the user gave it: whole numbers must be whole.
    fn constant(numbers: &[f64]) -> std::result::Result<Self::Setting, String>;
    /// A schedule's numbers at one frame: whole numbers are rounded.
    fn at_frame(numbers: &[f64]) -> std::result::Result<Self::Value, String>;
    /// The frame value of a constant; `default_zoom` is the mode's zoom when none is set.
    fn of_setting(setting: &Self::Setting, default_zoom: f64) -> Self::Value;
    /// The numbers of a frame's value (for checks, tables and plots).
    fn numbers(value: &Self::Value) -> Vec<f64>;
    /// The numbers of a constant that is set (none for an unset zoom or blur), for its range check.
    fn set_numbers(setting: &Self::Setting) -> Vec<f64>;
}

/// A plain number (rotate, blend, step, octave scale).
pub struct Plain;
/// The zoom: unset means the mode's default (a zoom moves in, footage keeps its framing).
pub struct Zoom;
/// A number whose absence means "the objective's default" (blur).
pub struct Optional;
/// A whole number, 0 or more (iterations, jitter).
pub struct Whole;
/// Two numbers DX,DY (pan).
pub struct Pair;

impl NumberKind for Plain {
    type Setting = f64;
    type Value = f64;
    const DIMENSIONS: usize = 1;
    fn constant(numbers: &[f64]) -> std::result::Result<f64, String> {
        Ok(first(numbers))
    }
    fn at_frame(numbers: &[f64]) -> std::result::Result<f64, String> {
        Ok(first(numbers))
    }
    fn of_setting(setting: &f64, _: f64) -> f64 {
        *setting
    }
    fn numbers(value: &f64) -> Vec<f64> {
        vec![*value]
    }
    fn set_numbers(setting: &f64) -> Vec<f64> {
        vec![*setting]
    }
}

impl NumberKind for Zoom {
    type Setting = Option<f64>;
    type Value = f64;
    const DIMENSIONS: usize = 1;
    fn constant(numbers: &[f64]) -> std::result::Result<Option<f64>, String> {
        Ok(Some(first(numbers)))
    }
    fn at_frame(numbers: &[f64]) -> std::result::Result<f64, String> {
        Ok(first(numbers))
    }
    fn of_setting(setting: &Option<f64>, default_zoom: f64) -> f64 {
        setting.unwrap_or(default_zoom)
    }
    fn numbers(value: &f64) -> Vec<f64> {
        vec![*value]
    }
    fn set_numbers(setting: &Option<f64>) -> Vec<f64> {
        setting.iter().copied().collect()
    }
}

impl NumberKind for Optional {
    type Setting = Option<f64>;
    type Value = Option<f64>;
    const DIMENSIONS: usize = 1;
    fn constant(numbers: &[f64]) -> std::result::Result<Option<f64>, String> {
        Ok(Some(first(numbers)))
    }
    fn at_frame(numbers: &[f64]) -> std::result::Result<Option<f64>, String> {
        Ok(Some(first(numbers)))
    }
    fn of_setting(setting: &Option<f64>, _: f64) -> Option<f64> {
        *setting
    }
    fn numbers(value: &Option<f64>) -> Vec<f64> {
        value.iter().copied().collect()
    }
    fn set_numbers(setting: &Option<f64>) -> Vec<f64> {
        setting.iter().copied().collect()
    }
}

impl NumberKind for Whole {
    type Setting = u32;
    type Value = u32;
    const DIMENSIONS: usize = 1;
    fn constant(numbers: &[f64]) -> std::result::Result<u32, String> {
        let value = first(numbers);
        if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
            Ok(value as u32)
        } else {
            Err(format!("{value} must be a whole number, 0 or more"))
        }
    }
    fn at_frame(numbers: &[f64]) -> std::result::Result<u32, String> {
        let value = first(numbers);
        let rounded = value.round();
        if (0.0..=f64::from(u32::MAX)).contains(&rounded) {
            Ok(rounded as u32)
        } else {
            Err(format!("the schedule gives {value}, which must be 0 or more"))
        }
    }
    fn of_setting(setting: &u32, _: f64) -> u32 {
        *setting
    }
    fn numbers(value: &u32) -> Vec<f64> {
        vec![f64::from(*value)]
    }
    fn set_numbers(setting: &u32) -> Vec<f64> {
        vec![f64::from(*setting)]
    }
}

impl NumberKind for Pair {
    type Setting = (f64, f64);
    type Value = (f64, f64);
    const DIMENSIONS: usize = 2;
    fn constant(numbers: &[f64]) -> std::result::Result<(f64, f64), String> {
        Self::at_frame(numbers)
    }
    fn at_frame(numbers: &[f64]) -> std::result::Result<(f64, f64), String> {
        Ok((first(numbers), numbers.get(1).copied().unwrap_or(0.0)))
    }
    fn of_setting(setting: &(f64, f64), _: f64) -> (f64, f64) {
        *setting
    }
    fn numbers(value: &(f64, f64)) -> Vec<f64> {
        vec![value.0, value.1]
    }
    fn set_numbers(setting: &(f64, f64)) -> Vec<f64> {
        vec![setting.0, setting.1]
    }
}

pub(crate) fn first(numbers: &[f64]) -> f64 {
    numbers.first().copied().unwrap_or(0.0)
}

/// A range check: `Ok` or the message after the option's name ("2.2 must be between 0.5 and 2").
type Check = fn(&[f64]) -> std::result::Result<(), String>;

pub(crate) fn within(value: f64, low: f64, high: f64, message: String) -> std::result::Result<(), String> {
    if value.is_finite() && (low..=high).contains(&value) { Ok(()) } else { Err(message) }
}

/// Makes the key enum and a frame's numbers from the list.
macro_rules! declare_numbers {
    ($( $(#[doc = $doc:literal])* $variant:ident $field:ident : $kind:ident = $key:literal, $check:expr; )*) => {
        /// A numeric setting that may change from frame to frame.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum NumberKey { $( $(#[doc = $doc])* $variant ),* }

        impl NumberKey {
            /// Every numeric per-frame setting, in the order `plan` shows them.
            pub const ALL: &'static [NumberKey] = &[$( NumberKey::$variant ),*];

            /// The long option's name, which is also the preset, manifest and plan key.
            pub fn name(self) -> &'static str {
                match self { $( NumberKey::$variant => $key ),* }
            }

            /// Numbers per frame (a pan's two).
            pub fn dimensions(self) -> usize {
                match self { $( NumberKey::$variant => <$kind as NumberKind>::DIMENSIONS ),* }
            }

            /// The key named `name`, if it is one of these.
            pub fn named(name: &str) -> Option<NumberKey> {
                NumberKey::ALL.iter().copied().find(|key| key.name() == name)
            }

            /// Whether `numbers`, written by the user (a constant or a keyframe's value), are of
            /// the setting's kind: a whole number's must be whole.
            pub(crate) fn check_written(self, numbers: &[f64]) -> std::result::Result<(), String> {
                match self { $( NumberKey::$variant => <$kind as NumberKind>::constant(numbers).map(|_| ()) ),* }
            }

            /// The range check of one frame's numbers (or a constant's).
            pub(crate) fn check(self, numbers: &[f64]) -> std::result::Result<(), String> {
                let check: Check = match self { $( NumberKey::$variant => $check ),* };
                check(numbers)
            }
        }

        /// One frame's value of every numeric per-frame setting.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub struct FrameNumbers {
            $( #[serde(skip_serializing_if = "crate::config::per_frame::is_unset")]
               pub $field: <$kind as NumberKind>::Value, )*
        }

        impl FrameNumbers {
            /// The value of `key` as numbers (a pan's two; none for an unset blur).
            pub fn get(&self, key: NumberKey) -> Vec<f64> {
                match key { $( NumberKey::$variant => <$kind as NumberKind>::numbers(&self.$field) ),* }
            }

            /// Sets `key` from a schedule's numbers at one frame.
            pub(crate) fn set(&mut self, key: NumberKey, numbers: &[f64]) -> std::result::Result<(), String> {
                match key { $( NumberKey::$variant => self.$field = <$kind as NumberKind>::at_frame(numbers)? ),* }
                Ok(())
            }
        }
    };
}

/// The numeric per-frame settings, `Variant field: Kind = "key", check;`, handed to `$make`.
macro_rules! per_frame_numbers {
    ($make:ident) => {
        $make! {
            /// Scale per frame (`--zoom`).
            Zoom zoom: Zoom = "zoom", |n| within(n[0], 0.5, 2.0, format!("{} must be between 0.5 and 2", n[0]));
            /// Degrees per frame (`--rotate`).
            Rotate rotate: Plain = "rotate", |n| within(n[0], -180.0, 180.0, format!("{} must be within ±180 degrees", n[0]));
            /// Pixels per frame, DX,DY (`--pan`).
            Pan pan: Pair = "pan", |n| {
                let message = format!("the schedule gives {},{}, beyond 10000 pixels a frame", n[0], n[1]);
                within(n[0], -10_000.0, 10_000.0, message.clone()).and(within(n[1], -10_000.0, 10_000.0, message))
            };
            /// The fixed point of zoom and rotation across, a fraction of the width (`--center-x`).
            CenterX center_x: Plain = "center-x", |n| within(n[0], -10.0, 10.0, format!("{} must be within ±10 frame widths", n[0]));
            /// The fixed point down, a fraction of the height (`--center-y`).
            CenterY center_y: Plain = "center-y", |n| within(n[0], -10.0, 10.0, format!("{} must be within ±10 frame heights", n[0]));
            /// The perspective flip's turn about the axis through the screen, degrees (`--flip-theta`).
            FlipTheta flip_theta: Plain = "flip-theta", |n| within(n[0], -360.0, 360.0, format!("{} must be within ±360 degrees", n[0]));
            /// The flip's turn about the horizontal axis, degrees (`--flip-phi`).
            FlipPhi flip_phi: Plain = "flip-phi", |n| within(n[0], -360.0, 360.0, format!("{} must be within ±360 degrees", n[0]));
            /// The flip's turn about the vertical axis, degrees (`--flip-gamma`).
            FlipGamma flip_gamma: Plain = "flip-gamma", |n| within(n[0], -360.0, 360.0, format!("{} must be within ±360 degrees", n[0]));
            /// The flip's field of view, degrees (`--flip-fv`).
            FlipFv flip_fv: Plain = "flip-fv", |n| within(n[0], 1.0, 179.0, format!("{} must be between 1 and 179 degrees", n[0]));
            /// The 3D camera's move forward per frame, Deforum's units (`--translate-z`).
            TranslateZ translate_z: Plain = "translate-z", |n| within(n[0], -10_000.0, 10_000.0, format!("{} is beyond ±10000", n[0]));
            /// The 3D camera's turn about x per frame, degrees (`--rotate-x`).
            RotateX rotate_x: Plain = "rotate-x", |n| within(n[0], -180.0, 180.0, format!("{} must be within ±180 degrees", n[0]));
            /// The 3D camera's turn about y per frame, degrees (`--rotate-y`).
            RotateY rotate_y: Plain = "rotate-y", |n| within(n[0], -180.0, 180.0, format!("{} must be within ±180 degrees", n[0]));
            /// The 3D camera's turn about z per frame, degrees (`--rotate-z`).
            RotateZ rotate_z: Plain = "rotate-z", |n| within(n[0], -180.0, 180.0, format!("{} must be within ±180 degrees", n[0]));
            /// The 3D camera's field of view, degrees (`--fov`).
            Fov fov: Plain = "fov", |n| within(n[0], 1.0, 179.0, format!("{} must be between 1 and 179 degrees", n[0]));
            /// The 3D camera's aspect ratio (`--camera-aspect`).
            CameraAspect camera_aspect: Plain = "camera-aspect", |n| within(n[0], 0.01, 100.0, format!("{} must be between 0.01 and 100", n[0]));
            /// The new frame's share of footage's blend (`--blend`).
            Blend blend: Plain = "blend", |n| within(n[0], 0.0, 1.0, format!("{} must be between 0 and 1", n[0]));
            /// The ascent's step (`--step`).
            Step step: Plain = "step", |n| within(n[0], 0.0, 10.0, format!("{} must be between 0 and 10", n[0]));
            /// Ascent steps per octave (`--iterations`).
            Iterations iterations: Whole = "iterations", |n| within(n[0], 0.0, 10_000.0, format!("{} is more than 10000", n[0]));
            /// Random shift per step, in pixels (`--jitter`).
            Jitter jitter: Whole = "jitter", |n| within(n[0], 0.0, 1024.0, format!("{} is more than 1024 pixels", n[0]));
            /// Size ratio between octaves (`--octave-scale`).
            OctaveScale octave_scale: Plain = "octave-scale", |n| within(n[0], 1.0, 4.0, format!("{} must be between 1 and 4", n[0]));
            /// The blur prior's strength (`--blur`; unset: the objective's default).
            Blur blur: Optional = "blur", |n| within(n[0], 0.0, 1.0, format!("{} must be between 0 and 1", n[0]));
        }
    };
}
pub(crate) use per_frame_numbers;

per_frame_numbers!(declare_numbers);

/// A `--pan` is text (`2,-1`, or a schedule of pairs): a settings layer's value as the others'.
impl From<String> for Scheduled {
    fn from(text: String) -> Self {
        Scheduled::Text(text)
    }
}

/// Serialization skips an unset optional number (a blur left to the objective).
pub(crate) fn is_unset<T: Serialize>(value: &T) -> bool {
    serde_json::to_value(value).is_ok_and(|v| v.is_null())
}

/// A setting that switches at keyframes and holds its value until the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SwitchKey {
    Layers,
    Channels,
    Class,
}

impl SwitchKey {
    pub const ALL: &'static [SwitchKey] = &[SwitchKey::Layers, SwitchKey::Channels, SwitchKey::Class];

    pub fn name(self) -> &'static str {
        match self {
            SwitchKey::Layers => "layers",
            SwitchKey::Channels => "channels",
            SwitchKey::Class => "class",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_named_once_and_found_by_its_name() {
        for &key in NumberKey::ALL {
            assert_eq!(NumberKey::named(key.name()), Some(key));
        }
        assert_eq!(NumberKey::Pan.dimensions(), 2);
        assert_eq!(NumberKey::named("octave-scale"), Some(NumberKey::OctaveScale));
    }

    #[test]
    fn frames_and_constants_read_whole_numbers_differently() {
        let mut numbers = crate::config::settings::Settings::default().frame_numbers(1.05);
        assert_eq!(numbers.zoom, 1.05);
        numbers.set(NumberKey::Iterations, &[2.6]).unwrap();
        assert_eq!(numbers.get(NumberKey::Iterations), vec![3.0]);
        assert!(numbers.set(NumberKey::Jitter, &[-1.0]).is_err());
        assert_eq!(Whole::constant(&[2.5]).unwrap_err(), "2.5 must be a whole number, 0 or more");
        assert_eq!(NumberKey::Zoom.check(&[2.2]).unwrap_err(), "2.2 must be between 0.5 and 2");
        assert!(numbers.get(NumberKey::Blur).is_empty());
    }
}
