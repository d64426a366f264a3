//! Every setting of a render, layered built-in defaults < preset < command line, then checked once.
//!
//! [`SettingsPatch`] is what the command line's options (clap, in `src/cli/options.rs`) and a preset's or
//! batch job's table (serde) give: the TOML keys are the long option names, so `octave-scale = 1.4` in a preset
//! and `--octave-scale 1.4` on the command line mean the same thing.
use crate::config::per_frame::{FrameNumbers, NumberKey, NumberKind, Optional, Pair, Plain, Whole, Zoom};
use crate::config::schedule::{Interpolation, Schedule, Scheduled, Schedules, setting_error};
use crate::engine::fourier::Prior;
use crate::error::{Error, Result, mention};
use crate::frame::color::ColorMode;
use crate::model::kind::ModelKind;
use crate::model::precision::Precision;
use crate::video::codec::Codec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The smallest `--tile` worth its overlap (a tile reads a margin of at least 16 pixels each side).
pub(crate) const MIN_TILE: u32 = 64;

/// GoogLeNet's default layer: `inception_4c`, the layer of the 2015 DeepDream's best-known look.
pub(crate) const GOOGLENET_LAYERS: &str = "inception4c";

/// Adam steps of the Fourier prior from noise, and its learning rate: measured in BENCHMARKS.md
/// ("Objects from noise") to give objects other networks recognise, in half the time of the
/// reference's 256 steps.
pub(crate) const DEFAULT_STEPS: u32 = 128;
pub(crate) const DEFAULT_LEARNING_RATE: f64 = 0.05;
/// Adam steps of the Fourier prior when it dreams an image (`--prior fourier` on a photo, a zoom's frames).
pub(crate) const DEFAULT_IMAGE_STEPS: u32 = 16;

/// Settings that may each be absent: one layer of defaults < preset < command line. Each field
/// is the [`Settings`] field of its name; the command line's help for each is in `src/cli/options.rs`,
/// whose option groups fill a patch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SettingsPatch {
    pub model: Option<ModelKind>,
    pub weights: Option<PathBuf>,
    pub layers: Option<String>,
    pub octaves: Option<u32>,
    pub octave_scale: Option<Scheduled>,
    pub iterations: Option<Scheduled>,
    pub step: Option<Scheduled>,
    pub jitter: Option<Scheduled>,
    pub seed: Option<u64>,

    pub tile: Option<u32>,

    pub channels: Option<Vec<String>>,
    pub class: Option<String>,
    pub guide: Option<PathBuf>,
    pub blur: Option<Scheduled>,

    pub prior: Option<Prior>,
    pub steps: Option<u32>,
    pub image_steps: Option<u32>,
    pub learning_rate: Option<f64>,
    pub decay: Option<f64>,
    pub transforms: Option<bool>,
    pub mask: Option<PathBuf>,
    pub mask_invert: Option<bool>,
    pub class_layers: Option<bool>,

    pub width: Option<u32>,
    pub height: Option<u32>,

    pub zoom: Option<Scheduled>,
    pub rotate: Option<Scheduled>,
    pub pan: Option<String>,
    pub blend: Option<Scheduled>,
    pub flow: Option<bool>,
    pub scene_threshold: Option<f64>,
    pub colors: Option<ColorMode>,

    pub fps: Option<f64>,
    pub codec: Option<Codec>,
    pub crf: Option<u32>,

    pub device: Option<String>,
    pub threads: Option<u32>,
    pub precision: Option<Precision>,
    pub cudnn_benchmark: Option<bool>,
    pub cuda_graphs: Option<bool>,
    /// Frames between checkpoints of a video render (what a crash can lose at most).
    pub checkpoint_every: Option<u64>,

    /// One line saying what a preset is for (presets only).
    pub description: Option<String>,

    /// How numeric keyframes are joined (schedules, `src/config/schedule.rs`).
    pub interpolation: Option<Interpolation>,
    /// A soundtrack: analysed for the schedules' audio signals and muxed into the output.
    pub audio: Option<PathBuf>,
    /// A zoom that loops without a seam (`src/run/looping.rs`).
    #[serde(rename = "loop")]
    pub looped: Option<bool>,
}

