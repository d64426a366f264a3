//! Tuning a look: a small still dreamed in this process, on one thread that keeps the network
//! loaded between previews (loading is most of a small preview's time), each octave's picture
//! handed to the page as it finishes. A new preview stops the one before at its next octave.
use crate::engine::ascent::OctaveSchedule;
use crate::error::{Error, Result};
use crate::frame::image_io::{image_to_tensor, load_image, tensor_to_rgb8};
use crate::frame::transform::noise;
use crate::job::render_job::{Job, Source};
use crate::run::dream_setup::DreamSetup;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the page reads of the latest preview.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PreviewState {
    pub id: u64,
    /// Octaves of this preview (known once it starts).
    pub octaves: usize,
    /// Pictures done so far, one per octave (PNG bytes are served apart).
    pub pictures: usize,
    pub done: bool,
    pub error: Option<String>,
    /// Seconds from the request to each picture.
    pub seconds: Vec<f64>,
    /// The network was loaded for this preview (false: the one kept from before was used).
    pub loaded_network: bool,
    #[serde(skip)]
    pub png: Vec<Vec<u8>>,
}

/// The previews' thread and what it shows.
pub struct Previewer {
    state: Arc<Mutex<PreviewState>>,
    to_thread: Sender<(u64, Job, Arc<AtomicBool>)>,
    current: Mutex<Arc<AtomicBool>>,
}

impl Previewer {
    pub fn start() -> Previewer {
        let state = Arc::new(Mutex::new(PreviewState::default()));
        let (to_thread, requests) = unbounded();
        let shown = Arc::clone(&state);
        // The thread ends when the previewer is dropped (its channel closes).
        let _ = std::thread::Builder::new().name("preview".into()).spawn(move || preview_thread(requests, shown));
        Previewer { state, to_thread, current: Mutex::new(Arc::new(AtomicBool::new(false))) }
    }

    /// Starts a preview of `job` (a still), stopping the one before; its id.
    pub fn request(&self, job: Job) -> Result<u64> {
        let stop = Arc::new(AtomicBool::new(false));
        let previous = std::mem::replace(&mut *lock(&self.current), Arc::clone(&stop));
        previous.store(true, Ordering::SeqCst);
        let id = {
            let mut state = lock(&self.state);
            *state = PreviewState { id: state.id + 1, ..PreviewState::default() };
            state.id
        };
        self.to_thread.send((id, job, stop)).map_err(|_| Error::internal("the preview thread has stopped"))?;
        Ok(id)
    }

    pub fn state(&self) -> PreviewState {
        lock(&self.state).clone()
    }

    /// Picture `index` of preview `id`, as PNG.
    pub fn picture(&self, id: u64, index: usize) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        (state.id == id).then(|| state.png.get(index).cloned()).flatten()
    }
}

/// A poisoned lock still holds usable state: a preview that panicked is reported as failed.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn preview_thread(requests: Receiver<(u64, Job, Arc<AtomicBool>)>, state: Arc<Mutex<PreviewState>>) {
    let mut kept: Option<DreamSetup> = None;
    while let Ok((mut id, mut job, mut stop)) = requests.recv() {
        // Only the newest of the requests waiting is worth dreaming.
        while let Ok(newer) = requests.try_recv() {
            (id, job, stop) = newer;
        }
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dream(&job, &mut kept, &stop, &mut |octaves, png, loaded| {
                let mut state = lock(&state);
                if state.id == id {
                    state.octaves = octaves;
                    state.loaded_network |= loaded;
                    state.png.push(png);
                    state.pictures = state.png.len();
                    state.seconds.push(started.elapsed().as_secs_f64());
                }
            })
        }));
        let mut state = lock(&state);
        if state.id != id {
            continue;
        }
        state.done = true;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(Error::Interrupted)) => state.error = Some("stopped by a newer preview".into()),
            Ok(Err(error)) => state.error = Some(error.to_string()),
            Err(_) => {
                kept = None;
                state.error = Some("internal error: the preview panicked (this is a bug in dreamreel)".into());
            }
        }
    }
}

/// Dreams the still `job` with the network kept in `kept` (loaded when its spec changed),
/// handing each octave's picture to `show` (octaves, PNG, whether the network was loaded).
fn dream(
    job: &Job,
    kept: &mut Option<DreamSetup>,
    stop: &AtomicBool,
    show: &mut dyn FnMut(usize, Vec<u8>, bool),
) -> Result<()> {
    let image = match job.source() {
        Source::Image(path) => Some(load_image(path, job.frame_format().width)?),
        _ => None,
    };
    let (width, height) = match (&image, job.source()) {
        (Some(image), _) => (image.width(), image.height()),
        (None, Source::Noise { width, height }) => (*width, *height),
        _ => return Err(Error::setting("input", "a preview starts from a picture or noise")),
    };
    crate::run::frame_memory::check_frame(job, width, height)?;
    let loaded = kept.as_ref().is_none_or(|setup| setup.spec() != job.dream());
    if loaded {
        *kept = None;
        *kept = Some(DreamSetup::load(job.dream())?);
    }
    let Some(setup) = kept.as_ref() else { return Err(Error::internal("no network for the preview")) };
    let params = setup.params(job.per_frame().constants())?;
    let device = setup.network().device();
    let mut dreamer = setup.dreamer(params)?;
    dreamer.start_frame(0);
    let mut first = true;
    let mut on_octave = |_octave: usize, octaves: usize, picture: Option<&tch::Tensor>| -> Result<()> {
        if stop.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        if let Some(picture) = picture {
            show(octaves, png_of(picture)?, loaded && std::mem::take(&mut first));
        }
        Ok(())
    };
    match (&image, job.source()) {
        (Some(image), _) => {
            let x = image_to_tensor(image, device)?;
            let full = OctaveSchedule::full(dreamer.params().iterations, dreamer.params().step);
            let _last = dreamer.dream_watched(&x, &full, &mut on_octave)?;
        }
        (None, _) => {
            let x = noise(height as i64, width as i64, job.dream().seed(), device)?;
            let dreamed = dreamer.dream_from_noise(&x)?;
            on_octave(0, 1, Some(&dreamed))?;
        }
    }
    Ok(())
}

fn png_of(picture: &tch::Tensor) -> Result<Vec<u8>> {
    let (width, height, rgb) = tensor_to_rgb8(picture)?;
    let image = image::RgbImage::from_raw(width, height, rgb).ok_or_else(|| Error::internal("a picture's pixels"))?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Error::internal(format!("a preview as PNG: {e}")))?;
    Ok(png)
}
