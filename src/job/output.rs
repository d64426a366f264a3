//! What a render writes, decided once: the output's kind (a picture, numbered PNG frames, a GIF,
//! an APNG or a container with its codec and CRF) from its name and the encode settings, with
//! every check that belongs to it; and the writer that writes it ([`Output::writer`]). The rest
//! of the program asks this value, never the path again.
use crate::error::{Error, Result};
use crate::job::request::{Mode, Problem};
use crate::video::codec::Codec;
use crate::video::container::Container;
use crate::video::writer::{AudioSource, FrameFormat, FrameWriter, Picture};
use image::ImageFormat;
use std::path::{Path, PathBuf};

/// The kind of file a render writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A still's picture (PNG, JPEG, WebP or TIFF).
    Image(ImageFormat),
    /// Numbered PNG frames (`frames/%05d.png`), written frame by frame.
    Sequence,
    /// A GIF, made from the finished segments' own colours.
    Gif,
    /// An animated PNG: lossless, looping forever.
    Apng,
    /// A video container (mp4, mov, mkv, webm) and what its frames are encoded with.
    Container { container: &'static Container, codec: Codec, crf: Option<u32> },
}

/// What an output's name may end in, as a message says it.
const OUTPUT_NAMES: &str = "end it in .mp4, .mov, .mkv, .webm, .gif or .apng, or write a %05d.png sequence";

/// The kind of output `path` names for a `mode` render, before its codec: the one place an
/// output's name is looked at.
fn kind_of_name(mode: Mode, path: &Path) -> Result<OutputKind> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if mode == Mode::Still {
        return match ImageFormat::from_extension(&extension) {
            Some(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Tiff)) => {
                Ok(OutputKind::Image(f))
            }
            _ => Err(Error::output(path, "the extension names no image format: use .png, .jpg, .webp or .tiff")),
        };
    }
    #[cfg(feature = "video")]
    if crate::video::is_image_sequence(path) {
        return match extension.as_str() {
            "png" => Ok(OutputKind::Sequence),
            _ => Err(Error::output(
                path,
                format!("no output format for extension .{extension} (image sequences are written as .png)"),
            )),
        };
    }
    let default =
        |container: &'static Container| OutputKind::Container { container, codec: container.default_codec, crf: None };
    match extension.as_str() {
        "gif" => Ok(OutputKind::Gif),
        "apng" => Ok(OutputKind::Apng),
        "" => Err(Error::output(path, format!("has no extension: {OUTPUT_NAMES}"))),
        other => Container::named(other)
            .map(default)
            .ok_or_else(|| Error::output(path, format!("no output format for extension .{other}: {OUTPUT_NAMES}"))),
    }
}

/// `keep.mp4`'s partial file: `keep.partial.mp4`, in the same folder.
fn partial_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}.partial.{}", extension.to_string_lossy()),
        None => format!("{stem}.partial"),
    };
    path.with_file_name(name)
}

