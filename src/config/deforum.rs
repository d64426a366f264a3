//! Deforum's settings file (the JSON it saves beside every render), read into the settings of a
//! dream zoom: what means the same in both is taken, every other key is named as ignored.
//!
//! The 2D motion (`zoom`, `angle`, `translation_x`/`_y`, `transform_center_x`/`_y`, `border`, the
//! perspective flip), the 3D camera of `animation_mode: "3D"` (`translation_z`, `rotation_3d_*`,
//! `fov_schedule`, `aspect_ratio_schedule`, `sampling_mode`, `padding_mode`; `zoom` and `angle`
//! then ignored, as Deforum ignores them), `fps`, `max_frames`, `W` and `H` are taken (README:
//! "Motion as Deforum moves it" has the table), and the file resamples as Deforum
//! (`Resample::Deforum`).
//!
//! Parseq's rendered frames (a JSON with `rendered_frames`) are read too: the per-frame
//! `zoom_delta`, `angle_delta`, `translation_x_delta` and `translation_y_delta` that Deforum uses,
//! one keyframe per frame, and `options.output_fps`.
use super::expression::{self, Place, Vars};
use super::schedule::{Scheduled, keyframes_of};
use super::settings::SettingsPatch;
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// The keys that mean the same in a dream zoom (in 3D, `zoom` and `angle` are ignored, as Deforum
/// ignores them).
const MAPPED: [&str; 28] = [
    "zoom",
    "angle",
    "translation_x",
    "translation_y",
    "fps",
    "max_frames",
    "W",
    "H",
    "transform_center_x",
    "transform_center_y",
    "border",
    "enable_perspective_flip",
    "perspective_flip_theta",
    "perspective_flip_phi",
    "perspective_flip_gamma",
    "perspective_flip_fv",
    "animation_mode",
    "translation_z",
    "rotation_3d_x",
    "rotation_3d_y",
    "rotation_3d_z",
    "fov_schedule",
    "aspect_ratio_schedule",
    "aspect_ratio_use_old_formula",
    "sampling_mode",
    "padding_mode",
    "near_schedule",
    "far_schedule",
];

/// Keys that change Deforum's picture beyond its motion: named first when ignored.
const PICTURE_KEYS: [&str; 12] = [
    "use_depth_warping",
    "depth_algorithm",
    "midas_weight",
    "prompts",
    "animation_prompts",
    "strength_schedule",
    "noise_schedule",
    "diffusion_cadence",
    "cfg_scale_schedule",
    "color_coherence",
    "seed_behavior",
    "init_image",
];

/// What a Deforum settings file gives a zoom.
#[derive(Debug, Default)]
pub struct DeforumSettings {
    /// Its motion, frame rate and size, as a layer of settings under the command line.
    pub patch: SettingsPatch,
    /// `max_frames`: the zoom's length.
    pub frames: Option<u64>,
    /// The keys that mean nothing to a dream zoom, those that change Deforum's picture (depth,
    /// prompts, strength, noise, cadence) first, then the rest sorted.
    pub ignored: Vec<String>,
    /// How many of `ignored` change the picture (the short note; the rest are for `--verbose`).
    pub picture_keys: usize,
    /// The file asks for depth warping: rendered flat, which the run says before the first frame.
    pub flat_instead_of_depth: bool,
}

/// Reads the settings file at `path` for a render of `frames` frames (`None`: its `max_frames`).
pub fn read(path: &Path, frames: Option<u64>) -> Result<DeforumSettings> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    from_json(&text, frames).map_err(|message| Error::input(path, message))
}

