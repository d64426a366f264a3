//! The `dreamreel` command: a thin binary over the library; `src/cli/` parses the arguments,
//! builds the settings and job, and maps errors to exit codes.
mod cli;

fn main() -> std::process::ExitCode {
    cli::commands::run()
}
