//! What joins the stages: the message the dream sends the encoder, the channels' size, and
//! starting and joining a stage's thread.
use crate::error::{Error, Result};
use crate::frame::rgb::Frame;
use std::path::PathBuf;
use std::thread;
use tch::Tensor;

/// Frames in flight between two stages: enough to overlap them, little enough to keep memory flat.
pub(super) const CHANNEL_FRAMES: usize = 2;

/// What the dream stage sends the encoder.
pub(super) enum ToEncoder {
    Frame(Frame),
    /// A frame of a part's cross-fade, kept as a picture in the work folder for the join.
    Aside(Frame),
    /// Close the segment and record that `frames_done` frames are safe, ending on `last`.
    Checkpoint {
        frames_done: u64,
        last: Tensor,
    },
    /// Join the segments into the output. A channel that closes without it means the render
    /// failed: the open segment is thrown away and the output left as it was.
    Finish,
    /// The render was interrupted after its last checkpoint: the output stays as it was; the
    /// frames so far are joined beside it, under a name that says partial (a part of a film
    /// records nothing: it has not finished).
    Stopped,
}

pub(super) fn spawn_stage<'scope, T: Send + 'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    name: &str,
    work: impl FnOnce() -> Result<T> + Send + 'scope,
) -> Result<thread::ScopedJoinHandle<'scope, Result<T>>> {
    thread::Builder::new().name(name.into()).spawn_scoped(scope, work).map_err(|e| Error::io(PathBuf::from(name), e))
}

/// A stage's result; a stage that panicked is a bug, reported as one.
pub(super) fn join<T>(handle: thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    let name = handle.thread().name().unwrap_or("pipeline").to_string();
    handle.join().unwrap_or_else(|_| Err(Error::internal(format!("the {name} thread panicked"))))
}
