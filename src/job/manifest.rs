//! Batch manifests: `[[job]]` tables, each checked into a [`Job`] with the line of any mistake.
//!
//! A job has `mode` (still, zoom, video), `input`, `output`, an optional `preset`, the span keys of
//! the command line (`frames`, `duration`, `start`, `no-audio`) and any setting under its preset's
//! key name. Relative paths are taken from the manifest's folder. `crate::run::batch` runs them.
use crate::config::layers::Layers;
use crate::config::presets::{at, find, line_of_key, line_of_table, settings_from_table, syntax_error};
use crate::config::settings::SettingsPatch;
use crate::error::{Error, Result};
use crate::job::render_job::Job;
use crate::job::request::{Mode, Problem, Request};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One checked job of a manifest.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Position in the manifest, from 1.
    pub number: usize,
    /// Position among the jobs to run, from 1: a video job of `parts = N` is N jobs, one per
    /// part, so a Slurm array's shards share a film's parts as they share jobs.
    pub slot: usize,
    pub render: Job,
}

/// A checked manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub jobs: Vec<Entry>,
}

/// The keys of a job that are not settings, as they arrive from TOML.
#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct JobKeys {
    mode: Option<String>,
    input: Option<String>,
    output: Option<PathBuf>,
    preset: Option<String>,
    frames: Option<u64>,
    duration: Option<f64>,
    start: Option<f64>,
    no_audio: Option<bool>,
    parts: Option<u32>,
}

const JOB_KEYS: [&str; 9] = ["mode", "input", "output", "preset", "frames", "duration", "start", "no-audio", "parts"];

/// Reads and checks a whole manifest: any mistake is `file:line: job N: key: problem`, exit code 2.
pub fn load(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(path, "no such manifest"),
        _ => Error::input(path, format!("cannot read: {e}")),
    })?;
    parse(&text, path)
}

/// Checks the manifest `text` read from `path` (whose folder relative paths are taken from).
pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
    let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, path, &e))?;
    let mut jobs = Vec::new();
    for (key, value) in table {
        let tables = match (key.as_str(), value) {
            ("job", toml::Value::Array(tables)) => tables,
            ("job", _) => {
                let message = "job: must be a list of [[job]] tables".to_string();
                return Err(at(path, line_of_key(text, None, &key), message));
            }
            _ => {
                let message = format!("unknown key '{key}': a manifest holds [[job]] tables");
                return Err(at(path, line_of_key(text, None, &key), message));
            }
        };
        for (index, value) in tables.into_iter().enumerate() {
            let here = |key: Option<&str>| {
                key.and_then(|key| line_of_key(text, Some(("job", index)), key))
                    .or_else(|| line_of_table(text, "job", index))
            };
            let toml::Value::Table(table) = value else {
                return Err(at(path, here(None), format!("job {}: must be a table", index + 1)));
            };
            let (entry, parts) = parse_job(table, index + 1, path, &here)?;
            // A film in parts: one job per part; the last part to finish joins the film.
            match parts {
                Some(count) => jobs.extend((1..=count).map(|index| Entry {
                    render: entry.render.as_part(Some(crate::job::request::Part { index, count })),
                    ..entry.clone()
                })),
                None => jobs.push(entry),
            }
        }
    }
    if jobs.is_empty() {
        return Err(Error::input(path, "no jobs: add [[job]] tables with mode, input and output"));
    }
    // Compared as the file system resolves them: `./out/a.png`, `out/../out/a.png` and a link to `out` are one file.
    let outputs: Vec<PathBuf> = jobs.iter().map(|job| crate::output::resolved(job.render.output().path())).collect();
    for (index, job) in jobs.iter().enumerate() {
        let same = |other: usize| outputs[other] == outputs[index] && jobs[other].number != job.number;
        if let Some(earlier) = (0..index).find(|&other| same(other)).map(|other| &jobs[other]) {
            let output = job.render.output().path().display();
            let message = format!("job {}: output: {output} is also job {}'s output", job.number, earlier.number);
            return Err(at(path, line_of_key(text, Some(("job", index)), "output"), message));
        }
    }
    for (at, job) in jobs.iter_mut().enumerate() {
        job.slot = at + 1;
    }
    Ok(Manifest { path: path.to_owned(), jobs })
}

