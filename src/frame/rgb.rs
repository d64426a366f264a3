//! The plain picture that travels between stages: packed RGB with its place in the stream.

/// One RGB frame moving between pipeline stages.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// 0-based position in the span that was read (or rendered).
    pub index: u64,
    /// Presentation time in the stream's time base; the first frame of the span is 0.
    pub pts: i64,
    pub width: u32,
    pub height: u32,
    /// Packed RGB24, `width * height * 3` bytes, rows top to bottom.
    pub rgb: Vec<u8>,
}