/// Every setting with a value: the result of layering patches over the built-in defaults.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Settings {
    model: ModelKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    weights: Option<PathBuf>,
    layers: String,
    octaves: u32,
    octave_scale: f64,
    iterations: u32,
    step: f64,
    jitter: u32,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tile: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    channels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guide: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blur: Option<f64>,
    /// `None`: the Fourier prior from noise (a still, a zoom's first frame), pixel octaves for an image.
    #[serde(skip_serializing_if = "Option::is_none")]
    prior: Option<Prior>,
    steps: u32,
    image_steps: u32,
    learning_rate: f64,
    decay: f64,
    transforms: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask: Option<PathBuf>,
    mask_invert: bool,
    /// The dream raises `--layers` too, beside `--class`: unless set, when the layers are given
    /// with the class or after it (a preset's class, the command line's layers).
    class_layers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zoom: Option<f64>,
    rotate: f64,
    pan: (f64, f64),
    blend: f64,
    flow: bool,
    scene_threshold: f64,
    colors: ColorMode,
    fps: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    codec: Option<Codec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crf: Option<u32>,
    device: String,
    threads: u32,
    precision: Precision,
    cudnn_benchmark: bool,
    cuda_graphs: bool,
    checkpoint_every: u64,
    /// The settings that change over the render; the fields above hold their constants.
    #[serde(skip_serializing_if = "Schedules::is_empty")]
    schedules: Schedules,
    #[serde(skip_serializing_if = "crate::config::schedule::is_linear")]
    interpolation: Interpolation,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio: Option<PathBuf>,
    #[serde(rename = "loop", skip_serializing_if = "std::ops::Not::not")]
    looped: bool,
}

/// What the job reads of checked settings: each value, never a field (the fields stay in `config/`).
macro_rules! read_settings {
    ($($field:ident: $type:ty),* $(,)?) => {
        impl Settings {
            $(pub fn $field(&self) -> $type { self.$field.clone() })*
        }
    };
}

read_settings!(
    model: ModelKind,
    weights: Option<PathBuf>,
    layers: String,
    octaves: u32,
    seed: u64,
    tile: Option<u32>,
    channels: Vec<String>,
    class: Option<String>,
    guide: Option<PathBuf>,
    prior: Option<Prior>,
    steps: u32,
    image_steps: u32,
    learning_rate: f64,
    decay: f64,
    transforms: bool,
    mask: Option<PathBuf>,
    mask_invert: bool,
    class_layers: bool,
    width: Option<u32>,
    height: Option<u32>,
    zoom: Option<f64>,
    blur: Option<f64>,
    flow: bool,
    scene_threshold: f64,
    colors: ColorMode,
    fps: f64,
    codec: Option<Codec>,
    crf: Option<u32>,
    device: String,
    threads: u32,
    precision: Precision,
    cudnn_benchmark: bool,
    cuda_graphs: bool,
    checkpoint_every: u64,
    interpolation: Interpolation,
    audio: Option<PathBuf>,
    looped: bool,
);

impl Settings {
    /// The settings that change over the render; the values above hold their constants.
    pub fn schedules(&self) -> &Schedules {
        &self.schedules
    }

    /// The settings with both sides set to `width` x `height` when neither is (a zoom from noise's size).
    pub(crate) fn or_size(mut self, width: u32, height: u32) -> Settings {
        if self.width.is_none() && self.height.is_none() {
            (self.width, self.height) = (Some(width), Some(height));
        }
        self
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: ModelKind::Lite0,
            weights: None,
            layers: "blocks.8,blocks.10".into(),
            octaves: 4,
            octave_scale: 1.4,
            iterations: 10,
            step: 0.02,
            jitter: 16,
            seed: 0,
            tile: None,
            channels: Vec::new(),
            class: None,
            guide: None,
            blur: None,
            prior: None,
            steps: DEFAULT_STEPS,
            image_steps: DEFAULT_IMAGE_STEPS,
            learning_rate: DEFAULT_LEARNING_RATE,
            decay: 1.0,
            transforms: true,
            mask: None,
            mask_invert: false,
            class_layers: false,
            width: None,
            height: None,
            zoom: None,
            rotate: 0.0,
            pan: (0.0, 0.0),
            blend: 0.5,
            flow: true,
            scene_threshold: 0.2,
            colors: ColorMode::Match,
            fps: 24.0,
            codec: None,
            crf: None,
            device: "auto".into(),
            threads: 0,
            precision: Precision::Auto,
            cudnn_benchmark: false,
            cuda_graphs: true,
            checkpoint_every: 24,
            schedules: Schedules::default(),
            interpolation: Interpolation::Linear,
            audio: None,
            looped: false,
        }
    }
}

