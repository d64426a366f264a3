//! `dreamreel studio [FOLDER]`: starts the library's studio, prints its address (with the token)
//! and serves until Ctrl-C. The binary words a studio job as its command line, since the options
//! are the binary's: a `[[job]]` table's keys become the options of the same name.
use crate::cli::options::{Cli, StudioArgs};
use clap::Parser;
use dreamreel::Error;
use dreamreel::studio::look::CommandLine;
use dreamreel::studio::{Studio, StudioOptions};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The page's port unless `--listen` or `--port` says otherwise.
pub const DEFAULT_PORT: u16 = 8787;

pub fn studio(args: StudioArgs) -> Result<(), Error> {
    let listen: SocketAddr = match &args.listen {
        Some(address) => *address,
        None => SocketAddr::from(([127, 0, 0, 1], args.port.unwrap_or(DEFAULT_PORT))),
    };
    if !listen.ip().is_loopback() {
        eprintln!(
            "dreamreel: warning: --listen {listen}: the studio is reachable from other machines; anyone who learns \
             its token can read and write {} and run renders. On a shared network use an SSH tunnel instead: \
             ssh -L {port}:127.0.0.1:{port} HOST, and `dreamreel studio` there without --listen",
            args.folder.display(),
            port = listen.port()
        );
    }
    let program = std::env::current_exe().map_err(|e| Error::internal(format!("this program's path: {e}")))?;
    let options = StudioOptions {
        folder: args.folder.clone(),
        listen,
        max_upload: args.max_upload_mb.saturating_mul(1 << 20),
        program,
        token: None,
    };
    let studio = Studio::start(options, Arc::new(Words))?;
    // The address on stdout, alone on its line (a script reads it); the rest on stderr.
    println!("{}", studio.url());
    eprintln!(
        "dreamreel: studio of {} at {} (Ctrl-C stops it; running renders keep their checkpoints)",
        args.folder.display(),
        studio.address()
    );
    studio.wait(crate::cli::signals::cancel_on_signals());
    Ok(())
}

/// Words a studio job as the `dreamreel` command line.
struct Words;

impl CommandLine for Words {
    fn words(&self, job: &toml::Table) -> Result<Vec<String>, Error> {
        let text = |key: &str| job.get(key).map(plain).unwrap_or_default();
        let mut words: Vec<String> = vec!["dreamreel".into(), text("mode"), text("input"), "-o".into(), text("output")];
        for key in ["preset", "frames"] {
            if job.contains_key(key) {
                words.extend([format!("--{key}"), text(key)]);
            }
        }
        for (key, value) in
            job.iter().filter(|(key, _)| !["mode", "input", "output", "preset", "frames"].contains(&key.as_str()))
        {
            match (key.as_str(), value) {
                // Switches whose option is the one way from the default.
                ("transforms" | "flow", toml::Value::Boolean(true)) | ("loop", toml::Value::Boolean(false)) => {}
                ("transforms" | "flow", toml::Value::Boolean(false)) => words.push(format!("--no-{key}")),
                ("loop", toml::Value::Boolean(true)) => words.push("--loop".into()),
                (_, toml::Value::Array(items)) => {
                    for item in items {
                        words.extend([format!("--{key}"), plain(item)]);
                    }
                }
                (_, value) => words.extend([format!("--{key}"), plain(value)]),
            }
        }
        // The line must be one the command line takes: a key it would not is a mistake here.
        if let Err(error) = Cli::try_parse_from(&words) {
            let first = error.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
            return Err(Error::setting("job", format!("not a command line dreamreel takes: {first}")));
        }
        Ok(words)
    }

    fn watched(&self, resume: bool, progress: &Path, preview: &Path) -> Vec<String> {
        let mut words: Vec<String> = resume.then(|| "--resume".to_string()).into_iter().collect();
        words.extend(["--progress-file".into(), progress.display().to_string()]);
        words.extend(["--preview-file".into(), preview.display().to_string()]);
        words
    }
}

/// A TOML value as a command-line word: text without quotes, numbers as written.
fn plain(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
