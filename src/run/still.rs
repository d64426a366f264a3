//! A still: one image (or seeded noise) dreamed into one picture.
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image, tensor_to_rgb8};
use crate::frame::rgb::Frame;
use crate::frame::transform::noise;
use crate::job::render_job::{Job, Source};
use crate::run::dream_setup::DreamSetup;
use crate::run::progress::Progress;
use crate::video::FrameFormat;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a finished still render measured.
#[derive(Clone, Debug)]
pub struct StillReport {
    pub width: u32,
    pub height: u32,
    pub objective_before: f64,
    pub objective_after: f64,
    pub elapsed: Duration,
}

/// Dreams a still job: its input (a file, or noise of the job's size) into its output.
pub(crate) fn render_still(job: &Job, progress: &mut dyn Progress) -> Result<StillReport> {
    let output = job.output();
    // "is the input file" says more than "already exists" when both are true.
    let inputs: Vec<&Path> = job.source().file().into_iter().collect();
    output.check_place(&inputs)?;
    output.check_overwrite(job.options().overwrite)?;
    let image = match job.source() {
        Source::Image(path) => Some(load_image(path, job.frame_format().width)?),
        _ => None,
    };
    let size = match (&image, job.source()) {
        (Some(image), _) => Some((image.width(), image.height())),
        (None, Source::Noise { width, height }) => Some((*width, *height)),
        _ => None,
    };
    if let Some((width, height)) = size {
        crate::run::frame_memory::check_frame(job, width, height)?;
    }
    let setup = DreamSetup::load(job.dream())?;
    let params = setup.params(job.per_frame().constants())?;
    let device = setup.network().device();
    let started = Instant::now();
    progress.start(Some(1));
    let x = match (&image, job.source()) {
        (Some(image), _) => image_to_tensor(image, device)?,
        (None, Source::Noise { width, height }) => noise(*height as i64, *width as i64, job.dream().seed(), device)?,
        (None, _) => return Err(Error::internal("a still's source is a picture or noise")),
    };
    let objective = params.objective.clone();
    let objective_before = objective.value_of(setup.network(), &x)?;
    let mut dreamer = setup.dreamer(params)?;
    let dreamed = match job.source() {
        Source::Noise { .. } => dreamer.dream_from_noise(&x)?,
        _ => dreamer.dream(&x)?,
    };
    let objective_after = objective.value_of(setup.network(), &dreamed)?;
    let (width, height, rgb) = tensor_to_rgb8(&dreamed)?;
    let mut writer = output.writer(FrameFormat::still(width, height), Path::new("."), None)?;
    writer.write(&Frame { index: 0, pts: 0, width, height, rgb })?;
    writer.finish(&[], 1)?;
    progress.advance(1);
    progress.finish();
    let size = x.size();
    Ok(StillReport {
        width: size[3] as u32,
        height: size[2] as u32,
        objective_before,
        objective_after,
        elapsed: started.elapsed(),
    })
}
