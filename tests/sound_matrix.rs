//! Footage with each common sound codec rendered into each container the program writes: the
//! sound is copied where the muxer takes it and transcoded where it does not, and the output's
//! sound lasts as long as its video. Tiny renders through the binary; inputs made with FFmpeg.
use std::path::{Path, PathBuf};
use std::process::Command;

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

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg").args(["-v", "error", "-nostdin", "-y"]).args(args).status().unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

/// 1 s of testsrc at 25 fps with a sine in `encoder`, in Matroska (which holds every codec).
fn footage(dir: &Path, encoder: &str) -> PathBuf {
    let path = dir.join(format!("in-{encoder}.mkv"));
    let path_text = path.to_str().unwrap();
    ffmpeg(&[
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
fn probe(path: &Path, kind: &str, entries: &str) -> Vec<String> {
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
fn span(path: &Path, kind: &str) -> f64 {
    let packets = probe(path, kind, "packet=pts_time,duration_time");
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
    let dir = tempfile_dir();
    let mut failures = Vec::new();
    let mut refused = 0;
    let copied_pairs = [("aac", "mp4"), ("ac3", "mov"), ("flac", "mkv"), ("opus", "webm")];
    for (encoder, codec) in SOUND {
        let input = footage(&dir, encoder);
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
            let sound = probe(&output, "a", "stream=codec_name");
            let expected = match (copies, extension) {
                (true, _) => codec,
                (false, "webm") => "opus",
                (false, _) => "aac",
            };
            let (video, audio) = (span(&output, "v"), span(&output, "a"));
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
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dreamreel-sound-matrix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
