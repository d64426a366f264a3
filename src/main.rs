//! The `dreamreel` command: a thin binary over the library; `src/cli/` parses the arguments,
//! builds the settings and job, and maps errors to exit codes.
mod cli;

fn main() -> std::process::ExitCode {
    // Before anything else: a Ctrl-C or SIGTERM from now on exits 130 or 143 (see cli/signals.rs).
    cli::signals::install();
    // While there is one thread: it sets the codec library's log level (a failure is reported where FFmpeg is used).
    #[cfg(feature = "video")]
    let _ = dreamreel::video::init();
    cli::commands::run()
}
