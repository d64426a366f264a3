//! Progress on stderr, drawn by the binary from the library's [`Progress`] reports: an indicatif
//! bar on a terminal (one per GPU under `batch --devices`, in a `MultiProgress`), and in a log
//! (stderr not a terminal: Slurm, CI) a plain line every 10 seconds with frames, speed and ETA.
use dreamreel::run::progress::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Seconds between plain progress lines; `DREAMREEL_PROGRESS_SECONDS` changes it (tests).
fn line_interval() -> Duration {
    let seconds = std::env::var("DREAMREEL_PROGRESS_SECONDS").ok().and_then(|s| s.parse::<f64>().ok());
    Duration::from_secs_f64(seconds.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(10.0))
}

/// How a render reports: a bar, plain lines, or nothing.
pub struct Bar {
    bar: Option<ProgressBar>,
    lines: Option<Lines>,
}

impl Bar {
    /// A bar on a terminal, plain lines in a log, nothing when quiet.
    pub fn new(quiet: bool) -> Self {
        Bar::labelled(quiet, String::new(), None)
    }

    /// As [`Bar::new`], with each line (or the bar) headed by `label`, and the bar drawn in
    /// `multi` when several run at once.
    pub fn labelled(quiet: bool, label: String, multi: Option<&MultiProgress>) -> Self {
        if quiet {
            return Bar { bar: None, lines: None };
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::no_length().with_prefix(label);
            let bar = multi.map_or(bar.clone(), |multi| multi.add(bar));
            return Bar { bar: Some(bar), lines: None };
        }
        Bar { bar: None, lines: Some(Lines::start(label, line_interval())) }
    }
}

impl Progress for Bar {
    fn start(&mut self, total: Option<u64>) {
        if let (Some(bar), Some(total)) = (&self.bar, total) {
            bar.set_length(total);
            let head = if bar.prefix().is_empty() { "" } else { "{prefix} " };
            let style = ProgressStyle::with_template(&format!(
                "{head}{{bar:40.cyan/blue}} {{pos}}/{{len}} frames  {{per_sec}}  ETA {{eta}}"
            ));
            if let Ok(style) = style {
                bar.set_style(style);
            }
        }
        if let Some(lines) = &self.lines {
            lines.update(|count| {
                count.started = true;
                count.total = total;
                count.mark = (Instant::now(), count.done);
            });
        }
    }

    fn advance(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(done);
        }
        if let Some(lines) = &self.lines {
            lines.update(|count| {
                count.done += done;
                // A resume reports its checkpoint's frames at once: they are not this run's speed.
                if done > 1 {
                    count.mark = (Instant::now(), count.done);
                }
            });
        }
    }

    fn note(&mut self, message: &str) {
        let message = crate::cli::messages::note(message);
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("dreamreel: note: {message}")),
            None if self.lines.is_some() => eprintln!("dreamreel: note: {message}"),
            None => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.lines.take();
    }
}

/// Frames done, as the plain lines see them.
#[derive(Clone)]
struct Count {
    /// Lines start once the render does: before, the network is loading and nothing is known.
    started: bool,
    total: Option<u64>,
    done: u64,
    /// When the speed is measured from, and frames done then.
    mark: (Instant, u64),
}

/// A thread that prints the count every `interval` until dropped.
struct Lines {
    count: Arc<Mutex<Count>>,
    stop: Option<Sender<()>>,
    printer: Option<JoinHandle<()>>,
}

impl Lines {
    fn start(label: String, interval: Duration) -> Lines {
        let count = Arc::new(Mutex::new(Count { started: false, total: None, done: 0, mark: (Instant::now(), 0) }));
        let (stop, stopped) = channel::<()>();
        let shared = Arc::clone(&count);
        let printer = std::thread::Builder::new().name("progress".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                if let Ok(count) = shared.lock()
                    && count.started
                {
                    eprintln!("{}", line(&label, &count, Instant::now()));
                }
            }
        });
        Lines { count, stop: Some(stop), printer: printer.ok() }
    }

    fn update(&self, change: impl FnOnce(&mut Count)) {
        if let Ok(mut count) = self.count.lock() {
            change(&mut count);
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(printer) = self.printer.take() {
            let _ = printer.join();
        }
    }
}

/// `job 2: 12/100 frames, 1.30 frames/s, ETA 1m08s`
fn line(label: &str, count: &Count, now: Instant) -> String {
    let (since, done_then) = count.mark;
    let seconds = now.duration_since(since).as_secs_f64();
    let rate = if seconds > 0.0 { count.done.saturating_sub(done_then) as f64 / seconds } else { 0.0 };
    let head = if label.is_empty() { "dreamreel".to_string() } else { label.to_string() };
    let eta = match count.total {
        Some(total) if rate > 0.0 => clock(total.saturating_sub(count.done) as f64 / rate),
        _ => "unknown".into(),
    };
    let of = count.total.map(|t| format!("/{t}")).unwrap_or_default();
    format!("{head}: {}{of} frames, {rate:.2} frames/s, ETA {eta}", count.done)
}

/// Seconds as `1h02m03s`, `4m05s` or `6s`.
fn clock(seconds: f64) -> String {
    let total = seconds.round() as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, _) => format!("{minutes}m{seconds:02}s"),
        _ => format!("{hours}h{minutes:02}m{seconds:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_frames_speed_and_eta() {
        let start = Instant::now();
        let count = Count { started: true, total: Some(100), done: 30, mark: (start, 10) };
        let text = line("job 2", &count, start + Duration::from_secs(10));
        assert_eq!(text, "job 2: 30/100 frames, 2.00 frames/s, ETA 35s");
        let unknown = Count { started: true, total: None, done: 0, mark: (start, 0) };
        assert_eq!(line("", &unknown, start), "dreamreel: 0 frames, 0.00 frames/s, ETA unknown");
        assert_eq!(clock(3723.0), "1h02m03s");
        assert_eq!(clock(245.0), "4m05s");
    }
}