/// Checks job `number` of the manifest at `path`; `here` gives the line of a key (or of the job).
fn parse_job(
    table: toml::Table,
    number: usize,
    path: &Path,
    here: &dyn Fn(Option<&str>) -> Option<usize>,
) -> Result<(Entry, Option<u32>)> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let fail_at = |line: Option<usize>, message: String| at(path, line, format!("job {number}: {message}"));
    let fail = |key: Option<&str>, message: String| fail_at(here(key), message);
    let (job_table, settings_table): (toml::Table, toml::Table) =
        table.into_iter().partition(|(key, _)| JOB_KEYS.contains(&key.as_str()));
    for (key, value) in &job_table {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = toml::Value::Table(one).try_into::<JobKeys>() {
            return Err(fail(Some(key), format!("{key}: {}", e.message().lines().next().unwrap_or(""))));
        }
    }
    let keys: JobKeys = toml::Value::Table(job_table).try_into().map_err(|e| fail(None, e.message().to_string()))?;
    let mode = match keys.mode.as_deref() {
        Some("still") => Mode::Still,
        Some("zoom") => Mode::Zoom,
        Some("video") => Mode::Video,
        Some(other) => return Err(fail(Some("mode"), format!("mode: '{other}' must be still, zoom or video"))),
        None => return Err(fail(None, "missing key 'mode' (still, zoom or video)".into())),
    };
    let problem = |problem: Problem| match (problem.key, &problem.output) {
        (Some(key), Some(path)) => fail(Some(key), format!("{key}: {}: {}", path.display(), problem.message)),
        (Some(key), None) => fail(Some(key), format!("{key}: {}", problem.message)),
        (None, _) => fail(None, problem.message),
    };
    // A setting the job's mode does not use is a mistake here; a preset (shared between modes) may hold one.
    for key in settings_table.keys() {
        mode.check_key(key).map_err(problem)?;
    }
    let patch = settings_from_table(settings_table, |key| here(Some(key)))
        .map_err(|(line, message)| fail_at(line.or_else(|| here(None)), message))?;
    let input = keys.input.ok_or_else(|| fail(None, "missing key 'input'".into()))?;
    let output = keys.output.ok_or_else(|| fail(None, "missing key 'output'".into()))?;
    let layers = job_layers(keys.preset.as_deref(), patch, folder, &fail)?;
    let request = Request {
        folder: folder.to_owned(),
        frames: keys.frames,
        duration: keys.duration,
        start: keys.start,
        no_audio: keys.no_audio,
        ..Request::new(mode, input, output, layers)
    };
    // The job's refusal at the line of its key: `crf: 70 must be ...` (the command line says `--crf`).
    let render = Job::new(request).map_err(|error| match error {
        Error::Setting { key, message } if key.name() == "job" => fail(None, message),
        Error::Setting { key, message } => fail(Some(key.name()), format!("{key}: {message}")),
        Error::Output { path: output, message } => {
            fail(Some("output"), format!("output: {}: {message}", output.display()))
        }
        other => fail(None, other.to_string()),
    })?;
    if let Some(parts) = keys.parts {
        mode.check_key("parts").map_err(problem)?;
        if !(1..=crate::job::request::Part::MAX).contains(&parts) {
            let message = format!("parts: {parts} must be between 1 and {}", crate::job::request::Part::MAX);
            return Err(fail(Some("parts"), message));
        }
        if render.is_loop() {
            return Err(fail(Some("parts"), "parts: a loop fades its end into its start: render it whole".into()));
        }
    }
    Ok((Entry { number, slot: number, render }, keys.parts.filter(|&parts| parts > 1)))
}