/// Maps the text of a settings file for a render of `frames` frames (`None`: its `max_frames`);
/// the message names the key that is wrong.
pub fn from_json(text: &str, render_frames: Option<u64>) -> std::result::Result<DeforumSettings, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not a Deforum settings file (JSON): {e}"))?;
    let Value::Object(keys) = json else {
        return Err("not a Deforum settings file: the JSON is not an object of settings".into());
    };
    if let Some(rendered) = keys.get("rendered_frames") {
        return from_parseq(&keys, rendered);
    }
    let number = |key: &str| -> std::result::Result<Option<f64>, String> {
        match keys.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(Some)
                .ok_or_else(|| format!("'{key}' must be a positive number, not {value}")),
        }
    };
    let whole = |key: &str| -> std::result::Result<Option<u64>, String> {
        match number(key)? {
            Some(v) if v.fract() == 0.0 && v <= u32::MAX as f64 => Ok(Some(v as u64)),
            Some(v) => Err(format!("'{key}' must be a whole number, not {v}")),
            None => Ok(None),
        }
    };
    let schedule = |key: &str| -> std::result::Result<Option<String>, String> {
        match keys.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!("'{key}' must be a schedule such as \"0: (1.0)\", not {other}")),
        }
    };
    let flag = |key: &str| keys.get(key).and_then(|v| v.as_bool().or_else(|| v.as_str().map(|s| s == "true")));
    let text = |key: &str| keys.get(key).and_then(Value::as_str).map(str::to_lowercase);
    let fps = number("fps")?;
    let frames = whole("max_frames")?;
    let three_d = text("animation_mode").as_deref() == Some("3d");
    let scheduled =
        |key: &str| -> std::result::Result<Option<Scheduled>, String> { Ok(schedule(key)?.map(Scheduled::Text)) };
    let mut patch = SettingsPatch {
        zoom: if three_d { None } else { scheduled("zoom")? },
        rotate: if three_d { None } else { scheduled("angle")? },
        fps,
        width: whole("W")?.map(|v| v as u32),
        height: whole("H")?.map(|v| v as u32),
        center_x: scheduled("transform_center_x")?,
        center_y: scheduled("transform_center_y")?,
        flip_theta: scheduled("perspective_flip_theta")?,
        flip_phi: scheduled("perspective_flip_phi")?,
        flip_gamma: scheduled("perspective_flip_gamma")?,
        flip_fv: scheduled("perspective_flip_fv")?,
        perspective_flip: flag("enable_perspective_flip"),
        camera_3d: Some(three_d),
        translate_z: scheduled("translation_z")?,
        rotate_x: scheduled("rotation_3d_x")?,
        rotate_y: scheduled("rotation_3d_y")?,
        rotate_z: scheduled("rotation_3d_z")?,
        fov: scheduled("fov_schedule")?,
        camera_aspect: scheduled("aspect_ratio_schedule")?,
        ..SettingsPatch::default()
    };
    if flag("aspect_ratio_use_old_formula") == Some(true)
        && let (Some(w), Some(h)) = (patch.width, patch.height)
    {
        patch.camera_aspect = Some(Scheduled::Number(f64::from(w) / f64::from(h)));
    }
    // A Deforum file moves as Deforum moves it: its uint8 frames' levels and OpenCV's positions.
    patch.resample = Some(crate::frame::transform::Resample::Deforum);
    patch.border = match text("border").as_deref() {
        None | Some("replicate") => None,
        Some("wrap") => Some(crate::frame::transform::Border::Wrap),
        Some(other) => return Err(format!("'border' must be replicate or wrap, not {other:?}")),
    };
    use crate::frame::camera::{Padding, Sampling};
    patch.camera_sampling = match text("sampling_mode").as_deref() {
        None | Some("bicubic") => None,
        Some("bilinear") => Some(Sampling::Bilinear),
        Some("nearest") => Some(Sampling::Nearest),
        Some(other) => return Err(format!("'sampling_mode' must be bicubic, bilinear or nearest, not {other:?}")),
    };
    patch.camera_padding = match text("padding_mode").as_deref() {
        None | Some("border") => None,
        Some("reflection") => Some(Padding::Reflection),
        Some("zeros") => Some(Padding::Zeros),
        Some(other) => return Err(format!("'padding_mode' must be border, reflection or zeros, not {other:?}")),
    };
    // Deforum's default is on: a 3D file without the key warps by depth too.
    let flat_instead_of_depth = three_d && flag("use_depth_warping").unwrap_or(true);
    let (x, y) = (schedule("translation_x")?, schedule("translation_y")?);
    if x.is_some() || y.is_some() {
        let (x, y) = (x.unwrap_or_else(|| "0".into()), y.unwrap_or_else(|| "0".into()));
        // The keyframes are placed for the render's length (`"max_f-1"`), at Deforum's fps (15 by default).
        let length = render_frames.or(frames).unwrap_or(120);
        let pan = join_pan(&x, &y, fps.unwrap_or(15.0), length)
            .map_err(|e| format!("translation_x {x:?} and translation_y {y:?}: {e}"))?;
        patch.pan = Some(pan);
    }
    let mut ignored: Vec<String> = keys
        .keys()
        .filter(|k| !MAPPED.contains(&k.as_str()) || (three_d && ["zoom", "angle"].contains(&k.as_str())))
        .cloned()
        .collect();
    // The keys that change the picture first (in PICTURE_KEYS' order), then the rest sorted.
    ignored.sort_by_key(|k| (PICTURE_KEYS.iter().position(|p| p == k).unwrap_or(usize::MAX), k.clone()));
    let picture_keys = ignored.iter().filter(|k| PICTURE_KEYS.contains(&k.as_str())).count();
    Ok(DeforumSettings { patch, frames, ignored, picture_keys, flat_instead_of_depth })
}

