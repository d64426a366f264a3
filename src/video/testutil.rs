//! Helpers shared by the decode/encode tests: generate tiny clips with the CLI.
#![cfg(all(test, feature = "video"))]
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run the ffmpeg CLI quietly; panics (test only) if it fails.
pub fn ffmpeg(args: &[&str]) {
    let status =
        Command::new("ffmpeg").args(["-v", "error", "-nostdin", "-y"]).args(args).status().expect("ffmpeg CLI runs");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// Names of the temporary (`.dreamreel-partial`) files left in `dir`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(crate::output::PARTIAL))
        .collect()
}

/// 64x48, 25 fps testsrc + 440 Hz sine, `seconds` long, H.264 + AAC in mp4.
pub fn make_clip(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let path = dir.join(name);
    let src = format!("testsrc=size=64x48:rate=25:duration={seconds}");
    let sine = format!("sine=frequency=440:duration={seconds}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-f",
        "lavfi",
        "-i",
        &sine,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        path.to_str().expect("utf-8 temp path"),
    ]);
    path
}

/// (first pts, end) in seconds of the packets of the first stream of `kind`.
pub(crate) fn stream_span(path: &Path, kind: ffmpeg_next::media::Type) -> Option<(f64, f64)> {
    let mut ictx = ffmpeg_next::format::input(&path).ok()?;
    let index = ictx.streams().find(|s| s.parameters().medium() == kind)?.index();
    let tb = f64::from(ictx.stream(index)?.time_base());
    let mut first = f64::MAX;
    let mut end = f64::MIN;
    for (stream, packet) in ictx.packets() {
        if stream.index() != index {
            continue;
        }
        if let Some(pts) = packet.pts() {
            first = first.min(pts as f64 * tb);
            end = end.max((pts + packet.duration()) as f64 * tb);
        }
    }
    (first <= end).then_some((first, end))
}

/// The container a test's output name ends in (in a render, the job decides it once).
pub fn container_of(path: &Path) -> &'static crate::video::container::Container {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    crate::video::container::Container::named(&extension).expect("a container's extension")
}

/// How a test writes `path`: `codec` (else the container's default) in the container its name
/// ends in, with `sound` planned for it.
pub fn write_options(
    path: &Path,
    frames: crate::video::FrameFormat,
    codec: Option<crate::video::Codec>,
    sound: Option<&crate::video::AudioSource>,
) -> crate::video::WriteOptions {
    let container = container_of(path);
    let codec = codec.unwrap_or(container.default_codec);
    crate::video::WriteOptions {
        frames,
        stream: crate::video::StreamSpec::video(container, codec, None, false),
        sound: sound.map(|source| crate::video::plan_sound(source, container).unwrap()),
    }
}
