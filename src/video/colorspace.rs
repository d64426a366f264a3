//! The YUV matrix and range of swscale's conversions, from the stream's own tags.
#![cfg(feature = "video")]
use ffmpeg_next as ffmpeg;

/// Point a swscale context's YUV side at the given matrix/range (RGB side is full range).
///
/// swscale ignores frame colour tags, so without this every YUV<->RGB conversion
/// would use BT.601 limited range regardless of what the stream says.
pub(crate) fn set_sws_colorspace(
    sws: &mut ffmpeg::software::scaling::Context,
    yuv_space: ffmpeg::color::Space,
    yuv_full_range: bool,
    yuv_is_source: bool,
) {
    use ffmpeg::ffi;
    let cs = match yuv_space {
        ffmpeg::color::Space::BT709 => ffi::SWS_CS_ITU709,
        ffmpeg::color::Space::FCC => ffi::SWS_CS_FCC,
        ffmpeg::color::Space::SMPTE240M => ffi::SWS_CS_SMPTE240M,
        ffmpeg::color::Space::BT2020NCL | ffmpeg::color::Space::BT2020CL => ffi::SWS_CS_BT2020,
        _ => ffi::SWS_CS_ITU601,
    };
    let yuv_range = i32::from(yuv_full_range);
    // SAFETY: the context pointer is valid for the lifetime of `sws`; the
    // coefficient tables returned by sws_getCoefficients are static.
    unsafe {
        let yuv_table = ffi::sws_getCoefficients(cs);
        let rgb_table = ffi::sws_getCoefficients(ffi::SWS_CS_DEFAULT);
        let (src_table, src_range, dst_table, dst_range) =
            if yuv_is_source { (yuv_table, yuv_range, rgb_table, 1) } else { (rgb_table, 1, yuv_table, yuv_range) };
        ffi::sws_setColorspaceDetails(
            sws.as_mut_ptr(),
            src_table,
            src_range,
            dst_table,
            dst_range,
            0,
            1 << 16,
            1 << 16,
        );
    }
}
