//! What the page asks for, a [`Look`], decided once: it becomes one batch manifest `[[job]]`
//! table, and that table is the studio's job. The job is checked by the manifest's own parser
//! (so the page gets the errors a manifest gets), and the three hand-offs are built from the
//! same table: the manifest line itself, a preset of its settings, and the command line (worded
//! by the binary, which owns the options, through [`CommandLine`]).
use crate::config::presets;
use crate::config::settings::SettingsPatch;
use crate::error::{Error, Result};
use crate::job::manifest;
use crate::job::render_job::{Job, Mode};
use crate::studio::guard::Folder;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys of a manifest job that are not settings and that the studio fills.
const JOB_KEYS: [&str; 5] = ["mode", "input", "output", "preset", "frames"];

/// A look and the render it is for, as the page sends it (JSON).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Look {
    /// still, zoom or video.
    pub mode: String,
    /// A file under the folder, or `noise`.
    pub input: String,
    /// Where the render goes, under the folder.
    pub output: String,
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub frames: Option<u64>,
    /// Settings by key, as presets and manifests name them; empty values are left out.
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// How the binary words a job as its command line.
pub trait CommandLine: Send + Sync {
    /// The words of the `dreamreel` command that renders `job` (a manifest's `[[job]]` table,
    /// its paths relative to the folder it runs in), the program's name first.
    fn words(&self, job: &toml::Table) -> Result<Vec<String>>;
    /// The words added to a queued render: continue from its checkpoint (when `resume`), and
    /// report its progress and latest frame into these files.
    fn watched(&self, resume: bool, progress: &Path, preview: &Path) -> Vec<String>;
}

/// The three ways to hand a look on, built from one table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Exports {
    pub manifest: String,
    pub preset: String,
    pub command: String,
    pub words: Vec<String>,
}

impl Look {
    /// The look's `[[job]]` table: paths checked to stay in `folder`, settings typed as the
    /// manifest reads them (a number where the key takes one).
    pub fn table(&self, folder: &Folder) -> Result<toml::Table> {
        let mode = mode_of(&self.mode)?;
        let mut table = toml::Table::new();
        table.insert("mode".into(), self.mode.clone().into());
        let input = match self.input.trim() {
            "noise" => "noise".to_string(),
            "" => return Err(Error::setting("input", "pick an input: a file in the folder, an upload, or noise")),
            path => folder.relative(&folder.existing(path)?),
        };
        table.insert("input".into(), input.into());
        folder.writable(&self.output)?;
        table.insert("output".into(), self.output.trim().to_string().into());
        if let Some(preset) = self.preset.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            if preset.ends_with(".toml") {
                folder.existing(preset)?;
            }
            table.insert("preset".into(), preset.to_string().into());
        }
        if let Some(frames) = self.frames.filter(|_| mode != Mode::Still) {
            table.insert("frames".into(), toml::Value::Integer(frames as i64));
        }
        for (key, value) in &self.settings {
            if JOB_KEYS.contains(&key.as_str()) {
                return Err(Error::setting(key.as_str(), "is a field of its own, not a setting"));
            }
            if let Some(value) = typed(key, value)? {
                if matches!(key.as_str(), "mask" | "guide" | "audio" | "weights")
                    && let toml::Value::String(path) = &value
                {
                    folder.existing(path)?;
                }
                table.insert(key.clone(), value);
            }
        }
        Ok(table)
    }

    /// The same look as a still of at most `width` pixels across (keys a still does not take
    /// left out), written nowhere: what a preview dreams.
    pub fn as_preview(&self, width: u32) -> Look {
        let mut settings: BTreeMap<String, serde_json::Value> = self
            .settings
            .iter()
            .filter(|(key, _)| Mode::Still.takes(key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let noise = self.input.trim() == "noise";
        let given = |key: &str| settings.get(key).and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()));
        let (asked_width, asked_height) = (given("width"), given("height"));
        let scaled = asked_width.map_or(width as u64, |w| w.min(width as u64));
        settings.insert("width".into(), scaled.into());
        if noise {
            let height = match (asked_width, asked_height) {
                (Some(w), Some(h)) if w > 0 => (h * scaled / w).max(1),
                _ => scaled,
            };
            settings.insert("height".into(), height.into());
        } else {
            settings.remove("height");
        }
        Look {
            mode: "still".into(),
            input: self.input.clone(),
            output: format!("{}/preview.png", crate::studio::guard::WORK_FOLDER),
            preset: self.preset.clone(),
            frames: None,
            settings,
        }
    }

    /// The job the table makes, checked as a manifest's job is.
    pub fn job(&self, folder: &Folder) -> Result<Job> {
        job_of(&self.table(folder)?, folder)
    }

    /// The manifest line, the preset and the command line of this look.
    pub fn exports(&self, folder: &Folder, command_line: &dyn CommandLine) -> Result<Exports> {
        let table = self.table(folder)?;
        job_of(&table, folder)?;
        let words = command_line.words(&table)?;
        Ok(Exports {
            manifest: manifest_text(&table)?,
            preset: preset_text(&table, folder)?,
            command: shell_line(&words),
            words,
        })
    }
}

