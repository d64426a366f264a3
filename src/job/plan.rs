//! A render's per-frame values: every schedule evaluated once for every frame and checked with
//! the settings' own range checks, before the first frame is dreamed. The dream stage then only
//! looks each frame's values up; `dreamreel plan` prints them.
use crate::config::per_frame::{FrameNumbers, NumberKey, SwitchKey};
use crate::config::schedule::{AudioFrames, Interpolation, ScheduleError, Schedules, Timeline, channel_sets};
use crate::config::settings::Settings;
use crate::error::{Error, Result};
use crate::frame::audio_signals::AudioSignals;
use crate::frame::transform::Motion;
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
}

impl FrameValues {
    /// The motion from the previous frame to this one.
    pub fn motion(&self) -> Motion {
        let numbers = &self.numbers;
        Motion { zoom: numbers.zoom, rotate_degrees: numbers.rotate, pan: numbers.pan }
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

/// Every frame's values of a render.
#[derive(Clone, Debug)]
pub struct FramePlan {
    fps: f64,
    rows: Vec<FrameValues>,
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
        Ok(FramePlan { fps, rows, scheduled, audio })
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
        let mut header = vec!["frame".to_string(), "seconds".to_string()];
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
            let mut cells = vec![format!("{frame:>10}"), format!("{:>10.3}", frame as f64 / self.fps)];
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
        let mut plan = serde_json::json!({ "fps": self.fps, "scheduled": self.scheduled, "frames": frames });
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
