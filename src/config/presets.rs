//! Presets: named looks, each a [`SettingsPatch`] layered between the built-in defaults and the
//! command line (`Settings::resolve([&preset, &command_line])`).
//!
//! A name is looked up in the user's folder (`$XDG_CONFIG_HOME/dreamreel/presets/NAME.toml`, else
//! `~/.config/...`) first, so a user preset replaces a shipped one of the same name; then among
//! the presets shipped in `presets/*.toml`. Anything with a `/` or ending in `.toml` is a file.
use crate::config::settings::{Settings, SettingsPatch};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The presets compiled into the binary, in the order `dreamreel presets` lists them.
pub(crate) const SHIPPED: &[(&str, &str)] = &[
    ("preview", include_str!("../../presets/preview.toml")),
    ("classic", include_str!("../../presets/classic.toml")),
    ("shallow", include_str!("../../presets/shallow.toml")),
    ("deep", include_str!("../../presets/deep.toml")),
    ("gentle", include_str!("../../presets/gentle.toml")),
    ("zoom-rush", include_str!("../../presets/zoom-rush.toml")),
    ("slow-hq", include_str!("../../presets/slow-hq.toml")),
    ("bananas", include_str!("../../presets/bananas.toml")),
    ("class-zoom", include_str!("../../presets/class-zoom.toml")),
    ("guided", include_str!("../../presets/guided.toml")),
];

/// Where a preset came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Shipped,
    /// A file in the user's presets folder.
    User(PathBuf),
    /// A file named directly (`--preset path/to/look.toml`).
    File(PathBuf),
}

/// A checked preset.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: String,
    pub origin: Origin,
    pub patch: SettingsPatch,
}

impl Preset {
    pub fn description(&self) -> &str {
        self.patch.description.as_deref().unwrap_or("")
    }
}

/// The user's presets folder: `$XDG_CONFIG_HOME/dreamreel/presets`, else `$HOME/.config/dreamreel/presets`.
pub(crate) fn user_dir() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let config = absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|home| home.join(".config")))?;
    Some(config.join("dreamreel").join("presets"))
}

/// True when `spec` names a file rather than a preset.
pub(crate) fn is_file_spec(spec: &str) -> bool {
    spec.contains('/') || spec.ends_with(".toml")
}

/// Finds and checks the preset `spec` (a name or a file; relative files are taken from `base`).
pub fn find(spec: &str, base: &Path) -> Result<Preset> {
    if is_file_spec(spec) {
        let path = base.join(spec);
        return load_file(&path, Origin::File(path.clone()));
    }
    if let Some(path) = user_dir().map(|dir| dir.join(format!("{spec}.toml")))
        && path.is_file()
    {
        return load_file(&path, Origin::User(path.clone()));
    }
    if let Some((name, text)) = SHIPPED.iter().find(|(name, _)| *name == spec) {
        let patch = parse(text, &Path::new("presets").join(format!("{name}.toml")))?;
        return Ok(Preset { name: name.to_string(), origin: Origin::Shipped, patch });
    }
    let names: Vec<String> = list().map(|all| all.into_iter().map(|p| p.name).collect()).unwrap_or_default();
    Err(Error::setting("preset", format!("no preset '{spec}': use one of {}, or a .toml file", names.join(", "))))
}

/// Every preset: the shipped ones, each replaced by a user preset of its name, then the other user ones.
pub fn list() -> Result<Vec<Preset>> {
    let mut presets = Vec::new();
    for (name, text) in SHIPPED {
        let patch = parse(text, &Path::new("presets").join(format!("{name}.toml")))?;
        presets.push(Preset { name: name.to_string(), origin: Origin::Shipped, patch });
    }
    let Some(dir) = user_dir() else { return Ok(presets) };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(presets) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "toml") && path.is_file())
        .collect();
    files.sort();
    for path in files {
        // A broken user preset is left out here; `list_all` names it with its error.
        let Ok(user) = load_file(&path, Origin::User(path.clone())) else { continue };
        match presets.iter_mut().find(|p| p.name == user.name) {
            Some(shipped) => *shipped = user,
            None => presets.push(user),
        }
    }
    Ok(presets)
}