fn mode_of(name: &str) -> Result<Mode> {
    match name {
        "still" => Ok(Mode::Still),
        "zoom" => Ok(Mode::Zoom),
        "video" => Ok(Mode::Video),
        other => Err(Error::setting("mode", format!("'{other}' must be still, zoom or video"))),
    }
}

/// The manifest that holds `table` as its one job.
pub fn manifest_text(table: &toml::Table) -> Result<String> {
    let mut manifest = toml::Table::new();
    manifest.insert("job".into(), toml::Value::Array(vec![toml::Value::Table(table.clone())]));
    toml::to_string(&manifest).map_err(|e| Error::internal(format!("a studio job as TOML: {e}")))
}

/// The job of `table`, checked by the manifest's parser as if it were a manifest in `folder`.
pub fn job_of(table: &toml::Table, folder: &Folder) -> Result<Job> {
    let text = manifest_text(table)?;
    let place = folder.root().join("studio-job.toml");
    let manifest = manifest::parse(&text, &place).map_err(|e| without_place(e, &place))?;
    match manifest.jobs.into_iter().next() {
        Some(entry) => Ok(entry.render),
        None => Err(Error::internal("a studio job made no manifest job")),
    }
}

/// The manifest's error without the made-up file's name, line and job number: the page shows
/// the key at fault (`step: -1 must be ...`).
fn without_place(error: Error, place: &Path) -> Error {
    match error {
        Error::Input { path, message } if path.to_string_lossy().starts_with(&*place.to_string_lossy()) => {
            let message = message.strip_prefix("job 1: ").unwrap_or(&message);
            match message.split_once(": ") {
                Some((key, rest)) if !key.contains(' ') => Error::setting(key, rest),
                _ => Error::setting("job", message),
            }
        }
        other => other,
    }
}

/// A preset of the table's settings over its preset's, as TOML.
fn preset_text(table: &toml::Table, folder: &Folder) -> Result<String> {
    let mut merged = match table.get("preset").and_then(toml::Value::as_str) {
        Some(spec) => {
            let base = presets::find(spec, folder.root())?.patch;
            let toml::Value::Table(base) = toml::Value::try_from(&base).map_err(|e| Error::internal(e.to_string()))?
            else {
                return Err(Error::internal("a preset is not a table"));
            };
            base
        }
        None => toml::Table::new(),
    };
    merged.remove("description");
    for (key, value) in table.iter().filter(|(key, _)| !JOB_KEYS.contains(&key.as_str())) {
        merged.insert(key.clone(), value.clone());
    }
    let mut text = format!("description = {}\n", toml::Value::String("made in the studio".into()));
    text += &toml::to_string(&merged).map_err(|e| Error::internal(format!("a preset as TOML: {e}")))?;
    // What a preset file holds must read back as one.
    presets::parse(&text, &folder.root().join("studio-preset.toml"))?;
    Ok(text)
}

