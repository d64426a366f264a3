//! Where to dream: `--mask IMAGE`, a grey image whose levels weight the dream's step (white dreams
//! fully, black keeps the input untouched), stretched to each frame's size.
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// A checked mask: its weights in [0, 1] at the size of its file.
#[derive(Debug)]
pub struct Mask {
    pub path: PathBuf,
    /// 1 x 1 x H x W, float, on the CPU; [`Mask::at`] sizes it for a frame.
    weights: Tensor,
}

impl Clone for Mask {
    fn clone(&self) -> Self {
        Mask { path: self.path.clone(), weights: self.weights.shallow_clone() }
    }
}

impl PartialEq for Mask {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.weights.size() == other.weights.size() && self.weights.equal(&other.weights)
    }
}

impl Mask {
    /// Reads `path` as grey levels (colour is turned to luma, alpha is ignored); `invert` swaps
    /// white and black. Errors name the file: missing, unreadable, or not an image.
    pub fn load(path: &Path, invert: bool) -> Result<Mask> {
        if path.is_dir() {
            return Err(Error::setting("mask", format!("{}: is a folder, not an image", path.display())));
        }
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::setting("mask", format!("{}: no such file", path.display())),
            _ => Error::setting("mask", format!("{}: cannot read: {e}", path.display())),
        })?;
        let decoded = image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()
            .map_err(|e| Error::setting("mask", format!("{}: cannot read: {e}", path.display())))?
            .decode()
            .map_err(|e| {
                Error::setting(
                    "mask",
                    format!("{}: not an image dreamreel can read (PNG, JPEG, WebP, TIFF): {e}", path.display()),
                )
            })?;
        let grey = decoded.to_luma32f();
        let (width, height) = (grey.width() as i64, grey.height() as i64);
        let weights = Tensor::f_from_slice(grey.as_raw())?.f_view([1, 1, height, width])?.f_clamp(0.0, 1.0)?;
        let weights = if invert { weights.f_neg()?.f_add_scalar(1.0)? } else { weights };
        Ok(Mask { path: path.to_owned(), weights })
    }

    /// A mask from weights (1 x 1 x H x W in [0, 1]), for tests and callers that draw their own.
    pub fn from_weights(weights: &Tensor) -> Result<Mask> {
        let weights = weights.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?.f_clamp(0.0, 1.0)?;
        Ok(Mask { path: PathBuf::new(), weights })
    }

    /// The weights stretched to a `height` x `width` frame, 1 x 1 x H x W on `device`.
    pub fn at(&self, height: i64, width: i64, device: Device) -> Result<Tensor> {
        let size = self.weights.size();
        let weights = if (size[2], size[3]) == (height, width) {
            self.weights.shallow_clone()
        } else {
            self.weights.f_upsample_bilinear2d([height, width], false, None, None)?.f_clamp(0.0, 1.0)?
        };
        Ok(weights.f_to_device(device)?)
    }
}

/// `input` where the mask is black, `dreamed` where it is white, mixed by its grey in between.
pub(crate) fn apply(mask: &Tensor, input: &Tensor, dreamed: &Tensor) -> Result<Tensor> {
    Ok(input.f_add(&dreamed.f_sub(input)?.f_mul(mask)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_reads_grey_levels_stretches_and_inverts() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("half.png");
        // Left half black, right half white, 4 x 2 pixels.
        let pixels = image::GrayImage::from_fn(4, 2, |x, _| image::Luma([if x < 2 { 0 } else { 255 }]));
        pixels.save(&path).unwrap();
        let mask = Mask::load(&path, false).unwrap();
        let at = mask.at(4, 8, Device::Cpu).unwrap();
        assert_eq!(at.size(), [1, 1, 4, 8]);
        assert_eq!((at.double_value(&[0, 0, 0, 0]), at.double_value(&[0, 0, 3, 7])), (0.0, 1.0));
        let inverted = Mask::load(&path, true).unwrap().at(2, 4, Device::Cpu).unwrap();
        assert_eq!((inverted.double_value(&[0, 0, 0, 0]), inverted.double_value(&[0, 0, 1, 3])), (1.0, 0.0));
    }

    #[test]
    fn bad_masks_name_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("missing.png");
        let err = Mask::load(&missing, false).unwrap_err().to_string();
        assert!(err.starts_with("mask: ") && err.ends_with("missing.png: no such file"), "{err}");
        let text = folder.path().join("notes.png");
        std::fs::write(&text, "not a picture").unwrap();
        let err = Mask::load(&text, false).unwrap_err();
        assert!(err.to_string().contains("notes.png: not an image"), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert!(Mask::load(folder.path(), false).unwrap_err().to_string().contains("is a folder"));
    }

    #[test]
    fn black_keeps_the_input_and_white_takes_the_dream() {
        let input = Tensor::zeros([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let dreamed = Tensor::ones([1, 3, 2, 2], (Kind::Float, Device::Cpu));
        let mask = Tensor::from_slice(&[0.0f32, 1.0, 0.5, 0.25]).view([1, 1, 2, 2]);
        let out = apply(&mask, &input, &dreamed).unwrap();
        let got: Vec<f32> = Vec::try_from(out.get(0).get(1).flatten(0, -1)).unwrap();
        assert_eq!(got, vec![0.0, 1.0, 0.5, 0.25]);
    }
}
