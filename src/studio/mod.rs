//! `dreamreel studio`: a local web page over a folder of media, to tune a look on a small still
//! (each octave shown as it finishes), see a zoom's plan, queue renders (the same commands the
//! command line and `batch` run, as child processes: Stop is Ctrl-C, Resume continues) and hand
//! every look on as a preset, a manifest line and a command line. Safe by default: loopback
//! only, a token on every request, Host and Origin checked, no path out of the folder.
pub mod guard;
pub mod look;
pub mod preview;
pub mod queue;
pub mod server;

pub use server::{Studio, StudioOptions};