/// The user presets that cannot be loaded, each with its error, so `dreamreel presets` lists
/// the others and marks these instead of failing as a whole.
pub fn broken() -> Vec<(String, Error)> {
    let Some(dir) = user_dir() else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "toml") && path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let error = load_file(&path, Origin::User(path.clone())).err()?;
            Some((path.file_stem()?.to_string_lossy().into_owned(), error))
        })
        .collect()
}

/// Reads and checks a preset file; a relative `weights` is taken from the file's folder.
fn load_file(path: &Path, origin: Origin) -> Result<Preset> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(path, "no such preset file"),
        _ => Error::input(path, format!("cannot read: {e}")),
    })?;
    let mut patch = parse(&text, path)?;
    if let Some(guide) = &patch.guide {
        patch.guide = Some(path.parent().unwrap_or(Path::new("")).join(guide));
    }
    if let Some(mask) = &patch.mask {
        patch.mask = Some(path.parent().unwrap_or(Path::new("")).join(mask));
    }
    if let Some(weights) = &patch.weights {
        patch.weights = Some(path.parent().unwrap_or(Path::new("")).join(weights));
    }
    if let Some(audio) = &patch.audio {
        patch.audio = Some(path.parent().unwrap_or(Path::new("")).join(audio));
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Preset { name, origin, patch })
}

/// Parses a preset's text, naming `file`, the line and the key of the first mistake.
pub fn parse(text: &str, file: &Path) -> Result<SettingsPatch> {
    let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, file, &e))?;
    settings_from_table(table, |key| line_of_key(text, None, key)).map_err(|(line, message)| at(file, line, message))
}

/// An error located at `file:line`, exit code 2.
pub(crate) fn at(file: &Path, line: Option<usize>, message: String) -> Error {
    // A file's mistake is worded in the file's language: a setting as its key, never `--key`.
    let message = crate::error::word_mentions(&message, &|key| key.to_string());
    match line {
        Some(line) => Error::input(format!("{}:{line}", file.display()), message),
        None => Error::input(file, message),
    }
}

/// A TOML syntax error as `file:line: message`.
pub(crate) fn syntax_error(text: &str, file: &Path, error: &toml::de::Error) -> Error {
    let line = error.span().map(|span| line_at(text, span.start));
    at(file, line, first_line(error.message()).to_string())
}

/// Checks each key of `table` on its own (so the message can name it and `locate` its line), then
/// deserializes the whole. On error: the line of the first bad key and `key: problem`.
pub(crate) fn settings_from_table(
    table: toml::Table,
    locate: impl Fn(&str) -> Option<usize>,
) -> std::result::Result<SettingsPatch, (Option<usize>, String)> {
    let mut first: Option<(Option<usize>, String)> = None;
    for (key, value) in &table {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        let problem = match toml::Value::Table(one).try_into::<SettingsPatch>() {
            Err(e) if e.message().starts_with("unknown field") => Some(unknown_key(key)),
            Err(e) => Some(format!("{key}: {}", first_line(e.message()))),
            Ok(patch) => match Settings::resolve([&patch]) {
                Err(Error::Setting { message, .. }) => Some(format!("{key}: {message}")),
                Err(e) => Some(format!("{key}: {e}")),
                Ok(_) => None,
            },
        };
        if let Some(problem) = problem {
            let line = locate(key);
            // Report the mistake that comes first in the file.
            if first
                .as_ref()
                .is_none_or(|(first_line, _)| line.unwrap_or(usize::MAX) < first_line.unwrap_or(usize::MAX))
            {
                first = Some((line, problem));
            }
        }
    }
    if let Some(error) = first {
        return Err(error);
    }
    toml::Value::Table(table).try_into().map_err(|e| (None, first_line(e.message()).to_string()))
}