/// `value` as the type the setting `key` takes: the first of its readings that a preset accepts
/// (a number where a number goes, else text); `None` for an empty field.
fn typed(key: &str, value: &serde_json::Value) -> Result<Option<toml::Value>> {
    let candidates: Vec<toml::Value> = match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(text) if text.trim().is_empty() => return Ok(None),
        serde_json::Value::String(text) => {
            let text = text.trim();
            let mut readings = Vec::new();
            if let Ok(whole) = text.parse::<i64>() {
                readings.push(toml::Value::Integer(whole));
            }
            if let Ok(number) = text.parse::<f64>() {
                readings.push(toml::Value::Float(number));
            }
            if let Ok(switch) = text.parse::<bool>() {
                readings.push(toml::Value::Boolean(switch));
            }
            readings.push(toml::Value::String(text.to_string()));
            readings.push(toml::Value::Array(vec![toml::Value::String(text.to_string())]));
            readings
        }
        serde_json::Value::Bool(switch) => vec![toml::Value::Boolean(*switch)],
        serde_json::Value::Number(number) => {
            let mut readings: Vec<toml::Value> = number.as_i64().map(toml::Value::Integer).into_iter().collect();
            readings.extend(number.as_f64().map(toml::Value::Float));
            readings
        }
        other => vec![toml::Value::try_from(other).map_err(|e| Error::setting(key, e.to_string()))?],
    };
    let mut first_error = None;
    for candidate in candidates {
        let mut one = toml::Table::new();
        one.insert(key.to_string(), candidate.clone());
        match toml::Value::Table(one).try_into::<SettingsPatch>() {
            Ok(_) => return Ok(Some(candidate)),
            Err(e) => {
                first_error.get_or_insert_with(|| e.message().lines().next().unwrap_or_default().to_string());
            }
        }
    }
    Err(Error::setting(key, first_error.unwrap_or_else(|| "not a value this setting takes".into())))
}

/// The words as one line a POSIX shell reads back into the same words.
pub fn shell_line(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| {
            let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:,=%+@".contains(c));
            match plain {
                true => word.clone(),
                false => format!("'{}'", word.replace('\'', r"'\''")),
            }
        })
        .collect();
    quoted.join(" ")
}

/// The output of a table, relative to the folder.
pub fn output_of(table: &toml::Table) -> PathBuf {
    PathBuf::from(table.get("output").and_then(toml::Value::as_str).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_takes_the_type_its_setting_reads() {
        let number = typed("octaves", &serde_json::json!("2")).unwrap().unwrap();
        assert_eq!(number, toml::Value::Integer(2));
        let class = typed("class", &serde_json::json!("954")).unwrap().unwrap();
        assert_eq!(class, toml::Value::String("954".into()));
        let schedule = typed("zoom", &serde_json::json!("0:(1.0), 10:(1.05)")).unwrap().unwrap();
        assert_eq!(schedule, toml::Value::String("0:(1.0), 10:(1.05)".into()));
        let channels = typed("channels", &serde_json::json!("blocks.10:3,17")).unwrap().unwrap();
        assert_eq!(channels, toml::Value::Array(vec![toml::Value::String("blocks.10:3,17".into())]));
        assert_eq!(typed("step", &serde_json::json!("")).unwrap(), None);
        let error = typed("no-such-key", &serde_json::json!("1")).unwrap_err().to_string();
        assert!(error.starts_with("no-such-key: "), "{error}");
    }

    #[test]
    fn a_shell_reads_the_line_back_into_the_words() {
        let words: Vec<String> = ["dreamreel", "zoom", "my file.png", "--zoom", "0:(1.0), 5:(1.1)", "it's"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(shell_line(&words), r"dreamreel zoom 'my file.png' --zoom '0:(1.0), 5:(1.1)' 'it'\''s'");
    }
}
