//! How the library tells its caller about progress: the binary draws it (indicatif), tests and
//! batches may ignore it.
/// How the library tells the caller about progress; the binary draws it with indicatif.
pub trait Progress {
    /// Units of work in the job (frames, or ascent steps for a still), when known.
    fn start(&mut self, _total: Option<u64>) {}
    fn advance(&mut self, _done: u64) {}
    /// A line the user should read before the first frame (what will be rendered when it is not
    /// what was asked for); the binary prints it unless quiet.
    fn note(&mut self, _message: &str) {}
    fn finish(&mut self) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}