/// Parseq's rendered frames (the JSON Deforum reads as its `parseq_manifest`): one value per frame
/// of each field, which Deforum takes as they are, the motion fields from their `_delta` version
/// (Deforum's default, `parseq_use_deltas`). Each becomes a keyframe per frame.
fn from_parseq(
    keys: &serde_json::Map<String, Value>,
    rendered: &Value,
) -> std::result::Result<DeforumSettings, String> {
    let frames = rendered.as_array().filter(|f| !f.is_empty()).ok_or("'rendered_frames' must be a list of frames")?;
    // Deforum: a frame defined twice takes its last definition.
    let mut by_frame: std::collections::BTreeMap<u64, &serde_json::Map<String, Value>> = Default::default();
    for frame in frames {
        let fields = frame.as_object().ok_or("each of 'rendered_frames' must be an object")?;
        let index =
            fields.get("frame").and_then(Value::as_u64).ok_or("each rendered frame needs its 'frame' number")?;
        by_frame.insert(index, fields);
    }
    let Some(first) = by_frame.values().next().copied() else { return Err("'rendered_frames' is empty".into()) };
    // The field Deforum reads for `name`: its delta when Parseq wrote one.
    let field = |name: &str| -> Option<String> {
        [format!("{name}_delta"), name.to_string()].into_iter().find(|f| first.get(f).is_some_and(Value::is_number))
    };
    let series = |field: &str| -> std::result::Result<Vec<(u64, f64)>, String> {
        let value = |(frame, fields): (&u64, &&serde_json::Map<String, Value>)| {
            let v = fields.get(field).and_then(Value::as_f64);
            v.map(|v| (*frame, v)).ok_or_else(|| format!("frame {frame} has no number '{field}'"))
        };
        by_frame.iter().map(value).collect()
    };
    let keyframes = |values: Vec<(u64, f64)>| -> String {
        values.iter().map(|(frame, v)| format!("{frame}:({v})")).collect::<Vec<_>>().join(", ")
    };
    let mut used = vec!["frame".to_string()];
    let mut patch = SettingsPatch::default();
    if let Some(zoom) = field("zoom") {
        patch.zoom = Some(Scheduled::Text(keyframes(series(&zoom)?)));
        used.push(zoom);
    }
    if let Some(angle) = field("angle") {
        patch.rotate = Some(Scheduled::Text(keyframes(series(&angle)?)));
        used.push(angle);
    }
    let (x, y) = (field("translation_x"), field("translation_y"));
    if x.is_some() || y.is_some() {
        let side = |name: &Option<String>| name.as_deref().map_or_else(|| Ok(vec![]), &series);
        let (xs, ys) = (side(&x)?, side(&y)?);
        let pairs = by_frame.keys().enumerate().map(|(i, frame)| {
            let (dx, dy) = (xs.get(i).map_or(0.0, |v| v.1), ys.get(i).map_or(0.0, |v| v.1));
            format!("{frame}:({dx}, {dy})")
        });
        patch.pan = Some(pairs.collect::<Vec<_>>().join(", "));
        used.extend(x.into_iter().chain(y));
    }
    let options = keys.get("options").and_then(Value::as_object);
    patch.fps = options.and_then(|o| o.get("output_fps")).and_then(Value::as_f64).filter(|fps| *fps > 0.0);
    let mut ignored: Vec<String> =
        keys.keys().filter(|k| !["rendered_frames", "options"].contains(&k.as_str())).cloned().collect();
    ignored.extend(
        options.into_iter().flat_map(|o| o.keys()).filter(|k| *k != "output_fps").map(|k| format!("options.{k}")),
    );
    let mut fields: Vec<String> =
        by_frame.values().flat_map(|f| f.keys()).filter(|k| !used.contains(k)).cloned().collect();
    fields.sort();
    fields.dedup();
    ignored.extend(fields.into_iter().map(|k| format!("rendered_frames.{k}")));
    ignored.sort();
    Ok(DeforumSettings {
        patch,
        frames: Some(by_frame.len() as u64),
        ignored,
        picture_keys: 0,
        flat_instead_of_depth: false,
    })
}

