//! A render's per-frame values: every schedule evaluated once for every frame and checked with
//! the settings' own range checks, before the first frame is dreamed. The dream stage then only
//! looks each frame's values up; `dreamreel plan` prints them.
use crate::config::schedule::{
    AudioFrames, SCHEDULED_NUMBERS, SCHEDULED_SWITCHES, ScheduleError, Timeline, channel_sets,
};
use crate::config::settings::Settings;
use crate::error::{Error, Result};
use crate::frame::audio_signals::AudioSignals;
use crate::frame::transform::Motion;
use serde::Serialize;

/// One frame's values of every setting that may change over a render.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FrameValues {
    pub zoom: f64,
    pub rotate: f64,
    pub pan: (f64, f64),
    pub blend: f64,
    pub step: f64,
    pub iterations: u32,
    pub jitter: u32,
    pub octave_scale: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blur: Option<f64>,
    pub layers: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

impl FrameValues {
    /// The constants of `settings`, with the mode's default zoom.
    pub fn of(settings: &Settings, default_zoom: f64) -> FrameValues {
        FrameValues {
            zoom: settings.zoom.unwrap_or(default_zoom),
            rotate: settings.rotate,
            pan: settings.pan,
            blend: settings.blend,
            step: settings.step,
            iterations: settings.iterations,
            jitter: settings.jitter,
            octave_scale: settings.octave_scale,
            blur: settings.blur,
            layers: settings.layers.clone(),
            channels: settings.channels.clone(),
            class: settings.class.clone(),
        }
    }

    /// The motion from the previous frame to this one.
    pub fn motion(&self) -> Motion {
        Motion { zoom: self.zoom, rotate_degrees: self.rotate, pan: self.pan }
    }

    /// `settings` with this frame's values, for the checks and the engine.
    pub(crate) fn apply_to(&self, settings: &mut Settings) {
        settings.zoom = Some(self.zoom);
        settings.rotate = self.rotate;
        settings.pan = self.pan;
        settings.blend = self.blend;
        settings.step = self.step;
        settings.iterations = self.iterations;
        settings.jitter = self.jitter;
        settings.octave_scale = self.octave_scale;
        settings.blur = self.blur;
        settings.layers.clone_from(&self.layers);
        settings.channels.clone_from(&self.channels);
        settings.class.clone_from(&self.class);
    }

    /// The value of the setting `key` as numbers (a pan's two), for the plan's table.
    pub(crate) fn numbers(&self, key: &str) -> Vec<f64> {
        match key {
            "zoom" => vec![self.zoom],
            "rotate" => vec![self.rotate],
            "pan" => vec![self.pan.0, self.pan.1],
            "blend" => vec![self.blend],
            "step" => vec![self.step],
            "iterations" => vec![f64::from(self.iterations)],
            "jitter" => vec![f64::from(self.jitter)],
            "octave-scale" => vec![self.octave_scale],
            "blur" => vec![self.blur.unwrap_or(0.0)],
            _ => Vec::new(),
        }
    }

