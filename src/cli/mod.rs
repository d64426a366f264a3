//! The binary's side: the options (clap), the commands that run them, the choices clap offers
//! for the library's enums, the progress bars, signal handling and `--version`.
pub mod choices;
pub mod commands;
pub mod messages;
pub mod options;
pub mod progress;
pub mod signals;
pub mod usage;
pub mod versions;
