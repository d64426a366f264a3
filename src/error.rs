//! The library's error type: each variant knows whether the user (exit 2) or the work (exit 1) failed.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line option, preset key or manifest field with a value we cannot use.
    #[error("{option}: {message}")]
    Setting { option: String, message: String },
    /// An input file that is missing, unreadable or not what it should be.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// An output we may not or cannot write.
    #[error("{}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    /// Writing an output failed midway (disk full, I/O error): the work failed, not the invocation.
    #[error("{}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    /// The weights file of a network.
    #[error("{}: {source}", path.display())]
    Weights { path: PathBuf, source: crate::model::weights::WeightsError },
    #[cfg(feature = "video")]
    #[error(transparent)]
    Video(#[from] crate::video::VideoError),
    /// Only the first line of torch's message: the rest is a C++ backtrace.
    #[error("torch: {}", .0.to_string().lines().next().unwrap_or_default())]
    Torch(#[from] tch::TchError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn setting(option: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting { option: option.into(), message: one_line(message.into()) }
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

    /// 2 when the invocation or the input was wrong, 130 when interrupted, 1 when the work failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Setting { .. } | Error::Input { .. } | Error::Output { .. } | Error::Weights { .. } => 2,
            #[cfg(feature = "video")]
            Error::Video(e) if e.is_bad_input() => 2,
            Error::Interrupted => 130,
            _ => 1,
        }
    }
}

/// Messages quote what the user wrote, which may hold line breaks: keep every error on one line.
fn one_line(message: String) -> String {
    if message.contains(['\n', '\r']) { message.replace('\n', "\\n").replace('\r', "\\r") } else { message }
}