/// `unknown key 'x'`, with the kebab-case spelling when that is a key.
fn unknown_key(key: &str) -> String {
    let kebab = key.replace('_', "-");
    let mut one = toml::Table::new();
    one.insert(kebab.clone(), toml::Value::Boolean(false));
    let kebab_is_a_key = kebab != key
        && toml::Value::Table(one)
            .try_into::<SettingsPatch>()
            .is_err_and(|e| !e.message().starts_with("unknown field"));
    if kebab_is_a_key {
        format!("unknown key '{key}' (did you mean '{kebab}'?)")
    } else {
        format!("unknown key '{key}': keys are the long option names, such as octave-scale")
    }
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("").trim()
}

/// 1-based line of the byte `offset` in `text`.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// 1-based line where `key` is set: at the top level (`table` None) or in the `index`th (0-based)
/// `[[name]]` table of an array of tables.
pub(crate) fn line_of_key(text: &str, table: Option<(&str, usize)>, key: &str) -> Option<usize> {
    let mut inside = table.is_none();
    let mut seen = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('[') {
            inside = match table {
                Some((name, index)) if header_name(line) == Some(name) => {
                    seen += 1;
                    seen == index + 1
                }
                _ => false,
            };
        } else if inside && key_of(line) == Some(key) {
            return Some(number + 1);
        }
    }
    None
}

/// 1-based line of the `index`th (0-based) `[[name]]` header.
pub(crate) fn line_of_table(text: &str, name: &str, index: usize) -> Option<usize> {
    let mut headers =
        text.lines().enumerate().filter(|(_, line)| header_name(line.trim_start()) == Some(name)).map(|(n, _)| n + 1);
    headers.nth(index)
}

/// `name` of a `[[name]]` line.
fn header_name(line: &str) -> Option<&str> {
    Some(line.strip_prefix("[[")?.split("]]").next()?.trim())
}

/// The key of a `key = value` line, unquoted.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    Some(key.trim_matches('"').trim_matches('\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_presets_parse_and_differ() {
        let mut seen = Vec::new();
        for (name, text) in SHIPPED {
            let patch = parse(text, Path::new(name)).unwrap();
            assert!(!patch.description.as_deref().unwrap_or("").is_empty(), "{name} has a description");
            Settings::resolve([&patch]).unwrap();
            assert!(!seen.contains(&patch), "{name} is a copy");
            seen.push(patch);
        }
    }

    #[test]
    fn mistakes_name_the_line_and_key() {
        let file = Path::new("bad.toml");
        let err = |text: &str| parse(text, file).unwrap_err().to_string();
        assert_eq!(
            err("description = \"x\"\nstrength = 3\n"),
            "bad.toml:2: unknown key 'strength': keys are the long option names, such as octave-scale"
        );
        assert_eq!(
            err("\n\noctave_scale = 1.2"),
            "bad.toml:3: unknown key 'octave_scale' (did you mean 'octave-scale'?)"
        );
        assert_eq!(err("step = 0.1\noctaves = 0\n"), "bad.toml:2: octaves: 0 must be at least 1");
        assert!(err("octaves = \"four\"").starts_with("bad.toml:1: octaves: invalid type: string \"four\""));
        assert!(err("x = = 1").starts_with("bad.toml:1: "));
    }

    #[test]
    fn keys_are_found_in_the_right_table() {
        let text = "[[job]]\nmode = \"still\"\n[[job]]\n# note\n\"mode\" = \"zoom\"\n";
        assert_eq!(line_of_key(text, Some(("job", 1)), "mode"), Some(5));
        assert_eq!(line_of_key(text, Some(("job", 0)), "mode"), Some(2));
        assert_eq!(line_of_key(text, None, "mode"), None);
        assert_eq!(line_of_table(text, "job", 1), Some(3));
    }
}
