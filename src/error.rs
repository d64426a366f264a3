//! The library's error type: each variant knows whether the user (exit 2), the work (exit 1) or a
//! bug (exit 1, said as such) failed. It stands below every layer and imports none of them: the
//! layers' own error types (the weights reader's, FFmpeg's) convert into it where they are defined.
use std::path::PathBuf;

/// An error of a layer's own type, kept whole for its message.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting with a value we cannot use. `key` is the setting's key (a preset's and a
    /// manifest's key, the long option's name): the binary words it as `--key`.
    #[error("{key}: {message}")]
    Setting { key: String, message: String },
    /// An input file that is missing, unreadable or not what it should be.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// An output we may not or cannot write.
    #[error("{}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    /// Writing an output failed midway (disk full, I/O error): the work failed, not the invocation.
    #[error("{}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    /// The weights file of a network (a bad file is the user's to fix: exit 2).
    #[error("{}: {source}", path.display())]
    Weights { path: PathBuf, source: Source },
    /// FFmpeg decoding, encoding or muxing; `bad_input` when the user's file or choice was wrong.
    #[error("{source}")]
    Video { source: Source, bad_input: bool },
    /// Only the first line of torch's message: the rest is a C++ backtrace.
    #[error("torch: {}", .0.to_string().lines().next().unwrap_or_default())]
    Torch(#[from] tch::TchError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("interrupted")]
    Interrupted,
    /// An impossible state or a thread that panicked: a bug, not the user's mistake.
    #[error("internal error (this is a bug in dreamreel, please report it): {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn setting(key: impl Into<String>, message: impl Into<String>) -> Self {
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
}

/// Messages quote what the user wrote, which may hold line breaks: keep every error on one line.
fn one_line(message: String) -> String {
    if message.contains(['\n', '\r']) { message.replace('\n', "\\n").replace('\r', "\\r") } else { message }
}
