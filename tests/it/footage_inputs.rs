//! Footage as a new user brings it, through the binary in tiny renders (inputs made with FFmpeg
//! at test time): every common sound codec into every container the program writes (the sound
//! copied where the muxer takes it, transcoded where it does not, as long as the video; sound the
//! muxer takes but players refuse, Vorbis and Opus in MP4, is `new_user_round3`'s), and a
//! folder of phone photos stored sideways with an EXIF orientation, rendered upright.
//!
//! Standard library only: linking the test helpers (and libtorch) would cost minutes per build.
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs FFmpeg quietly, overwriting, and asserts that it succeeded.
fn run_ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg").args(["-v", "error", "-nostdin", "-y"]).args(args).status().unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

/// (encoder, codec as FFmpeg names it) of each sound codec a user's footage may hold.
const SOUND: [(&str, &str); 7] = [
    ("aac", "aac"),
    ("libmp3lame", "mp3"),
    ("ac3", "ac3"),
    ("libopus", "opus"),
    ("libvorbis", "vorbis"),
    ("flac", "flac"),
    ("pcm_s16le", "pcm_s16le"),
];
const CONTAINERS: [&str; 4] = ["mp4", "mov", "mkv", "webm"];
/// Frames each render dreams (at 25 fps: 0.12 s).
const FRAMES: &str = "3";

/// 1 s of testsrc at 25 fps with a sine in `encoder`, in Matroska (which holds every codec).
fn sound_footage(dir: &Path, encoder: &str) -> PathBuf {
    let path = dir.join(format!("in-{encoder}.mkv"));
    let path_text = path.to_str().unwrap();
    run_ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=96x64:rate=25:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        encoder,
        path_text,
    ]);
    path
}

/// ffprobe's `entries` of the first stream of `kind` ("a", "v"), one line per packet or stream.
fn ffprobe_entries(path: &Path, kind: &str, entries: &str) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", &format!("{kind}:0"), "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    // A stream with side data (AC-3) gets an empty field, and a line, after its name.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().map(|l| l.trim().trim_end_matches(',').to_string()).filter(|l| !l.is_empty()).collect()
}

/// Seconds from the first packet of a stream to the end of its last (negative starts count from 0).
fn packet_span(path: &Path, kind: &str) -> f64 {
    let packets = ffprobe_entries(path, kind, "packet=pts_time,duration_time");
    let (mut first, mut end) = (f64::MAX, f64::MIN);
    for line in &packets {
        let mut fields = line.split(',').map(|f| f.parse::<f64>().unwrap_or(0.0));
        let (pts, duration) = (fields.next().unwrap_or(0.0), fields.next().unwrap_or(0.0));
        first = first.min(pts);
        end = end.max(pts + duration);
    }
    assert!(!packets.is_empty(), "{}: no {kind} packets", path.display());
    end - first.max(0.0)
}

/// Whether the FFmpeg command line copies the sound of `input` into a `.extension` file: the
/// muxer's own answer, against which the program's choice is checked.
fn cli_copies(input: &Path, extension: &str) -> bool {
    let probe = input.with_extension(format!("copy.{extension}"));
    let status = Command::new("ffmpeg")
        .args(["-v", "quiet", "-nostdin", "-y", "-i"])
        .arg(input)
        .args(["-vn", "-c:a", "copy"])
        .arg(&probe)
        .status()
        .unwrap();
    let _ = std::fs::remove_file(probe);
    status.success()
}

/// Every sound codec meets every container; renders are run for the pairs the muxer refuses
/// (the sound must be transcoded) and for one pair it takes per container (the sound is copied).
/// The library's own test covers all 28 pairs of the matrix without dreaming.
#[test]
fn every_sound_codec_renders_into_every_container() {
    let dir = scratch_dir("sound-matrix");
    let mut failures = Vec::new();
    let mut refused = 0;
    let copied_pairs = [("aac", "mp4"), ("ac3", "mov"), ("flac", "mkv"), ("opus", "webm")];
    for (encoder, codec) in SOUND {
        let input = sound_footage(&dir, encoder);
        for extension in CONTAINERS {
            let copies = cli_copies(&input, extension);
            refused += usize::from(!copies);
            if copies && !copied_pairs.contains(&(codec, extension)) {
                continue;
            }
            let output = dir.join(format!("{codec}.{extension}"));
            let out = Command::new(env!("CARGO_BIN_EXE_dreamreel"))
                .env("XDG_CONFIG_HOME", "/nonexistent/dreamreel-tests")
                .args(["video"])
                .arg(&input)
                .arg("-o")
                .arg(&output)
                .args(["--width", "64", "--frames", FRAMES, "--octaves", "1", "--iterations", "1"])
                .output()
                .unwrap();
            let pair = format!("{codec} into .{extension}");
            if !out.status.success() {
                failures.push(format!(
                    "{pair}: exit {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let sound = ffprobe_entries(&output, "a", "stream=codec_name");
            let expected = match (copies, extension) {
                (true, _) => codec,
                (false, "webm") => "opus",
                (false, _) => "aac",
            };
            let (video, audio) = (packet_span(&output, "v"), packet_span(&output, "a"));
            // One FLAC or Vorbis packet may reach past the cut (a copy cuts between packets).
            if sound != [expected] || (audio - video).abs() > 0.11 {
                failures.push(format!("{pair}: sound {sound:?} lasts {audio:.3}s, video {video:.3}s"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // FLAC in MP4, FLAC and Opus in MOV, PCM in MP4, all but Opus and Vorbis in WebM.
    assert!(refused >= 5, "the muxer refused only {refused} pairs: the test no longer tests transcoding");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh folder under the system's temporary folder (std only: no test helpers).
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dreamreel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 40x20 JPEG, left half red and right half blue, tagged with EXIF orientation `orientation`.
fn tagged_jpeg(path: &Path, orientation: u8) {
    run_ffmpeg(&[
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
    let dir = scratch_dir("orientation");
    let photos = dir.join("photos");
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