/// A job's settings layers: its preset's (if any) under its own keys, relative paths taken from
/// `folder`; `fail` places a mistake at its key. The job resolves them.
fn job_layers(
    preset: Option<&str>,
    mut patch: SettingsPatch,
    folder: &Path,
    fail: &dyn Fn(Option<&str>, String) -> Error,
) -> Result<Layers> {
    let preset = match preset {
        Some(spec) => {
            find(spec, folder)
                .map_err(|e| match e {
                    Error::Setting { message, .. } => fail(Some("preset"), format!("preset: {message}")),
                    other => other,
                })?
                .patch
        }
        None => SettingsPatch::default(),
    };
    patch.weights = patch.weights.map(|weights| folder.join(weights));
    patch.guide = patch.guide.map(|guide| folder.join(guide));
    patch.audio = patch.audio.map(|audio| folder.join(audio));
    patch.mask = patch.mask.map(|mask| folder.join(mask));
    Ok(Layers { preset, given: patch, ..Layers::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_name_the_manifest_line_and_job() {
        let path = Path::new("m.toml");
        let err = |text: &str| parse(text, path).unwrap_err().to_string();
        let ok = "[[job]]\nmode = \"still\"\ninput = \"a.png\"\noutput = \"b.png\"\n";
        assert_eq!(parse(ok, path).unwrap().jobs.len(), 1);
        assert_eq!(
            err(&format!("{ok}\n[[job]]\nmode = \"film\"\n")),
            "m.toml:7: job 2: mode: 'film' must be still, zoom or video"
        );
        assert_eq!(
            err(&format!("{ok}octave_scale = 2\n")),
            "m.toml:5: job 1: unknown key 'octave_scale' (did you mean 'octave-scale'?)"
        );
        assert_eq!(err(&format!("{ok}octaves = 0\n")), "m.toml:5: job 1: octaves: 0 must be at least 1");
        assert_eq!(err(&format!("{ok}frames = 3\n")), "m.toml:5: job 1: frames: only for zoom and video jobs");
        assert_eq!(
            err("[[job]]\nmode = \"zoom\"\ninput = \"a.png\"\noutput = \"b.mp4\"\n"),
            "m.toml:1: job 1: a zoom needs frames or duration"
        );
        assert_eq!(err(&format!("{ok}{ok}")), "m.toml:8: job 2: output: b.png is also job 1's output");
        assert!(err("jobs = 1").starts_with("m.toml:1: unknown key 'jobs'"));
        assert_eq!(err(&format!("{ok}blend = 0.3\n")), "m.toml:5: job 1: blend: only for video jobs");
        assert_eq!(err(&format!("{ok}codec = \"av1\"\n")), "m.toml:5: job 1: codec: only for zoom and video jobs");
        let zoom = "[[job]]\nmode = \"zoom\"\ninput = \"a.png\"\noutput = \"z.mp4\"\n";
        assert_eq!(err(&format!("{zoom}duration = 1\nblend = 0.3\n")), "m.toml:6: job 1: blend: only for video jobs");
    }

    #[cfg(feature = "video")]
    #[test]
    fn a_manifest_zoom_is_the_job_the_command_line_builds() {
        let text = "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"z.mp4\"\nduration = 2.5\nfps = 12\nwidth = 32\nheight = 48\n";
        let from_manifest = parse(text, Path::new("m.toml")).unwrap().jobs.remove(0).render;
        let patch = SettingsPatch { fps: Some(12.0), width: Some(32), height: Some(48), ..Default::default() };
        let request = Request { duration: Some(2.5), ..Request::new(Mode::Zoom, "noise", "z.mp4", patch) };
        let from_command_line = crate::job::render_job::Job::new(request).unwrap();
        assert_eq!(from_manifest.span().frames, Some(30));
        assert_eq!(from_manifest, from_command_line);
    }
}
