//! A render's per-frame values: every schedule evaluated once for every frame and checked with
//! the settings' own range checks, before the first frame is dreamed. The dream stage then only
//! looks each frame's values up; `dreamreel plan` prints them.
use crate::config::per_frame::{FrameNumbers, NumberKey, SwitchKey};
use crate::config::schedule::{AudioFrames, Interpolation, ScheduleError, Schedules, Timeline, channel_sets};
use crate::config::settings::Settings;
use crate::engine::ascent::CarrySchedule;
use crate::error::{Error, Result};
use crate::frame::audio_signals::AudioSignals;
use crate::frame::camera::{Camera, Padding, Sampling};
use crate::frame::transform::{Border, Flip, Motion, Resample};
use serde::Serialize;

/// One frame's values of every setting that may change over a render.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FrameValues {
    #[serde(flatten)]
    pub numbers: FrameNumbers,
    pub layers: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The motion's constant choices (border, flip, 3D camera, resampling), the same on every row.
    #[serde(skip)]
    pub style: MotionStyle,
}

/// What of the motion does not change from frame to frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MotionStyle {
    pub border: Border,
    pub perspective_flip: bool,
    /// Deforum's 3D camera, read how (`None`: the 2D motion).
    pub camera: Option<(Sampling, Padding)>,
    pub resample: Resample,
}

impl FrameValues {
    /// The motion from the previous frame to this one.
    pub fn motion(&self) -> Motion {
        let numbers = &self.numbers;
        let style = &self.style;
        let flip = style.perspective_flip.then_some(Flip {
            theta: numbers.flip_theta,
            phi: numbers.flip_phi,
            gamma: numbers.flip_gamma,
            fv: numbers.flip_fv,
        });
        let camera = style.camera.map(|(sampling, padding)| Camera {
            translate_z: numbers.translate_z,
            rotate_degrees: [numbers.rotate_x, numbers.rotate_y, numbers.rotate_z],
            fov: numbers.fov,
            aspect: numbers.camera_aspect,
            sampling,
            padding,
        });
        Motion {
            zoom: numbers.zoom,
            rotate_degrees: numbers.rotate,
            pan: numbers.pan,
            center: (numbers.center_x, numbers.center_y),
            flip,
            camera,
            border: style.border,
            resample: style.resample,
        }
    }

    /// What decides the frame's objective: its layers, channels and class.
    pub(crate) fn objective_key(&self) -> (&str, &[String], Option<&str>) {
        (&self.layers, &self.channels, self.class.as_deref())
    }

    /// Sets the switch `key` to this frame's keyframe value.
    fn switch(&mut self, key: SwitchKey, value: &str) {
        match key {
            SwitchKey::Layers => self.layers = value.to_string(),
            SwitchKey::Class => self.class = Some(value.to_string()),
            SwitchKey::Channels => self.channels = channel_sets(value),
        }
    }

    /// The range checks a constant gets, naming the option.
    fn check(&self) -> Result<()> {
        for &key in NumberKey::ALL {
            let numbers = self.numbers.get(key);
            if !numbers.is_empty() {
                key.check(&numbers).map_err(|message| Error::setting(key.name(), message))?;
            }
        }
        crate::config::settings::check_objective_lists(&self.layers, self.class.as_deref())
    }
}

/// A render's per-frame settings before they are evaluated: the constants (with the mode's
/// default zoom) and the schedules that change them.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSpec {
    constants: FrameValues,
    schedules: Schedules,
    interpolation: Interpolation,
}

impl PlanSpec {
    /// The per-frame part of checked settings; `default_zoom` is the mode's.
    pub fn of(settings: &Settings, default_zoom: f64) -> PlanSpec {
        let constants = FrameValues {
            numbers: settings.frame_numbers(default_zoom),
            layers: settings.layers(),
            channels: settings.channels(),
            class: settings.class(),
            style: MotionStyle {
                border: settings.border(),
                perspective_flip: settings.perspective_flip(),
                camera: settings.camera_3d().then_some((settings.camera_sampling(), settings.camera_padding())),
                resample: settings.resample(),
            },
        };
        PlanSpec { constants, schedules: settings.schedules().clone(), interpolation: settings.interpolation() }
    }

    /// Every frame's values when nothing is scheduled (and frame 0's switches when something is).
    pub fn constants(&self) -> &FrameValues {
        &self.constants
    }

    /// Whether any setting changes over the render.
    pub fn is_scheduled(&self) -> bool {
        !self.schedules.is_empty()
    }

    /// Whether a schedule reads an audio signal.
    pub fn uses_audio(&self) -> bool {
        self.schedules.uses_audio()
    }
}