impl SettingsPatch {
    /// What of a preset acts on a render: a preset is shared between commands and outputs, so
    /// its keys that would do nothing here are left out rather than refused (the README says so
    /// for modes). A still (`still`) has one frame: no schedule. An output that encodes no video
    /// (PNG frames, a GIF: `encodes` false) takes no codec or CRF.
    pub(crate) fn acting_on(self, still: bool, encodes: bool) -> SettingsPatch {
        let mut patch = if still { self.without_number_schedules() } else { self };
        if still {
            let keyframes = |text: &str| crate::config::schedule::Switches::parse(text).map_or(true, |s| s.is_some());
            patch.layers = patch.layers.filter(|text| !keyframes(text));
            patch.class = patch.class.filter(|text| !keyframes(text));
            patch.channels = patch.channels.filter(|sets| !matches!(sets.as_slice(), [one] if keyframes(one)));
        }
        if !encodes {
            (patch.codec, patch.crf) = (None, None);
        }
        patch
    }
}

impl Settings {
    /// Layers `patches` in order (later wins) over the defaults and checks the result.
    pub fn resolve<'a>(patches: impl IntoIterator<Item = &'a SettingsPatch>) -> Result<Settings> {
        let mut s = Settings::default();
        let mut layers_given = false;
        let mut class_layers = false;
        // `class-layers` as the last layer that names it said it.
        let mut class_layers_asked = None;
        for p in patches {
            layers_given |= p.layers.is_some();
            macro_rules! take {
                ($($field:ident),*) => { $( if let Some(v) = &p.$field { s.$field = v.clone(); } )* };
            }
            take!(
                model,
                layers,
                octaves,
                seed,
                flow,
                scene_threshold,
                colors,
                fps,
                device,
                threads,
                precision,
                cudnn_benchmark,
                cuda_graphs,
                checkpoint_every,
                interpolation,
                steps,
                image_steps,
                learning_rate,
                decay,
                transforms,
                mask_invert
            );
            macro_rules! take_optional {
                ($($field:ident),*) => { $( if p.$field.is_some() { s.$field = p.$field.clone(); } )* };
            }
            take_optional!(weights, tile, width, height, codec, crf, audio, prior, mask);
            take_numbers(&mut s, p)?;
            if let Some(looped) = p.looped {
                s.looped = looped;
            }
            take_objective(&mut s, p)?;
            // Layers given with a class, or after it, add their look to it.
            let new_objective = p.class.is_some() || p.channels.is_some() || p.guide.is_some();
            class_layers = if new_objective { p.layers.is_some() } else { class_layers || p.layers.is_some() };
            class_layers = p.class_layers.unwrap_or(class_layers);
            class_layers_asked = p.class_layers.or(class_layers_asked);
        }
        if !layers_given && s.model == ModelKind::GoogLeNet {
            // The 2015 look: the default layers are EfficientNet's, so GoogLeNet gets its own.
            s.layers = GOOGLENET_LAYERS.into();
        }
        take_switches(&mut s)?;
        if class_layers_asked == Some(true) && s.class.is_none() {
            let message = format!("adds the layers to a class's dream: give {} too", mention("class"));
            return Err(Error::setting("class-layers", message));
        }
        s.class_layers = class_layers && s.class.is_some();
        s.check()?;
        Ok(s)
    }

    /// Range checks that name the option at fault.
    pub(crate) fn check(&self) -> Result<()> {
        fn ensure(ok: bool, option: &str, message: String) -> Result<()> {
            if ok { Ok(()) } else { Err(Error::setting(option, message)) }
        }
        ensure(self.octaves >= 1, "octaves", format!("{} must be at least 1", self.octaves))?;
        ensure(self.octaves <= 20, "octaves", format!("{} is more than 20", self.octaves))?;
        check_constants(self)?;
        check_objective_lists(&self.layers, self.class.as_deref())?;
        ensure((1..=10_000).contains(&self.steps), "steps", format!("{} must be between 1 and 10000", self.steps))?;
        ensure(self.image_steps <= 10_000, "image-steps", format!("{} is more than 10000", self.image_steps))?;
        let rate_ok = self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 10.0;
        ensure(rate_ok, "learning-rate", format!("{} must be above 0 and at most 10", self.learning_rate))?;
        let decay_ok = self.decay.is_finite() && (0.0..=4.0).contains(&self.decay);
        ensure(decay_ok, "decay", format!("{} must be between 0 and 4", self.decay))?;
        if let Some(tile) = self.tile {
            let min = MIN_TILE;
            ensure(tile >= min, "tile", format!("{tile} must be at least {min} pixels"))?;
        }
        for (option, value) in [("width", self.width), ("height", self.height)] {
            if let Some(v) = value {
                let min = crate::engine::objective::MIN_SIDE as u32;
                ensure((min..=16384).contains(&v), option, format!("{v} must be between {min} and 16384"))?;
            }
        }
        let threshold_ok = self.scene_threshold.is_finite() && (0.0..=1.0).contains(&self.scene_threshold);
        ensure(threshold_ok, "scene-threshold", format!("{} must be between 0 and 1", self.scene_threshold))?;
        // Rates are written as fractions to a thousandth (29.97 -> 29970/1000): 0.01 is the least.
        let fps_ok = self.fps.is_finite() && (0.01..=1000.0).contains(&self.fps);
        ensure(fps_ok, "fps", format!("{} must be between 0.01 and 1000", self.fps))?;
        if let Some(crf) = self.crf {
            let checked = match self.codec {
                Some(codec) => codec.check_crf(crf),
                None => {
                    let range = Codec::any_crf_range();
                    match range.contains(&crf) {
                        true => Ok(()),
                        false => Err(format!("{crf} must be between {} and {}", range.start(), range.end())),
                    }
                }
            };
            checked.map_err(|message| Error::setting("crf", message))?;
        }
        crate::model::device::check_device_name(&self.device)?;
        // A typo such as 5000 would start thousands of threads that fight over the cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        ensure(
            self.threads <= cores,
            "threads",
            format!(
                "{} is more than the {cores} processors of this machine (0, the default, uses them all)",
                self.threads
            ),
        )?;
        Ok(())
    }

    /// The settings as TOML, as a preset file would hold them.
    pub fn to_toml(&self) -> String {
        let mut text = toml::to_string(self).unwrap_or_default();
        // `pan` is written as the command line takes it, not as an array.
        text = text
            .lines()
            .map(|line| {
                if line.starts_with("pan = ") && self.schedules.number("pan").is_none() {
                    format!("pan = \"{},{}\"", self.pan.0, self.pan.1)
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        crate::config::schedule::schedules_into_toml(&self.schedules, text) + "\n"
    }
}

/// Layers and classes each named once (a second `blocks.8`, or `banana` and `954`, would do nothing).
pub(crate) fn check_objective_lists(layers: &str, class: Option<&str>) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for layer in layers.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        if seen.contains(&layer) {
            return Err(Error::setting("layers", format!("'{layer}' is named twice in '{layers}'")));
        }
        seen.push(layer);
    }
    if let Some(classes) = class {
        crate::model::imagenet::parse_classes(classes)?;
    }
    Ok(())
}

