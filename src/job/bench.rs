//! What `dreamreel bench` dreams, decided from the settings as a render is.
use crate::config::settings::Settings;
use crate::job::dream::DreamSpec;
use crate::job::plan::PlanSpec;
use crate::job::request::Mode;
use std::path::PathBuf;

/// What to dream: `frames` frames of `input` (or noise of `width` x `height`), zooming by `zoom`,
/// with the dream's settings and each frame's.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub input: Option<PathBuf>,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub zoom: f64,
    pub fps: f64,
    dream: DreamSpec,
    per_frame: PlanSpec,
}

/// A bench's frame width when none is given: the reference's 320 (BENCHMARKS.md).
pub(crate) const DEFAULT_WIDTH: u32 = 320;

impl BenchOptions {
    /// The bench of `settings`: their size (320 wide, 2:3, unless given) and zoom (a zoom's
    /// default unless given), `frames` frames of `input` or noise.
    pub fn new(settings: &Settings, input: Option<PathBuf>, frames: u32) -> BenchOptions {
        let width = settings.width().unwrap_or(DEFAULT_WIDTH);
        BenchOptions {
            input,
            width,
            height: settings.height().unwrap_or(width * 2 / 3),
            frames,
            zoom: settings.zoom().unwrap_or(Mode::Zoom.default_zoom()),
            fps: settings.fps(),
            dream: DreamSpec::of(settings),
            per_frame: PlanSpec::of(settings, settings.zoom().unwrap_or(Mode::Zoom.default_zoom())),
        }
    }

    pub fn dream(&self) -> &DreamSpec {
        &self.dream
    }

    pub fn per_frame(&self) -> &PlanSpec {
        &self.per_frame
    }
}