/// One schedule of `DX, DY` pairs for two schedules of one number: a keyframe wherever either has
/// one, each side's value there as its own schedule gives it (a number between two numbers, an
/// expression where one is live), so the pan moves exactly as the two would.
fn join_pan(x: &str, y: &str, fps: f64, frames: u64) -> std::result::Result<String, String> {
    let x = Side::read(x, fps, frames)?;
    let y = Side::read(y, fps, frames)?;
    let mut positions: Vec<f64> = x.keys.iter().chain(&y.keys).map(|(at, _)| *at).collect();
    positions.sort_by(f64::total_cmp);
    positions.dedup();
    if let (Some(dx), Some(dy)) = (x.literal(0), y.literal(0))
        && positions == [0.0]
    {
        return Ok(format!("{dx},{dy}"));
    }
    let mut keyframes = Vec::with_capacity(positions.len());
    for at in positions {
        let when = if at.fract() == 0.0 { format!("{at}") } else { format!("{}s", at / fps) };
        keyframes.push(format!("{when}:({}, {})", x.at(at)?, y.at(at)?));
    }
    Ok(keyframes.join(", "))
}

/// One side of a pan: its keyframes (frame, value as written), sorted.
struct Side {
    keys: Vec<(f64, String)>,
    fps: f64,
    frames: u64,
}

impl Side {
    fn read(text: &str, fps: f64, frames: u64) -> std::result::Result<Side, String> {
        let keys = match keyframes_of(text, fps, frames).map_err(|e| e.to_string())? {
            Some(mut keys) => {
                keys.sort_by(|a, b| a.0.total_cmp(&b.0));
                keys
            }
            // A plain number or expression: one keyframe, live (or held) from the start.
            None => vec![(0.0, text.to_string())],
        };
        Ok(Side { keys, fps, frames })
    }

    fn parsed(&self, k: usize) -> std::result::Result<expression::Expression, String> {
        let value = &self.keys[k].1;
        let mut parts = expression::parse(value, 0, value.len(), Place::KeyframeValue).map_err(|e| e.message)?;
        if parts.len() != 1 {
            return Err(format!("'{value}' is not one number"));
        }
        Ok(parts.remove(0))
    }

    fn literal(&self, k: usize) -> Option<f64> {
        self.parsed(k).ok().and_then(|e| e.literal)
    }

    /// The value where the keyframe `k` meets the line from the one before: its number, or its
    /// expression at its own frame.
    fn anchor(&self, k: usize) -> std::result::Result<f64, String> {
        let at = self.keys[k].0;
        let vars = Vars { t: at, s: at / self.fps, n: self.frames as f64, ..Vars::default() };
        let expression = self.parsed(k)?;
        match expression.literal {
            Some(number) => Ok(number),
            None => expression.eval(&vars).map_err(|e| e.message),
        }
    }