impl AudioFrames for AudioSignals {
    fn signals(&self, frame: u64) -> [f64; 5] {
        self.at(frame)
    }

    fn bpm(&self) -> f64 {
        self.bpm
    }
}

/// Which frames of a render get the full dream; the others carry the previous dream and are
/// dreamed as their [`CarrySchedule`] says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FullDreams {
    /// Every frame (a still, footage without flow, `--carry full`).
    Every,
    /// The first frame (a zoom).
    First(CarrySchedule),
    /// The first frame and the first after each cut the flow finds (footage with flow).
    FirstAndCuts(CarrySchedule),
}

/// Every frame's values of a render.
#[derive(Clone, Debug)]
pub struct FramePlan {
    fps: f64,
    rows: Vec<FrameValues>,
    full_dreams: FullDreams,
    /// The keys whose schedules the rows follow (the others are constants).
    scheduled: Vec<&'static str>,
    /// The soundtrack's signals, when the render has one.
    audio: Option<AudioSignals>,
}

impl FramePlan {
    /// Every frame's row, in order.
    pub fn rows(&self) -> &[FrameValues] {
        &self.rows
    }

    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// The keys whose schedules the rows follow (the others are constants).
    pub fn scheduled(&self) -> &[&'static str] {
        &self.scheduled
    }

    /// The soundtrack's signals, when the render has one.
    pub fn audio(&self) -> Option<&AudioSignals> {
        self.audio.as_ref()
    }

    /// Evaluates `spec`'s schedules for `frames` frames at `fps` and checks every frame; a render
    /// of constants is `frames` identical rows.
    pub fn new(spec: &PlanSpec, fps: f64, frames: u64, audio: Option<AudioSignals>) -> Result<FramePlan> {
        if frames > crate::job::request::MAX_FRAMES {
            let max = crate::job::request::MAX_FRAMES;
            return Err(Error::setting(
                "frames",
                format!("{frames} frames are more than the {max} one render may have"),
            ));
        }
        let mut rows = vec![spec.constants.clone(); frames as usize];
        let mut scheduled = Vec::new();
        {
            let timeline = Timeline { fps, frames, audio: audio.as_ref().map(|a| a as &dyn AudioFrames) };
            for &key in NumberKey::ALL {
                let Some(schedule) = spec.schedules.number(key.name()) else { continue };
                scheduled.push(key.name());
                // A keyframe written as 1.5 of a whole-number setting is refused, as the constant is.
                let written = schedule
                    .written_keyframes(&timeline)
                    .map_err(|e| schedule_error(key.name(), schedule.text(), &e))?;
                for (frame, numbers) in written {
                    key.check_written(&numbers)
                        .map_err(|message| Error::setting(key.name(), format!("at frame {frame}: {message}")))?;
                }
                let values = schedule
                    .values(&timeline, spec.interpolation)
                    .map_err(|e| schedule_error(key.name(), schedule.text(), &e))?;
                for (frame, (row, numbers)) in rows.iter_mut().zip(&values).enumerate() {
                    row.numbers.set(key, numbers).map_err(|message| Error::setting(key.name(), at(frame, message)))?;
                }
            }
        }
        for &key in SwitchKey::ALL {
            let Some(switches) = spec.schedules.switches(key.name()) else { continue };
            scheduled.push(key.name());
            for (frame, row) in rows.iter_mut().enumerate() {
                row.switch(key, switches.at(frame as u64, fps));
            }
        }
        // Each frame's values pass the checks a constant would (frames like the last are skipped).
        let mut checked: Option<&FrameValues> = None;
        for (frame, row) in rows.iter().enumerate() {
            if checked == Some(row) {
                continue;
            }
            row.check().map_err(|e| match e {
                Error::Setting { key, message } => Error::setting(key, at(frame, message)),
                other => other,
            })?;
            checked = Some(row);
        }
        Ok(FramePlan { fps, rows, full_dreams: FullDreams::Every, scheduled, audio })
    }

    /// The plan with `full_dreams` saying which frames get the full dream.
    pub fn with_full_dreams(self, full_dreams: FullDreams) -> FramePlan {
        let full_dreams = match full_dreams {
            FullDreams::First(CarrySchedule::Full) | FullDreams::FirstAndCuts(CarrySchedule::Full) => FullDreams::Every,
            other => other,
        };
        FramePlan { full_dreams, ..self }
    }

    /// How frame `index` is dreamed: `full`, or the carried frames' schedule (`*`: unless a cut
    /// the flow finds starts a shot there).
    pub fn dream_of(&self, index: u64) -> String {
        match self.full_dreams {
            FullDreams::Every => "full".into(),
            _ if index == 0 => "full".into(),
            FullDreams::First(carry) => carry.name().into(),
            FullDreams::FirstAndCuts(carry) => format!("{}*", carry.name()),
        }
    }

