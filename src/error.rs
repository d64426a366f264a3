//! The library's error type: each variant knows whether the user (exit 2), the work (exit 1) or a
//! bug (exit 1, said as such) failed. It stands below every layer and imports none of them: the
//! layers' own error types (the weights reader's, FFmpeg's) convert into it where they are defined.
//!
//! A setting is named by its [`SettingKey`], never as a command-line flag: the library and a batch
//! manifest word it as the key (`crf: 70 must be ...`), the binary as its option (`--crf: ...`),
//! through [`Error::worded`]. A message that points at another setting [`mention`]s its key.
use std::borrow::Cow;
use std::path::PathBuf;

/// An error of a layer's own type, kept whole for its message.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// A setting's key as presets and manifests write it (`octave-scale`, `crf`), also the long
/// option's name; or a name that is no setting (a manifest's `job`, the `mode`, an argument such
/// as `IMAGE`), which every wording keeps as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SettingKey(Cow<'static, str>);

impl SettingKey {
    pub const fn new(key: &'static str) -> SettingKey {
        SettingKey(Cow::Borrowed(key))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The key inside a message, to be worded as the reader writes it (see [`Error::worded`]).
    pub fn mention(&self) -> String {
        mention(&self.0)
    }
}

impl std::fmt::Display for SettingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SettingKey {
    fn from(key: &str) -> SettingKey {
        SettingKey(Cow::Owned(key.to_string()))
    }
}

impl From<String> for SettingKey {
    fn from(key: String) -> SettingKey {
        SettingKey(Cow::Owned(key))
    }
}

impl From<&String> for SettingKey {
    fn from(key: &String) -> SettingKey {
        SettingKey(Cow::Owned(key.clone()))
    }
}

// A mention is the key between two marks no message holds; wording replaces it.
const MENTION_START: char = '\u{1}';
const MENTION_END: char = '\u{2}';

/// `key` mentioned in a message (`give {} only`): a manifest's reader sees `width`, the command
/// line's `--width`.
pub fn mention(key: &str) -> String {
    format!("{MENTION_START}{key}{MENTION_END}")
}

/// `text` with each mention worded by `word` (given the key).
pub fn word_mentions(text: &str, word: &dyn Fn(&str) -> String) -> String {
    let mut worded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(MENTION_START) {
        worded.push_str(&rest[..start]);
        let after = &rest[start + MENTION_START.len_utf8()..];
        match after.find(MENTION_END) {
            Some(end) => {
                worded.push_str(&word(&after[..end]));
                rest = &after[end + MENTION_END.len_utf8()..];
            }
            None => {
                rest = after;
            }
        }
    }
    worded.push_str(rest);
    worded
}

#[derive(Debug)]
pub enum Error {
    /// A setting with a value we cannot use, named by its key.
    Setting {
        key: SettingKey,
        message: String,
    },
    /// An input file that is missing, unreadable or not what it should be.
    Input {
        path: PathBuf,
        message: String,
    },
    /// An output we may not or cannot write.
    Output {
        path: PathBuf,
        message: String,
    },
    /// Writing an output failed midway (disk full, I/O error): the work failed, not the invocation.
    Write {
        path: PathBuf,
        message: String,
    },
    /// The weights file of a network (a bad file is the user's to fix: exit 2).
    Weights {
        path: PathBuf,
        source: Source,
    },
    /// FFmpeg decoding, encoding or muxing; `bad_input` when the user's file or choice was wrong.
    Video {
        source: Source,
        bad_input: bool,
    },
    /// Only the first line of torch's message: the rest is a C++ backtrace.
    Torch(tch::TchError),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Interrupted,
    /// An impossible state or a thread that panicked: a bug, not the user's mistake.
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn setting(key: impl Into<SettingKey>, message: impl Into<String>) -> Self {
        Error::Setting { key: key.into(), message: one_line(message.into()) }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input { path: path.into(), message: one_line(message.into()) }
    }

    pub fn output(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Output { path: path.into(), message: one_line(message.into()) }
    }

    pub fn write(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Write { path: path.into(), message: one_line(message.into()) }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A bug: what should have been impossible.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal(one_line(message.into()))
    }

    /// 2 when the invocation or the input was wrong, 130 when interrupted, 1 when the work failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Setting { .. } | Error::Input { .. } | Error::Output { .. } | Error::Weights { .. } => 2,
            Error::Video { bad_input: true, .. } => 2,
            Error::Interrupted => 130,
            _ => 1,
        }
    }

    /// The error as one line, each setting (the one at fault and those its message mentions)
    /// worded by `word` from its key: `Display` words them as keys, the binary as `--options`.
    pub fn worded(&self, word: &dyn Fn(&str) -> String) -> String {
        let text = match self {
            Error::Setting { key, message } => format!("{}: {message}", key.mention()),
            Error::Input { path, message } | Error::Output { path, message } | Error::Write { path, message } => {
                format!("{}: {message}", path.display())
            }
            Error::Weights { path, source } => format!("{}: {source}", path.display()),
            Error::Video { source, .. } => source.to_string(),
            Error::Torch(error) => format!("torch: {}", error.to_string().lines().next().unwrap_or_default()),
            Error::Io { path, source } => format!("{}: {source}", path.display()),
            Error::Interrupted => "interrupted".into(),
            Error::Internal(message) => {
                format!("internal error (this is a bug in dreamreel, please report it): {message}")
            }
        };
        word_mentions(&text, word)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.worded(&|key| key.to_string()))
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Weights { source, .. } | Error::Video { source, .. } => Some(source.as_ref()),
            Error::Torch(error) => Some(error),
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<tch::TchError> for Error {
    fn from(error: tch::TchError) -> Error {
        Error::Torch(error)
    }
}

/// Messages quote what the user wrote, which may hold line breaks: keep every error on one line.
fn one_line(message: String) -> String {
    if message.contains(['\n', '\r']) { message.replace('\n', "\\n").replace('\r', "\\r") } else { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_worded_for_the_reader() {
        let error = Error::setting("height", format!("give {} only", mention("width")));
        assert_eq!(error.to_string(), "height: give width only");
        assert_eq!(error.worded(&|key| format!("--{key}")), "--height: give --width only");
        let input =
            Error::input("a.json", format!("damaged: add {} to discard it", SettingKey::new("restart").mention()));
        assert_eq!(input.to_string(), "a.json: damaged: add restart to discard it");
    }
}
