//! Stills in and out, and the conversions between pixels and the network's tensors.
use crate::error::{Error, Result};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, Rgb32FImage, RgbImage};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Reads any PNG/JPEG/WebP/TIFF (grey, RGBA, 16-bit...) as RGB in [0, 1], alpha dropped,
/// resized to `width` keeping the aspect ratio when given.
pub fn load_image(path: &Path, width: Option<u32>) -> Result<Rgb32FImage> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(path, "no such file"),
        _ => Error::input(path, format!("cannot read: {e}")),
    })?;
    if bytes.is_empty() {
        return Err(Error::input(path, "the file is empty"));
    }
    let decoded = decode_upright(&bytes)
        .map_err(|e| Error::input(path, format!("not an image dreamreel can read (PNG, JPEG, WebP, TIFF): {e}")))?;
    let image = decoded.to_rgb32f();
    match width {
        Some(width) => resize_to_width(&image, width).map_err(|m| Error::setting("width", m)),
        None => Ok(image),
    }
}

/// Decodes an image and turns it as its EXIF orientation says, so a portrait phone photo (stored
/// sideways with an orientation tag) is dreamed and written upright.
fn decode_upright(bytes: &[u8]) -> image::ImageResult<DynamicImage> {
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut decoded = DynamicImage::from_decoder(decoder)?;
    decoded.apply_orientation(orientation);
    Ok(decoded)
}

/// Bicubic resize to `width`, height following the aspect ratio (at least 1).
pub(crate) fn resize_to_width(image: &Rgb32FImage, width: u32) -> std::result::Result<Rgb32FImage, String> {
    if width == 0 {
        return Err("must be at least 1".into());
    }
    if width == image.width() {
        return Ok(image.clone());
    }
    let height = ((width as f64 * image.height() as f64 / image.width() as f64).round() as u32).max(1);
    Ok(image::imageops::resize(image, width, height, FilterType::CatmullRom))
}

/// `1 x 3 x H x W` float tensor on `device` from an RGB float image.
pub fn image_to_tensor(image: &Rgb32FImage, device: Device) -> Result<Tensor> {
    let (width, height) = (image.width() as i64, image.height() as i64);
    let pixels = Tensor::f_from_slice(image.as_raw())?.f_view([height, width, 3])?;
    Ok(pixels.f_permute([2, 0, 1])?.f_unsqueeze(0)?.f_contiguous()?.f_to_device(device)?)
}

/// `1 x 3 x H x W` float tensor from packed RGB24 bytes.
pub fn rgb8_to_tensor(rgb: &[u8], width: u32, height: u32, device: Device) -> Result<Tensor> {
    let pixels = Tensor::f_from_slice(rgb)?.f_view([height as i64, width as i64, 3])?.f_to_device(device)?;
    Ok(pixels.f_permute([2, 0, 1])?.f_unsqueeze(0)?.f_to_kind(Kind::Float)?.f_div_scalar(255.0)?.f_contiguous()?)
}

/// Packed RGB24 bytes of the first image of a batch in [0, 1] (rounded as the reference does).
pub fn tensor_to_rgb8(image: &Tensor) -> Result<(u32, u32, Vec<u8>)> {
    let size = image.size();
    let (height, width) = (size[2], size[3]);
    let bytes = image
        .f_get(0)?
        .f_clamp(0.0, 1.0)?
        .f_mul_scalar(255.0)?
        .f_add_scalar(0.5)?
        .f_to_kind(Kind::Uint8)?
        .f_permute([1, 2, 0])?
        .f_contiguous()?
        .f_to_device(Device::Cpu)?;
    let mut rgb = vec![0u8; (height * width * 3) as usize];
    let len = rgb.len();
    bytes.f_copy_data_u8(&mut rgb, len)?;
    Ok((width as u32, height as u32, rgb))
}

/// Writes packed RGB24 pixels to `path` as a picture in `format`, under a temporary name first,
/// so a failure never leaves a broken file under the name asked for.
pub(crate) fn save_rgb8(width: u32, height: u32, rgb: Vec<u8>, path: &Path, format: ImageFormat) -> Result<()> {
    let picture = RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::output(path, "internal error: image buffer of the wrong size"))?;
    crate::output::write_atomically(path, |file| {
        DynamicImage::ImageRgb8(picture).write_to(file, format).map_err(|e| match e {
            // Disk full or another I/O failure midway: exit 1, like any failure while working.
            image::ImageError::IoError(e) => Error::write(path, format!("cannot write: {e}")),
            e => Error::output(path, format!("cannot encode: {e}")),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_survive_the_round_trip_through_a_tensor() {
        let rgb: Vec<u8> = (0..2 * 3 * 3).map(|v| (v * 14) as u8).collect();
        let tensor = rgb8_to_tensor(&rgb, 3, 2, Device::Cpu).unwrap();
        assert_eq!(tensor.size(), vec![1, 3, 2, 3]);
        assert_eq!(tensor_to_rgb8(&tensor).unwrap(), (3, 2, rgb));
    }

    #[test]
    fn a_jpeg_is_turned_as_its_exif_orientation_says() {
        // 40x20, left half red, right half blue, tagged "rotate 90 degrees clockwise" (6).
        let picture =
            RgbImage::from_fn(40, 20, |x, _| if x < 20 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) });
        let mut jpeg = Vec::new();
        picture.write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
        let tiff: &[u8] = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
        let length = (2 + 6 + tiff.len()) as u16;
        let mut app1 = vec![0xff, 0xe1];
        app1.extend(length.to_be_bytes());
        app1.extend(b"Exif\0\0");
        app1.extend(tiff);
        jpeg.splice(2..2, app1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portrait.jpg");
        std::fs::write(&path, &jpeg).unwrap();
        let upright = load_image(&path, None).unwrap();
        assert_eq!((upright.width(), upright.height()), (20, 40));
        let (top, bottom) = (upright.get_pixel(10, 5), upright.get_pixel(10, 35));
        assert!(top[0] > 0.8 && top[2] < 0.2, "the left (red) side is on top: {top:?}");
        assert!(bottom[2] > 0.8 && bottom[0] < 0.2, "{bottom:?}");
    }

    #[test]
    fn width_keeps_the_aspect_ratio() {
        let image = Rgb32FImage::new(40, 30);
        let small = resize_to_width(&image, 20).unwrap();
        assert_eq!((small.width(), small.height()), (20, 15));
        assert!(resize_to_width(&image, 0).is_err());
    }
}