/// Layers `patch`'s objective over `settings`: one that names channels, classes or a guide
/// replaces the objective of the layers below it (a preset's), so the command line can change it.
pub(crate) fn take_objective(settings: &mut Settings, patch: &SettingsPatch) -> Result<()> {
    let given = [patch.channels.is_some(), patch.class.is_some(), patch.guide.is_some()];
    match given.iter().filter(|&&g| g).count() {
        0 => Ok(()),
        1 => {
            settings.channels = patch.channels.clone().unwrap_or_default();
            settings.class = patch.class.clone();
            settings.guide = patch.guide.clone();
            Ok(())
        }
        _ => {
            let [channels, class, guide] = ["channels", "class", "guide"].map(mention);
            Err(Error::setting("class", format!("give one of {channels}, {class} and {guide}")))
        }
    }
}

// The numeric per-frame settings (`config/per_frame.rs` lists them): each taken from a layer,
// set as a constant, read back, and a frame's numbers made from the constants.
macro_rules! settings_numbers {
    ($( $(#[doc = $doc:literal])* $variant:ident $field:ident : $kind:ident = $key:literal, $check:expr; )*) => {
        impl NumberKey {
            /// What a settings layer gives for this key: a number or a schedule's text.
            fn given(self, patch: &SettingsPatch) -> Option<Scheduled> {
                match self { $( NumberKey::$variant => patch.$field.clone().map(Into::into) ),* }
            }

            /// Sets the constant of this key in `settings` (whole numbers must be whole).
            fn set_constant(self, settings: &mut Settings, numbers: &[f64]) -> std::result::Result<(), String> {
                match self { $( NumberKey::$variant => settings.$field = <$kind as NumberKind>::constant(numbers)? ),* }
                Ok(())
            }

            /// The constant's numbers, when it is set (an unset zoom or blur has none).
            fn constant_numbers(self, settings: &Settings) -> Vec<f64> {
                let numbers = match self {
                    $( NumberKey::$variant => <$kind as NumberKind>::numbers(
                        &<$kind as NumberKind>::of_setting(&settings.$field, f64::NAN),
                    ) ),*
                };
                if numbers.iter().any(|n| n.is_nan()) { Vec::new() } else { numbers }
            }
        }

        impl SettingsPatch {
            /// The patch without its per-frame numbers that are schedules (a pan's two plain numbers are a constant).
            fn without_number_schedules(mut self) -> SettingsPatch {
                $( let schedule = match NumberKey::$variant.given(&self) {
                    Some(given) if NumberKey::$variant == NumberKey::Pan => {
                        crate::config::schedule::pan_schedule(&given.to_string()).map_or(true, |s| s.is_some())
                    }
                    Some(given) => given.number().is_none(),
                    None => false,
                };
                if schedule {
                    self.$field = None;
                } )*
                self
            }
        }

        impl Settings {
            /// Every frame's numbers when nothing is scheduled, with `default_zoom` when no zoom is set.
            pub(crate) fn frame_numbers(&self, default_zoom: f64) -> FrameNumbers {
                FrameNumbers { $( $field: <$kind as NumberKind>::of_setting(&self.$field, default_zoom) ),* }
            }
        }
    };
}

crate::config::per_frame::per_frame_numbers!(settings_numbers);

/// Layers the numeric per-frame settings of `patch` over `settings`: a number sets the setting's
/// constant (and drops a schedule an earlier layer gave it), any other text is parsed as a
/// schedule (a pan's two plain numbers are its constant).
pub(crate) fn take_numbers(settings: &mut Settings, patch: &SettingsPatch) -> Result<()> {
    for &key in NumberKey::ALL {
        let Some(given) = key.given(patch) else { continue };
        let constant = match (key, &given) {
            (NumberKey::Pan, given) => parse_pan(&given.to_string())?.map(|(dx, dy)| vec![dx, dy]),
            (_, given) => given.number().map(|n| vec![n]),
        };
        match constant {
            Some(numbers) => {
                key.set_constant(settings, &numbers).map_err(|message| Error::setting(key.name(), message))?;
                settings.schedules.set_number(key.name(), None);
            }
            None => {
                let text = given.to_string();
                let schedule =
                    Schedule::parse(&text, key.dimensions()).map_err(|e| setting_error(key.name(), &text, &e))?;
                settings.schedules.set_number(key.name(), Some(schedule));
            }
        }
    }
    Ok(())
}

/// The range checks of every numeric per-frame constant, naming the option at fault.
pub(crate) fn check_constants(settings: &Settings) -> Result<()> {
    for &key in NumberKey::ALL {
        let numbers = key.constant_numbers(settings);
        // An unset zoom or blur (the mode's or the objective's default) has nothing to check.
        if numbers.is_empty() {
            continue;
        }
        key.check(&numbers).map_err(|message| Error::setting(key.name(), message))?;
    }
    Ok(())
}

/// `--pan` as two plain numbers DX,DY: `Some` for a constant, `None` for a schedule's text.
fn parse_pan(text: &str) -> Result<Option<(f64, f64)>> {
    if crate::config::schedule::pan_schedule(text)?.is_some() {
        return Ok(None);
    }
    let bad = || Error::setting("pan", format!("'{text}' must be two numbers DX,DY such as 2,-1"));
    let (dx, dy) = text.split_once(',').ok_or_else(bad)?;
    let dx: f64 = dx.trim().parse().map_err(|_| bad())?;
    let dy: f64 = dy.trim().parse().map_err(|_| bad())?;
    if !(dx.is_finite() && dy.is_finite()) {
        return Err(bad());
    }
    if dx.abs() > 10_000.0 || dy.abs() > 10_000.0 {
        return Err(Error::setting("pan", format!("'{text}': each must be within ±10000 pixels per frame")));
    }
    Ok(Some((dx, dy)))
}

// Schedules (src/config/schedule.rs): the switches of layers, channels and classes.

/// After all layers: layers, channels and classes given as keyframes become switches, and the
/// settings keep the values of frame 0 (which the checks and a first engine see).
pub(crate) fn take_switches(settings: &mut Settings) -> Result<()> {
    let fps = settings.fps;
    let parse = |key: &str, text: &str| {
        crate::config::schedule::Switches::parse(text)
            .map_err(|e| crate::config::schedule::setting_error(key, text, &e))
    };
    let layers = parse("layers", &settings.layers.clone())?;
    if let Some(layers) = &layers {
        settings.layers = layers.at(0, fps).to_string();
    }
    settings.schedules.set_switches("layers", layers);
    let class = match settings.class.clone() {
        Some(text) => parse("class", &text)?,
        None => None,
    };
    if let Some(class) = &class {
        settings.class = Some(class.at(0, fps).to_string());
    }
    settings.schedules.set_switches("class", class);
    let channels = match settings.channels.as_slice() {
        [one] => parse("channels", &one.clone())?,
        _ => None,
    };
    if let Some(channels) = &channels {
        settings.channels = crate::config::schedule::channel_sets(channels.at(0, fps));
    }
    settings.schedules.set_switches("channels", channels);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_and_unset_fields_fall_through() {
        let preset = SettingsPatch { octaves: Some(6), step: Some(0.05.into()), ..Default::default() };
        let command_line = SettingsPatch { octaves: Some(2), ..Default::default() };
        let s = Settings::resolve([&preset, &command_line]).unwrap();
        assert_eq!((s.octaves, s.step, s.iterations), (2, 0.05, 10));
    }

    #[test]
    fn out_of_range_values_name_their_option() {
        let cases = [
            (SettingsPatch { octaves: Some(0), ..Default::default() }, "octaves: 0 must be at least 1"),
            (SettingsPatch { step: Some((-1.0).into()), ..Default::default() }, "step: -1 must be between 0 and 10"),
            (SettingsPatch { pan: Some("3".into()), ..Default::default() }, "pan: '3' must be two numbers"),
            (SettingsPatch { device: Some("gpu".into()), ..Default::default() }, "device: 'gpu' is not a device"),
        ];
        for (patch, expected) in cases {
            let err = Settings::resolve([&patch]).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err} vs {expected}");
        }
    }

    #[test]
    fn layers_join_a_class_when_given_with_it_or_after_it() {
        let class = SettingsPatch { class: Some("banana".into()), ..Default::default() };
        let layers = SettingsPatch { layers: Some("blocks.6".into()), ..Default::default() };
        let both = SettingsPatch { layers: Some("blocks.6".into()), ..class.clone() };
        let resolve = |patches: &[&SettingsPatch]| Settings::resolve(patches.iter().copied()).unwrap().class_layers;
        assert!(resolve(&[&both]) && resolve(&[&class, &layers]));
        assert!(!resolve(&[&class]) && !resolve(&[&layers, &class]) && !resolve(&[&layers]));
        let refused = SettingsPatch { class_layers: Some(false), ..both.clone() };
        assert!(!resolve(&[&refused]));
        // The resolved settings written as a preset read back the same.
        let s = Settings::resolve([&layers, &class]).unwrap();
        assert_eq!(Settings::resolve([&toml::from_str::<SettingsPatch>(&s.to_toml()).unwrap()]).unwrap(), s);
    }

    #[test]
    fn toml_keys_are_the_long_option_names() {
        let patch: SettingsPatch = toml::from_str("octave-scale = 1.3\npan = \"1,-2\"\nmodel = \"lite1\"").unwrap();
        let s = Settings::resolve([&patch]).unwrap();
        assert_eq!((s.octave_scale, s.pan, s.model), (1.3, (1.0, -2.0), ModelKind::Lite1));
        let err = toml::from_str::<SettingsPatch>("octave_scale = 1.3").unwrap_err().to_string();
        assert!(err.contains("unknown field `octave_scale`"), "{err}");
        let round_trip: SettingsPatch = toml::from_str(&s.to_toml()).unwrap();
        assert_eq!(Settings::resolve([&round_trip]).unwrap(), s);
    }
}
