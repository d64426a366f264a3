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
    /// Frame `index` as dreamed (`rgb`: `width` x `height`, 3 bytes a pixel), before it is
    /// written: a studio shows the latest one.
    fn dreamed(&mut self, _index: u64, _width: u32, _height: u32, _rgb: &[u8]) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}