    /// This side's value at `at`, written as a keyframe's value.
    fn at(&self, at: f64) -> std::result::Result<String, String> {
        let next = self.keys.partition_point(|(p, _)| *p <= at);
        if next == 0 {
            return Ok(self.keys[0].1.clone());
        }
        let k = next - 1;
        if self.keys[k].0 == at || self.literal(k).is_none() || next == self.keys.len() {
            return Ok(self.keys[k].1.clone());
        }
        let (a, b) = (self.anchor(k)?, self.anchor(next)?);
        let w = (at - self.keys[k].0) / (self.keys[next].0 - self.keys[k].0);
        Ok(format!("{}", a + (b - a) * w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schedule::{Interpolation, Schedule, Timeline};

    fn values(text: &str, dimensions: usize, frames: u64) -> Vec<Vec<f64>> {
        let timeline = Timeline { fps: 15.0, frames, audio: None };
        Schedule::parse(text, dimensions).unwrap().values(&timeline, Interpolation::Linear).unwrap()
    }

    #[test]
    fn deforums_defaults_become_a_zoom() {
        let text = r#"{"W": 512, "H": 512, "max_frames": 120, "fps": 15, "animation_mode": "2D",
            "zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))", "angle": "0: (0)",
            "translation_x": "0: (0)", "translation_y": "0: (0)", "sampler": "Euler a",
            "prompts": {"0": "a forest"}}"#;
        let settings = from_json(text, None).unwrap();
        assert_eq!(settings.frames, Some(120));
        assert_eq!(settings.patch.fps, Some(15.0));
        assert_eq!((settings.patch.width, settings.patch.height), (Some(512), Some(512)));
        assert_eq!(settings.patch.zoom, Some(Scheduled::Text("0: (1.0025+0.002*sin(1.25*3.14*t/30))".into())));
        assert_eq!(settings.patch.rotate, Some(Scheduled::Text("0: (0)".into())));
        assert_eq!(settings.patch.pan.as_deref(), Some("0,0"));
        assert_eq!(settings.ignored, vec!["prompts", "sampler"]);
        assert_eq!(settings.picture_keys, 1);
    }

    #[test]
    fn two_translations_become_one_pan_that_moves_as_both() {
        let cases = [
            ("0:(0), 30:(10), 60:(0)", "0:(2*sin(t/5)), 45:(0)"),
            ("0:(0), 50:(t*0.1)", "0:(1), 20:(-1)"),
            ("0:(10*sin(t/5)), 30:(0)", "0:(0), \"max_f-1\":(6)"),
            ("0: (3)", "0:(0), 10:(1), 20:(t/10), 40:(2)"),
        ];
        for (x, y) in cases {
            let pan = join_pan(x, y, 15.0, 70).unwrap();
            let (xs, ys, both) = (values(x, 1, 70), values(y, 1, 70), values(&pan, 2, 70));
            for frame in 0..70 {
                let (dx, dy) = (both[frame][0], both[frame][1]);
                assert!((dx - xs[frame][0]).abs() < 1e-9, "{x} | {y} -> {pan}: frame {frame} dx {dx}");
                assert!((dy - ys[frame][0]).abs() < 1e-9, "{x} | {y} -> {pan}: frame {frame} dy {dy}");
            }
        }
    }

    #[test]
    fn parseq_rendered_frames_give_each_frame_its_delta() {
        let text = r#"{"meta": {"generated_by": "sd_parseq"}, "options": {"output_fps": 20, "cadence": 1},
            "keyframes": [], "rendered_frames": [
            {"frame": 0, "zoom": 1.0, "zoom_delta": 1.0, "angle": 0, "angle_delta": 0, "translation_x": 0,
             "translation_x_delta": 0, "strength": 0.6, "seed": 1},
            {"frame": 1, "zoom": 1.02, "zoom_delta": 1.02, "angle": 1.5, "angle_delta": 1.5, "translation_x": 2,
             "translation_x_delta": 2, "strength": 0.6, "seed": 2},
            {"frame": 2, "zoom": 1.0404, "zoom_delta": 1.02, "angle": 2.5, "angle_delta": 1, "translation_x": 6,
             "translation_x_delta": 4, "strength": 0.6, "seed": 3}]}"#;
        let settings = from_json(text, None).unwrap();
        assert_eq!((settings.frames, settings.patch.fps), (Some(3), Some(20.0)));
        let zoom = settings.patch.zoom.unwrap().to_string();
        assert_eq!(values(&zoom, 1, 3), vec![vec![1.0], vec![1.02], vec![1.02]]);
        let rotate = settings.patch.rotate.unwrap().to_string();
        assert_eq!(values(&rotate, 1, 3), vec![vec![0.0], vec![1.5], vec![1.0]]);
        let pan = settings.patch.pan.unwrap();
        assert_eq!(values(&pan, 2, 3), vec![vec![0.0, 0.0], vec![2.0, 0.0], vec![4.0, 0.0]]);
        let expected = ["keyframes", "meta", "options.cadence"].into_iter().map(String::from);
        let fields = ["angle", "seed", "strength", "translation_x", "zoom"].map(|f| format!("rendered_frames.{f}"));
        assert_eq!(settings.ignored, expected.chain(fields).collect::<Vec<_>>());
    }

    #[test]
    fn a_wrong_value_names_its_key() {
        assert_eq!(
            from_json(r#"{"max_frames": 12.5}"#, None).unwrap_err(),
            "'max_frames' must be a whole number, not 12.5"
        );
        assert_eq!(from_json(r#"{"fps": "fast"}"#, None).unwrap_err(), "'fps' must be a positive number, not \"fast\"");
        assert!(from_json(r#"{"zoom": [1]}"#, None).unwrap_err().starts_with("'zoom' must be a schedule"));
        assert!(from_json("[1]", None).unwrap_err().starts_with("not a Deforum settings file"));
        let bad = from_json(r#"{"translation_x": "0:(foo)"}"#, None).unwrap_err();
        assert!(bad.contains("unknown name 'foo'"), "{bad}");
    }
}
