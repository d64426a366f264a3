//! `--progress-file` and `--preview-file`: a render's progress as JSON and its latest dreamed
//! frame as a small PNG, each replaced whole (written beside, then renamed), so a watcher (the
//! studio) never reads half a file. Wraps the progress the terminal sees.
use dreamreel::run::progress::Progress;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The widest preview written: enough for a page, cheap to encode each second.
const PREVIEW_WIDTH: u32 = 512;
/// The least time between two previews (the first and the last are always written).
const PREVIEW_EVERY: Duration = Duration::from_secs(1);

/// The terminal's progress, and the files a watcher reads.
pub struct Reported<P: Progress> {
    inner: P,
    progress_file: Option<PathBuf>,
    preview_file: Option<PathBuf>,
    total: Option<u64>,
    done: u64,
    /// When this run started, and the frames done then (a resume starts past zero).
    mark: Option<(Instant, u64)>,
    last_preview: Option<Instant>,
    /// The latest dreamed frame not yet written as the preview.
    pending: Option<(u64, u32, u32, Vec<u8>)>,
    /// The frame the preview file shows.
    previewed: Option<u64>,
}

impl<P: Progress> Reported<P> {
    pub fn new(inner: P, progress_file: Option<PathBuf>, preview_file: Option<PathBuf>) -> Self {
        let reported = Reported {
            inner,
            progress_file,
            preview_file,
            total: None,
            done: 0,
            mark: None,
            last_preview: None,
            pending: None,
            previewed: None,
        };
        reported.write_progress("starting");
        reported
    }

    fn write_progress(&self, state: &str) {
        let Some(path) = &self.progress_file else { return };
        let seconds = self.mark.map(|(at, _)| at.elapsed().as_secs_f64()).unwrap_or(0.0);
        let this_run = self.done - self.mark.map_or(0, |(_, from)| from);
        let fps = (seconds > 0.0 && this_run > 0).then(|| this_run as f64 / seconds);
        let eta = match (fps, self.total) {
            (Some(fps), Some(total)) => Some(total.saturating_sub(self.done) as f64 / fps),
            _ => None,
        };
        let json = serde_json::json!({
            "state": state,
            "done": self.done,
            "total": self.total,
            "frames_per_second": fps,
            "eta_seconds": eta,
            "preview_frame": self.previewed,
        });
        // A failed report never stops the render: the terminal still sees its progress.
        let _ = replace_whole(path, json.to_string().as_bytes());
    }

    fn write_preview(&mut self) {
        let (Some(path), Some((index, width, height, rgb))) = (&self.preview_file, self.pending.take()) else {
            return;
        };
        self.last_preview = Some(Instant::now());
        let Some(image) = image::RgbImage::from_raw(width, height, rgb) else { return };
        let image = match width > PREVIEW_WIDTH {
            true => {
                let scaled_height = (height as u64 * PREVIEW_WIDTH as u64 / width as u64).max(1) as u32;
                image::imageops::thumbnail(&image, PREVIEW_WIDTH, scaled_height)
            }
            false => image,
        };
        let mut png = Vec::new();
        if image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).is_ok()
            && replace_whole(path, &png).is_ok()
        {
            self.previewed = Some(index);
        }
    }
}

/// Writes `bytes` beside `path` and renames it over `path`.
fn replace_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

impl<P: Progress> Progress for Reported<P> {
    fn start(&mut self, total: Option<u64>) {
        self.total = total;
        self.mark = Some((Instant::now(), self.done));
        self.inner.start(total);
        self.write_progress("running");
    }

    fn advance(&mut self, done: u64) {
        self.done += done;
        // A resume reports its checkpoint's frames at once: they are not this run's speed.
        if done > 1 {
            self.mark = Some((Instant::now(), self.done));
        }
        self.inner.advance(done);
        if self.preview_file.is_some() && self.last_preview.is_none_or(|at| at.elapsed() >= PREVIEW_EVERY) {
            self.write_preview();
        }
        self.write_progress("running");
    }

    fn note(&mut self, message: &str) {
        self.inner.note(message);
    }

    fn finish(&mut self) {
        self.write_preview();
        self.inner.finish();
        self.write_progress("finished");
    }

    fn dreamed(&mut self, index: u64, width: u32, height: u32, rgb: &[u8]) {
        if self.preview_file.is_some() {
            self.pending = Some((index, width, height, rgb.to_vec()));
        }
        self.inner.dreamed(index, width, height, rgb);
    }
}
