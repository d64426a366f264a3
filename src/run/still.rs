//! A still: one image (or seeded noise) dreamed into one picture.
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image, output_image_format, save_image};
use crate::frame::transform::noise;
use crate::job::render_job::Job;
use crate::output::{check_output_path, check_overwrite};
use crate::run::engine::Engine;
use crate::run::progress::Progress;
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
    let output = job.output.as_path();
    // "is the input file" says more than "already exists" when both are true.
    let inputs: Vec<&Path> = job.input.file().into_iter().collect();
    check_output_path(output, &inputs)?;
    check_overwrite(output, job.options.overwrite)?;
    output_image_format(output)?;
    let image = match job.input.file() {
        Some(path) => Some(load_image(path, job.frames.width)?),
        None => None,
    };
    let engine = Engine::load(&job.settings)?;
    let started = Instant::now();
    progress.start(Some(1));
    let x = match &image {
        Some(image) => image_to_tensor(image, engine.network.device())?,
        None => {
            let (width, height) =
                job.frames.noise_size().ok_or_else(|| Error::setting("--width", "a still from noise needs --width"))?;
            noise(height as i64, width as i64, job.settings.seed, engine.network.device())?
        }
    };
    let objective = &engine.params.objective;
    let objective_before = objective.value_of(&engine.network, &x)?;
    let mut dreamer = engine.dreamer()?;
    let dreamed = match job.input.file() {
        Some(_) => dreamer.dream(&x)?,
        None => dreamer.dream_from_noise(&x)?,
    };
    let objective_after = objective.value_of(&engine.network, &dreamed)?;
    save_image(&dreamed, output)?;
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
