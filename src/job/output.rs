//! What a render writes, decided once: the output's kind (a picture, numbered PNG frames, a GIF
//! or a container with its codec and CRF) from its name and the encode settings, with every check
//! that belongs to it. The rest of the program asks this value, never the path again.
#[cfg(feature = "video")]
use crate::error::Error;
use crate::error::Result;
use crate::job::request::{Mode, Problem};
use crate::video::codec::Codec;
use std::path::{Path, PathBuf};

/// The kind of file a render writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A still's picture (PNG, JPEG, WebP or TIFF).
    Image,
    /// Numbered PNG frames (`frames/%05d.png`), written frame by frame.
    Sequence,
    /// A GIF, made from the finished segments' own colours.
    Gif,
    /// A video container (mp4, mov, mkv, webm) and what its frames are encoded with.
    Container { codec: Codec, crf: Option<u32> },
}

/// The output of a render: its path and its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    path: PathBuf,
    kind: OutputKind,
}

impl Output {
    /// Decides the output of a `mode` render at `path`: the kind from the name, the codec (the
    /// container's default unless given), and the CRF and frame size (each side when known)
    /// against the codec. A codec or CRF given to an output that encodes none is refused.
    pub(crate) fn decide(
        mode: Mode,
        path: PathBuf,
        codec: Option<Codec>,
        crf: Option<u32>,
        size: (Option<u32>, Option<u32>),
    ) -> std::result::Result<Output, Problem> {
        if mode == Mode::Still {
            crate::frame::image_io::output_image_format(&path).map_err(|e| Problem::of_output(&path, &e))?;
            return Ok(Output { path, kind: OutputKind::Image });
        }
        let kind = video_kind(&path, codec, crf)?;
        let output = Output { path, kind };
        output.check_size(size.0, size.1).map_err(|(key, message)| Problem::at(key, message))?;
        Ok(output)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> OutputKind {
        self.kind
    }

    /// Numbered frames: each checkpoint closes its frames, and there is nothing to join.
    pub fn is_sequence(&self) -> bool {
        self.kind == OutputKind::Sequence
    }

    /// The codec the frames are encoded with: a container's, or H.264 for the segments a GIF is made from.
    pub fn codec(&self) -> Codec {
        match self.kind {
            OutputKind::Container { codec, .. } => codec,
            OutputKind::Image | OutputKind::Sequence | OutputKind::Gif => Codec::H264,
        }
    }

    /// The size the output holds of frames made at `width` x `height`: a video codec's 4:2:0
    /// crops an odd last column or row; a picture, PNG frames and a GIF keep every pixel.
    pub fn written_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.kind {
            OutputKind::Container { .. } => (width & !1, height & !1),
            OutputKind::Image | OutputKind::Sequence | OutputKind::Gif => (width, height),
        }
    }

    pub fn crf(&self) -> Option<u32> {
        match self.kind {
            OutputKind::Container { crf, .. } => crf,
            OutputKind::Image | OutputKind::Sequence | OutputKind::Gif => None,
        }
    }

    /// The codec's limits at the frames' real size (footage's height follows its aspect, known
    /// once the input is open). A refusal is the option's name and why.
    pub(crate) fn check_size(
        &self,
        width: Option<u32>,
        height: Option<u32>,
    ) -> std::result::Result<(), (&'static str, String)> {
        match self.kind {
            OutputKind::Container { codec, .. } => codec.check_size(width, height),
            OutputKind::Image | OutputKind::Sequence | OutputKind::Gif => Ok(()),
        }
    }

    /// Refuses an output the render could never write (its folder missing or read-only, a
    /// folder's name, the input itself), before any work is spent; an image sequence's own folder
    /// may be made, as the render does.
    pub fn check_place(&self, inputs: &[&Path]) -> Result<()> {
        match self.kind {
            OutputKind::Sequence => crate::output::check_sequence_output(&self.path),
            _ => crate::output::check_output_path(&self.path, inputs),
        }
    }