/// Whether `path` is written with a video codec (not a picture, PNG frames, a GIF or an APNG).
pub fn encodes_video(mode: Mode, path: &Path) -> bool {
    cfg!(feature = "video") && matches!(kind_of_name(mode, path), Ok(OutputKind::Container { .. }))
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
        if mode != Mode::Still && cfg!(not(feature = "video")) {
            return Err(Problem::at("mode", "this dreamreel was built without video"));
        }
        let named = kind_of_name(mode, &path).map_err(|e| Problem::of_output(&path, &e))?;
        let kind = match named {
            OutputKind::Container { container, codec: default, .. } => {
                let codec = codec.unwrap_or(default);
                if let Some(crf) = crf {
                    codec.check_crf(crf).map_err(|message| Problem::at("crf", message))?;
                }
                OutputKind::Container { container, codec, crf }
            }
            OutputKind::Image(_) => named,
            unencoded => {
                for (key, given) in [("codec", codec.is_some()), ("crf", crf.is_some())] {
                    if given {
                        let formats = crate::video::container::encoded_extensions();
                        let what = match unencoded {
                            OutputKind::Sequence => "an image sequence is written as PNG frames",
                            OutputKind::Apng => "an .apng keeps every pixel as dreamed",
                            _ => "a .gif is made from the frames' own colours",
                        };
                        return Err(Problem::at(
                            key,
                            format!("{what}, with no video codec: leave --{key} out or write {formats}"),
                        ));
                    }
                }
                unencoded
            }
        };
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

    /// Where an interrupted render leaves its frames so far, beside the output, under a name that
    /// says partial: `keep.partial.mp4` for `keep.mp4`. A picture has none (one frame) and PNG
    /// frames none (they are in place already, and an earlier render's after them stay).
    pub fn partial(&self) -> Option<Output> {
        match self.kind {
            OutputKind::Image(_) | OutputKind::Sequence => None,
            _ => Some(Output { path: partial_path(&self.path), kind: self.kind }),
        }
    }

    /// Whether the frames are encoded with a video codec (a preset's codec settings act on it).
    pub fn encodes_video(&self) -> bool {
        matches!(self.kind, OutputKind::Container { .. })
    }

    /// Whether the output is there, written whole: a file is renamed into place only when
    /// finished; numbered frames never say so (a batch renders them again).
    pub fn is_written(&self) -> bool {
        self.kind != OutputKind::Sequence && self.path.is_file()
    }

    /// The size the output holds of frames made at `width` x `height`: a video codec's 4:2:0
    /// crops an odd last column or row; a picture, PNG frames, a GIF and an APNG keep every pixel.
    pub fn written_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.kind {
            OutputKind::Container { .. } => (width & !1, height & !1),
            _ => (width, height),
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
            _ => Ok(()),
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

    /// As [`Output::check_place`], for an output whose folder [`Output::make_folders`] will make
    /// when it does not exist yet (a batch's job): then the folder must be one that can be made.
    pub fn check_place_or_folder(&self, inputs: &[&Path]) -> Result<()> {
        let folder = crate::output::parent_folder(&self.path);
        let base = if self.kind == OutputKind::Sequence { crate::output::parent_folder(&folder) } else { folder };
        if base.is_dir() { self.check_place(inputs) } else { crate::output::check_folder_can_be_made(&self.path) }
    }

    /// Makes the output's folder and those above it that are missing (a batch does, before each job).
    pub fn make_folders(&self) -> Result<()> {
        let folder = crate::output::parent_folder(&self.path);
        std::fs::create_dir_all(&folder).map_err(|e| Error::output(&self.path, format!("cannot make its folder: {e}")))
    }

    /// Makes the folder of an image sequence's frames (the render locks the output there).
    pub fn make_folder(&self) -> Result<()> {
        if self.kind != OutputKind::Sequence {
            return Ok(());
        }
        let folder = crate::output::parent_folder(&self.path);
        std::fs::create_dir_all(&folder).map_err(|e| Error::output(&self.path, format!("cannot make its folder: {e}")))
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

    /// Refuses an existing output before the parts of a film are joined into it, unless
    /// `overwrite`: numbered frames are the parts' own, written already.
    pub fn check_join_overwrite(&self, overwrite: bool) -> Result<()> {
        match self.kind {
            OutputKind::Sequence => Ok(()),
            _ => self.check_overwrite(overwrite),
        }
    }

    /// The writer of this output, for `frames`, its segments (when it is made of segments) in
    /// `work`, with `sound` (planned now, for a container; other kinds hold none). A container
    /// that could not be written is refused here, before any frame.
    pub fn writer(
        &self,
        frames: FrameFormat,
        work: &Path,
        sound: Option<&AudioSource>,
    ) -> Result<Box<dyn FrameWriter>> {
        let path = self.path.as_path();
        #[cfg(feature = "video")]
        {
            use crate::video::{apng, concat, gif, segments};
            match self.kind {
                OutputKind::Image(format) => Ok(Box::new(Picture::new(path, format))),
                OutputKind::Sequence => Ok(segments::sequence(path, frames)),
                OutputKind::Gif => Ok(gif::writer(path, frames, work)),
                OutputKind::Apng => Ok(apng::writer(path, frames, work)),
                OutputKind::Container { container, codec, crf } => {
                    Ok(concat::writer(path, (container, codec, crf), frames, work, sound)?)
                }
            }
        }
        #[cfg(not(feature = "video"))]
        {
            let _ = (frames, work, sound);
            match self.kind {
                OutputKind::Image(format) => Ok(Box::new(Picture::new(path, format))),
                _ => Err(Error::setting("mode", "this dreamreel was built without video")),
            }
        }
    }
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
            OutputKind::Container { container: Container::named("webm").unwrap(), codec: Codec::Vp9, crf: None }
        );
        assert_eq!(decide("a.APNG", None, None, (None, None)).unwrap(), OutputKind::Apng);
        assert_eq!(decide("a.apng", None, Some(3), (None, None)).unwrap_err().key, Some("crf"));
        let p = decide("x.avi", None, None, (None, None)).unwrap_err();
        assert_eq!(p.message, format!("no output format for extension .avi: {OUTPUT_NAMES}"));
        assert_eq!(decide("f/%04d.jpg", None, None, (None, None)).unwrap_err().key, Some("output"));
        let still = Output::decide(Mode::Still, "a.JPG".into(), None, None, (None, None)).unwrap();
        assert_eq!(still.kind(), OutputKind::Image(ImageFormat::Jpeg));
        let p = Output::decide(Mode::Still, "o.mp4".into(), None, None, (None, None)).unwrap_err();
        assert!(p.message.starts_with("the extension names no image format"), "{}", p.message);
        assert!(encodes_video(Mode::Zoom, Path::new("a.mkv")) && !encodes_video(Mode::Zoom, Path::new("a.gif")));
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
