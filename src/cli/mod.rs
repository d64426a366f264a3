//! The binary's side: the options (clap), the commands that run them, the choices clap offers
//! for the library's enums, the progress bars, signal handling and `--version`; [`film`] runs a
//! film's parts, their join and `--devices`.
pub mod choices;
pub mod commands;
#[cfg(feature = "video")]
pub mod film;
pub mod messages;
pub mod options;
pub mod progress;
#[cfg(feature = "video")]
pub mod report_files;
pub mod signals;
pub mod studio;
pub mod usage;
pub mod versions;