    /// Refuses an existing output unless `overwrite` (an image sequence exists when any frame
    /// of its pattern does).
    pub fn check_overwrite(&self, overwrite: bool) -> Result<()> {
        #[cfg(feature = "video")]
        if self.kind == OutputKind::Sequence {
            let first = crate::video::existing_frames(&self.path).into_iter().next().map(|(_, path)| path);
            return crate::output::check_overwrite(first.as_deref().unwrap_or(&self.path), overwrite);
        }
        crate::output::check_overwrite(&self.path, overwrite)
    }
}

#[cfg(feature = "video")]
fn video_kind(path: &Path, codec: Option<Codec>, crf: Option<u32>) -> std::result::Result<OutputKind, Problem> {
    use crate::video::container::Container;
    let unencoded = if crate::video::is_image_sequence(path) {
        Some((OutputKind::Sequence, "an image sequence is written as PNG frames"))
    } else if Container::of(path).is_ok_and(|c| c.is_gif) {
        Some((OutputKind::Gif, "a .gif is made from the frames' own colours"))
    } else {
        None
    };
    if let Some((kind, what)) = unencoded {
        for (key, given) in [("codec", codec.is_some()), ("crf", crf.is_some())] {
            if given {
                let formats = crate::video::container::encoded_extensions();
                return Err(Problem::at(
                    key,
                    format!("{what}, with no video codec: leave --{key} out or write {formats}"),
                ));
            }
        }
        return Ok(kind);
    }
    let container = Container::of(path).map_err(|e| Problem::of_output(path, &Error::from(e)))?;
    let codec = codec.unwrap_or(container.default_codec);
    if let Some(crf) = crf {
        let range = codec.crf_range();
        if !range.contains(&crf) {
            return Err(Problem::at("crf", format!("{crf} must be between 0 and {} for {codec}", range.end())));
        }
    }
    Ok(OutputKind::Container { codec, crf })
}

#[cfg(not(feature = "video"))]
fn video_kind(_: &Path, _: Option<Codec>, _: Option<u32>) -> std::result::Result<OutputKind, Problem> {
    Err(Problem::at("mode", "this dreamreel was built without video"))
}

#[cfg(all(test, feature = "video"))]
mod tests {
    use super::*;

    fn decide(
        path: &str,
        codec: Option<Codec>,
        crf: Option<u32>,
        size: (Option<u32>, Option<u32>),
    ) -> Result<OutputKind, Problem> {
        Output::decide(Mode::Zoom, path.into(), codec, crf, size).map(|o| o.kind())
    }

    #[test]
    fn the_kind_codec_and_limits_are_decided_once() {
        assert_eq!(
            decide("a.webm", None, None, (None, None)).unwrap(),
            OutputKind::Container { codec: Codec::Vp9, crf: None }
        );
        assert_eq!(decide("f/%04d.png", None, None, (None, None)).unwrap(), OutputKind::Sequence);
        assert_eq!(decide("a.GIF", None, None, (None, None)).unwrap(), OutputKind::Gif);
        let p = decide("a.mp4", Some(Codec::H265), Some(60), (None, None)).unwrap_err();
        assert_eq!((p.key, p.message.as_str()), (Some("crf"), "60 must be between 0 and 51 for h265"));
        assert_eq!(decide("a.mp4", None, Some(52), (None, None)).unwrap_err().key, Some("crf"));
        assert!(decide("a.webm", None, Some(63), (None, None)).is_ok());
        let p = decide("a.mkv", Some(Codec::Av1), None, (Some(64), Some(48))).unwrap_err();
        assert_eq!(p.key, Some("height"));
        assert!(p.message.contains("at least 64x64; this one is 64x48"), "{}", p.message);
        assert!(decide("a.mkv", Some(Codec::Av1), None, (Some(65), Some(64))).is_ok());
        assert_eq!(decide("a.gif", Some(Codec::H265), None, (None, None)).unwrap_err().key, Some("codec"));
        let p = decide("f/%04d.png", None, Some(20), (None, None)).unwrap_err();
        assert_eq!(p.key, Some("crf"));
        assert!(p.message.ends_with("leave --crf out or write .mp4, .mov, .mkv or .webm"), "{}", p.message);
    }
}