    /// Frame `index`'s values (the last frame's past the end: footage may run longer than counted).
    pub fn frame(&self, index: u64) -> &FrameValues {
        let last = self.rows.len().saturating_sub(1);
        &self.rows[(index as usize).min(last)]
    }

    pub fn frames(&self) -> u64 {
        self.rows.len() as u64
    }

    /// The plan as text: one line per frame, the scheduled settings (all, if none is) and the
    /// audio signals.
    pub fn table(&self) -> String {
        let keys = self.shown_keys();
        let mut header = vec!["frame".to_string(), "seconds".to_string(), "dream".to_string()];
        for key in &keys {
            match *key {
                "pan" => header.extend(["pan-x".to_string(), "pan-y".to_string()]),
                other => header.push(other.to_string()),
            }
        }
        if self.audio.is_some() {
            header.extend(crate::config::schedule::AUDIO_SIGNALS.iter().map(|s| s.to_string()));
        }
        let mut lines = vec![header.iter().map(|h| format!("{h:>10}")).collect::<Vec<_>>().join(" ")];
        for (frame, row) in self.rows.iter().enumerate() {
            let seconds = frame as f64 / self.fps;
            let dream = self.dream_of(frame as u64);
            let mut cells = vec![format!("{frame:>10}"), format!("{seconds:>10.3}"), format!("{dream:>10}")];
            for key in &keys {
                match *key {
                    "layers" => cells.push(format!("{:>10}", row.layers)),
                    "class" => cells.push(format!("{:>10}", row.class.as_deref().unwrap_or("-"))),
                    "channels" => cells.push(format!("{:>10}", row.channels.join(";"))),
                    other => {
                        let numbers = NumberKey::named(other).map_or_else(Vec::new, |key| row.numbers.get(key));
                        // An unset blur (the objective's default) shows as 0, as before.
                        let numbers = if numbers.is_empty() { vec![0.0] } else { numbers };
                        cells.extend(numbers.iter().map(|v| format!("{v:>10.4}")))
                    }
                }
            }
            if let Some(audio) = &self.audio {
                cells.extend(audio.at(frame as u64).iter().map(|v| format!("{v:>10.3}")));
            }
            lines.push(cells.join(" "));
        }
        if let Some(audio) = &self.audio {
            lines.push(format!("bpm {:.1}, {} onsets", audio.bpm, audio.onsets.len()));
        }
        if let FullDreams::FirstAndCuts(_) = self.full_dreams {
            lines.push("* the full dream where the flow finds a cut".into());
        }
        lines.join("\n") + "\n"
    }

    /// The plan as JSON: `{fps, frames: [{frame, seconds, values..., audio...}], bpm, onsets}`.
    pub fn json(&self) -> serde_json::Value {
        let frames: Vec<serde_json::Value> = self
            .rows
            .iter()
            .enumerate()
            .map(|(frame, row)| {
                let mut value = serde_json::to_value(row).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert("frame".into(), frame.into());
                    map.insert("seconds".into(), (frame as f64 / self.fps).into());
                    map.insert("dream".into(), self.dream_of(frame as u64).trim_end_matches('*').into());
                    if let Some(audio) = &self.audio {
                        for (name, signal) in crate::config::schedule::AUDIO_SIGNALS.iter().zip(audio.at(frame as u64))
                        {
                            map.insert((*name).into(), signal.into());
                        }
                    }
                }
                value
            })
            .collect();
        let at_cuts = matches!(self.full_dreams, FullDreams::FirstAndCuts(_));
        let mut plan = serde_json::json!({ "fps": self.fps, "scheduled": self.scheduled, "frames": frames,
                                           "full_dream_at_cuts": at_cuts });
        if let Some(audio) = &self.audio {
            plan["bpm"] = audio.bpm.into();
            plan["onsets"] = audio.onsets.clone().into();
        }
        plan
    }

    /// The settings a table or plot shows: the scheduled ones, or zoom and step when none is.
    pub(crate) fn shown_keys(&self) -> Vec<&'static str> {
        if self.scheduled.is_empty() { vec!["zoom", "step"] } else { self.scheduled.clone() }
    }
}

fn at(frame: usize, message: String) -> String {
    format!("at frame {frame}: {message}")
}

