//! Every output kind through the one writer the decided output makes: an APNG (lossless, looping)
//! and a camera's file whose sound (MP3) is stream 0, kept in MP4, MOV, MKV, a film joined from
//! parts and a zoom's `--audio`.
#![cfg(feature = "video")]

use crate::common::{dreamreel, ffmpeg};
use std::path::{Path, PathBuf};

/// Fast dream settings.
const FAST: [&str; 9] = ["--octaves", "1", "--iterations", "2", "--device", "cpu", "--threads", "2", "--quiet"];

/// Decoded RGB24 bytes of every frame of `path` (a file or a `%05d.png` pattern).
fn rgb_frames(path: &Path) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", path.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The codec of the first sound stream of `path` ("" when it has none).
fn sound_codec(path: &Path) -> String {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().trim_end_matches(',').to_string()
}

#[test]
fn an_apng_holds_every_dreamed_frame_exactly_and_loops_forever() {
    let dir = tempfile::tempdir().unwrap();
    let apng = dir.path().join("loop.apng");
    let frames = dir.path().join("frames/%05d.png");
    let zoom =
        ["zoom", "samples/chelsea.png", "--frames", "6", "--fps", "12", "--width", "64", "--checkpoint-every", "4"];
    for output in [&apng, &frames] {
        dreamreel().args(zoom).arg("-o").arg(output).args(FAST).assert().success();
    }
    let bytes = std::fs::read(&apng).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // acTL: the frame count, then the plays (0: for ever).
    let at = bytes.windows(4).position(|w| w == b"acTL").expect("an animated PNG");
    let number = |from: usize| u32::from_be_bytes(bytes[from..from + 4].try_into().unwrap());
    assert_eq!((number(at + 4), number(at + 8)), (6, 0));
    // Lossless: the same dream written as PNG frames decodes to the same pixels (two segments joined).
    let (animated, still) = (rgb_frames(&apng), rgb_frames(&frames));
    assert_eq!(animated.len(), 6 * 64 * 43 * 3);
    assert!(animated == still, "the APNG's frames differ from the dreamed ones");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    crate::common::refused(
        &["zoom", "samples/chelsea.png", "-o", "a.apng", "--frames", "2", "--crf", "10"],
        "leave --crf out",
    );
}

/// A camera's file: its sound (MP3) is stream 0, its picture (96x64, 24 fps) stream 1, in MP4.
fn camera_file(dir: &Path) -> PathBuf {
    let path = dir.join("camera.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=96x64:rate=24",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-map",
        "1:a",
        "-map",
        "0:v",
        "-t",
        "0.5",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "libmp3lame",
        path.to_str().unwrap(),
    ]);
    path
}

#[test]
fn a_camera_file_with_mp3_as_stream_0_keeps_its_sound_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let camera = camera_file(dir.path());
    assert_eq!(sound_codec(&camera), "mp3");
    for extension in ["mp4", "mov", "mkv"] {
        let out = dir.path().join(format!("dreamed.{extension}"));
        dreamreel().arg("video").arg(&camera).arg("-o").arg(&out).args(FAST).assert().success();
        assert_eq!(sound_codec(&out), "mp3", ".{extension}");
    }
    // A film in two parts, joined by the second.
    let joined = dir.path().join("joined.mp4");
    for part in [&["--part", "1/2"][..], &["--part", "2/2", "--join"]] {
        dreamreel().arg("video").arg(&camera).arg("-o").arg(&joined).args(FAST).args(part).assert().success();
    }
    assert_eq!(sound_codec(&joined), "mp3", "the joined film");
    // A zoom with the camera's sound.
    let zoom = dir.path().join("zoom.mp4");
    let args = ["zoom", "samples/chelsea.png", "--frames", "4", "--width", "64", "--audio", camera.to_str().unwrap()];
    dreamreel().args(args).arg("-o").arg(&zoom).args(FAST).assert().success();
    assert_eq!(sound_codec(&zoom), "mp3", "zoom --audio");
}
