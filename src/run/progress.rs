//! How the library tells its caller about progress: the binary draws it (indicatif), tests and
//! batches may ignore it.
/// How the library tells the caller about progress; the binary draws it with indicatif.
pub trait Progress {
    /// Units of work in the job (frames, or ascent steps for a still), when known.
    fn start(&mut self, _total: Option<u64>) {}
    fn advance(&mut self, _done: u64) {}
    fn finish(&mut self) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}