fn schedule_error(key: &str, text: &str, error: &ScheduleError) -> Error {
    let message = match error.position {
        Some(position) => format!("at character {position} of '{text}': {}", error.message),
        None => format!("'{text}': {}", error.message),
    };
    Error::setting(key, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::SettingsPatch;

    fn settings(patch: SettingsPatch) -> Settings {
        Settings::resolve([&patch]).unwrap()
    }

    #[test]
    fn constants_fill_every_frame_and_schedules_their_own_setting() {
        let s = settings(SettingsPatch {
            zoom: Some("0:(1.0), 10:(1.1)".parse().unwrap()),
            iterations: Some("2 + t".parse().unwrap()),
            layers: Some("0:(blocks.8), 5:(blocks.10)".into()),
            ..Default::default()
        });
        let plan = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 11, None).unwrap();
        assert_eq!(plan.scheduled, vec!["zoom", "iterations", "layers"]);
        assert!((plan.frame(5).numbers.zoom - 1.05).abs() < 1e-12);
        assert_eq!((plan.frame(3).numbers.iterations, plan.frame(3).numbers.step), (5, 0.02));
        assert_eq!((plan.frame(4).layers.as_str(), plan.frame(5).layers.as_str()), ("blocks.8", "blocks.10"));
        // Past the end, the last frame's values hold.
        assert_eq!(plan.frame(100), plan.frame(10));
        let table = plan.table();
        assert!(table.lines().next().unwrap().contains("zoom") && table.lines().count() == 12, "{table}");
        assert_eq!(plan.json()["frames"][10]["zoom"], 1.1);
    }

    #[test]
    fn the_plan_shows_which_frames_get_the_full_dream() {
        let plan = || FramePlan::new(&PlanSpec::of(&settings(SettingsPatch::default()), 1.05), 24.0, 4, None).unwrap();
        let dreams = |plan: &FramePlan| (0..4).map(|i| plan.dream_of(i)).collect::<Vec<_>>();
        assert_eq!(dreams(&plan()), ["full"; 4], "unless told, every frame");
        let zoom = plan().with_full_dreams(FullDreams::First(CarrySchedule::Half));
        assert_eq!(dreams(&zoom), ["full", "half", "half", "half"]);
        assert!(zoom.table().lines().nth(2).unwrap().contains("half"), "{}", zoom.table());
        assert_eq!(zoom.json()["frames"][0]["dream"], "full");
        let footage = plan().with_full_dreams(FullDreams::FirstAndCuts(CarrySchedule::Third));
        assert_eq!(dreams(&footage), ["full", "third*", "third*", "third*"]);
        assert!(footage.table().ends_with("* the full dream where the flow finds a cut\n"));
        assert_eq!(
            (footage.json()["frames"][1]["dream"].as_str(), footage.json()["full_dream_at_cuts"].as_bool()),
            (Some("third"), Some(true))
        );
        let full = plan().with_full_dreams(FullDreams::FirstAndCuts(CarrySchedule::Full));
        assert_eq!(dreams(&full), ["full"; 4], "--carry full dreams every frame in full");
    }

    #[test]
    fn a_frame_out_of_range_is_named_with_its_option() {
        let s = settings(SettingsPatch { zoom: Some("1 + t/5".parse().unwrap()), ..Default::default() });
        let err = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 10, None).unwrap_err().to_string();
        assert_eq!(err, "zoom: at frame 6: 2.2 must be between 0.5 and 2");
        let s = settings(SettingsPatch { class: Some("0:(banana), 4:(no such thing)".into()), ..Default::default() });
        let err = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 10, None).unwrap_err().to_string();
        assert!(err.starts_with("class: at frame 4:"), "{err}");
        let s = settings(SettingsPatch { jitter: Some("4 - t".parse().unwrap()), ..Default::default() });
        let err = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 10, None).unwrap_err().to_string();
        assert_eq!(err, "jitter: at frame 5: the schedule gives -1, which must be 0 or more");
    }

    #[test]
    fn audio_signals_drive_the_values() {
        let samples = crate::frame::audio_signals::synthetic::click_track(2.0, 0.27, 0.5);
        let audio = AudioSignals::analyse(&samples, 24.0, 48);
        let s = settings(SettingsPatch { zoom: Some("1 + 0.1*beat".parse().unwrap()), ..Default::default() });
        let plan = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 48, Some(audio)).unwrap();
        // The click at 0.27 s is in frame 6.
        assert!(plan.frame(6).numbers.zoom > 1.09 && plan.frame(3).numbers.zoom < 1.01, "{:?}", plan.frame(6));
        let no_audio = FramePlan::new(&PlanSpec::of(&s, 1.05), 24.0, 48, None).unwrap_err().to_string();
        assert!(no_audio.starts_with("zoom: '1 + 0.1*beat': 'beat' is an audio signal"), "{no_audio}");
    }
}