    /// Sets `key` from a schedule's numbers at this frame.
    fn set(&mut self, key: &str, numbers: &[f64]) -> std::result::Result<(), String> {
        let whole = |value: f64| -> std::result::Result<u32, String> {
            let rounded = value.round();
            if (0.0..=f64::from(u32::MAX)).contains(&rounded) {
                Ok(rounded as u32)
            } else {
                Err(format!("the schedule gives {value}, which must be 0 or more"))
            }
        };
        let value = numbers.first().copied().unwrap_or(0.0);
        match key {
            "zoom" => self.zoom = value,
            "rotate" => self.rotate = value,
            "pan" => {
                let pan = (value, numbers.get(1).copied().unwrap_or(0.0));
                if pan.0.abs() > 10_000.0 || pan.1.abs() > 10_000.0 {
                    return Err(format!("the schedule gives {},{}, beyond 10000 pixels a frame", pan.0, pan.1));
                }
                self.pan = pan;
            }
            "blend" => self.blend = value,
            "step" => self.step = value,
            "iterations" => self.iterations = whole(value)?,
            "jitter" => self.jitter = whole(value)?,
            "octave-scale" => self.octave_scale = value,
            "blur" => self.blur = Some(value),
            _ => {}
        }
        Ok(())
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
    pub fps: f64,
    pub rows: Vec<FrameValues>,
    /// The keys whose schedules the rows follow (the others are constants).
    pub scheduled: Vec<&'static str>,
    /// The soundtrack's signals, when the render has one.
    pub audio: Option<AudioSignals>,
}

impl FramePlan {
    /// Evaluates `settings`' schedules for `frames` frames at `fps` and checks every frame.
    pub fn new(
        settings: &Settings,
        default_zoom: f64,
        fps: f64,
        frames: u64,
        audio: Option<AudioSignals>,
    ) -> Result<FramePlan> {
        let base = FrameValues::of(settings, default_zoom);
        let mut rows = vec![base; frames as usize];
        let mut scheduled = Vec::new();
        {
            let timeline = Timeline { fps, frames, audio: audio.as_ref().map(|a| a as &dyn AudioFrames) };
            for (key, _) in SCHEDULED_NUMBERS {
                let Some(schedule) = settings.schedules.number(key) else { continue };
                scheduled.push(key);
                let values = schedule
                    .values(&timeline, settings.interpolation)
                    .map_err(|e| schedule_error(key, schedule.text(), &e))?;
                for (frame, (row, numbers)) in rows.iter_mut().zip(&values).enumerate() {
                    row.set(key, numbers).map_err(|message| Error::setting(format!("--{key}"), at(frame, message)))?;
                }
            }
        }
        for key in SCHEDULED_SWITCHES {
            let Some(switches) = settings.schedules.switches(key) else { continue };
            scheduled.push(key);
            for (frame, row) in rows.iter_mut().enumerate() {
                let value = switches.at(frame as u64, fps);
                match key {
                    "layers" => row.layers = value.to_string(),
                    "class" => row.class = Some(value.to_string()),
                    _ => row.channels = channel_sets(value),
                }
            }
        }
        // Each frame's values pass the checks a constant would (frames like the last are skipped).
        let mut probe = settings.clone();
        probe.schedules = Default::default();
        let mut checked: Option<&FrameValues> = None;
        for (frame, row) in rows.iter().enumerate() {
            if checked == Some(row) {
                continue;
            }
            row.apply_to(&mut probe);
            probe.check().map_err(|e| match e {
                Error::Setting { option, message } => Error::setting(option, at(frame, message)),
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
                    other => cells.extend(row.numbers(other).iter().map(|v| format!("{v:>10.4}"))),
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
    Error::setting(format!("--{key}"), message)
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
        let plan = FramePlan::new(&s, 1.05, 24.0, 11, None).unwrap();
        assert_eq!(plan.scheduled, vec!["zoom", "iterations", "layers"]);
        assert!((plan.frame(5).zoom - 1.05).abs() < 1e-12);
        assert_eq!((plan.frame(3).iterations, plan.frame(3).step), (5, 0.02));
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
        let err = FramePlan::new(&s, 1.05, 24.0, 10, None).unwrap_err().to_string();
        assert_eq!(err, "--zoom: at frame 6: 2.2 must be between 0.5 and 2");
        let s = settings(SettingsPatch { class: Some("0:(banana), 4:(no such thing)".into()), ..Default::default() });
        let err = FramePlan::new(&s, 1.05, 24.0, 10, None).unwrap_err().to_string();
        assert!(err.starts_with("--class: at frame 4:"), "{err}");
        let s = settings(SettingsPatch { jitter: Some("4 - t".parse().unwrap()), ..Default::default() });
        let err = FramePlan::new(&s, 1.05, 24.0, 10, None).unwrap_err().to_string();
        assert_eq!(err, "--jitter: at frame 5: the schedule gives -1, which must be 0 or more");
    }

    #[test]
    fn audio_signals_drive_the_values() {
        let samples = crate::frame::audio_signals::synthetic::click_track(2.0, 0.27, 0.5);
        let audio = AudioSignals::analyse(&samples, 24.0, 48);
        let s = settings(SettingsPatch { zoom: Some("1 + 0.1*beat".parse().unwrap()), ..Default::default() });
        let plan = FramePlan::new(&s, 1.05, 24.0, 48, Some(audio)).unwrap();
        // The click at 0.27 s is in frame 6.
        assert!(plan.frame(6).zoom > 1.09 && plan.frame(3).zoom < 1.01, "{:?}", plan.frame(6));
        let no_audio = FramePlan::new(&s, 1.05, 24.0, 48, None).unwrap_err().to_string();
        assert!(no_audio.starts_with("--zoom: '1 + 0.1*beat': 'beat' is an audio signal"), "{no_audio}");
    }
}
