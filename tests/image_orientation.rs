//! A folder of phone photos stored sideways with an EXIF orientation is rendered upright, as
//! `still` and `zoom` render one such photo. A tiny render through the binary; JPEGs made with
//! FFmpeg, tagged by a few bytes.
use std::path::{Path, PathBuf};
use std::process::Command;

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg").args(["-v", "error", "-nostdin", "-y"]).args(args).status().unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

/// A 40x20 JPEG, left half red and right half blue, tagged with EXIF orientation `orientation`.
fn tagged_jpeg(path: &Path, orientation: u8) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=red:size=20x20,format=rgb24[a];color=blue:size=20x20,format=rgb24[b];[a][b]hstack",
        "-frames:v",
        "1",
        "-q:v",
        "2",
        path.to_str().unwrap(),
    ]);
    let mut jpeg = std::fs::read(path).unwrap();
    // APP1 "Exif" with a big-endian TIFF block of one entry: tag 0x0112 (orientation), SHORT, 1 value.
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".to_vec();
    tiff.extend([orientation, 0, 0, 0, 0, 0, 0]);
    let mut app1 = vec![0xff, 0xe1];
    app1.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(tiff);
    jpeg.splice(2..2, app1);
    std::fs::write(path, jpeg).unwrap();
}

/// Width, height and packed RGB of the first frame of a video.
fn first_frame(path: &Path) -> (u32, u32, Vec<u8>) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let size: Vec<u32> = text.trim().split(',').map(|v| v.parse().unwrap()).collect();
    let rgb = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap()
        .stdout;
    (size[0], size[1], rgb)
}

/// Mean red minus mean blue over rows `rows` of a frame.
fn redness(width: u32, rgb: &[u8], rows: std::ops::Range<u32>) -> f64 {
    let row = width as usize * 3;
    let pixels = &rgb[rows.start as usize * row..rows.end as usize * row];
    let (mut red, mut blue) = (0.0, 0.0);
    for pixel in pixels.chunks_exact(3) {
        red += f64::from(pixel[0]);
        blue += f64::from(pixel[2]);
    }
    (red - blue) / (pixels.len() / 3) as f64
}

#[test]
fn a_folder_of_tagged_jpegs_is_rendered_upright() {
    let dir = std::env::temp_dir().join(format!("dreamreel-orientation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let photos: PathBuf = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for number in 1..=3 {
        // 6: "turn 90 degrees clockwise to show": the left (red) half belongs on top.
        tagged_jpeg(&photos.join(format!("IMG_{number:04}.jpg")), 6);
    }
    let output = dir.join("upright.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_dreamreel"))
        .env("XDG_CONFIG_HOME", "/nonexistent/dreamreel-tests")
        .arg("video")
        .arg(&photos)
        .arg("-o")
        .arg(&output)
        .args(["--width", "64", "--frames", "3", "--octaves", "1", "--iterations", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (width, height, rgb) = first_frame(&output);
    assert_eq!((width, height), (64, 128), "the photos came out sideways");
    let (top, bottom) = (redness(width, &rgb, 8..56), redness(width, &rgb, 72..120));
    assert!(top > 50.0 && bottom < -50.0, "red should be on top, blue below: {top:.0} / {bottom:.0}");
    let _ = std::fs::remove_dir_all(&dir);
}
