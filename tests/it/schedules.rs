//! Schedules, audio-reactive dreams and loops, through the binary: the motion measured in the
//! frames themselves, the soundtrack in the output, a seamless loop, resumes, presets and plans.
#![cfg(feature = "video")]

use crate::common::{dreamreel_process, ffmpeg, kill_after_checkpoint, sorted_pngs, work_folder};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Small and quick: one or two octaves of a few steps on 64-96 pixel frames.
const FAST: [&str; 8] = ["--octaves", "2", "--iterations", "2", "--device", "cpu", "--threads", "1"];

fn succeeds(mut cmd: Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A click track: a 10 ms 1 kHz beep every 0.5 s from 0, `seconds` long, as a WAV.
fn click_track(dir: &Path, seconds: f64) -> PathBuf {
    let path = dir.join("click.wav");
    let source = format!("aevalsrc=0.8*sin(2*PI*1000*t)*lt(mod(t\\,0.5)\\,0.01):s=44100:d={seconds}");
    ffmpeg(&["-f", "lavfi", "-i", &source, path.to_str().unwrap()]);
    path
}

/// Every frame of a video or image folder as grey levels (0-255), with its size.
fn grey_frames(path: &Path) -> (Vec<Vec<f64>>, u32, u32) {
    let folder = tempfile::tempdir().unwrap();
    let pattern = folder.path().join("%05d.png");
    let files: Vec<PathBuf> = if path.is_dir() {
        sorted_pngs(path)
    } else {
        ffmpeg(&["-i", path.to_str().unwrap(), pattern.to_str().unwrap()]);
        sorted_pngs(folder.path())
    };
    let mut size = (0, 0);
    let frames = files
        .iter()
        .map(|file| {
            let image = image::open(file).unwrap().to_luma8();
            size = image.dimensions();
            image.pixels().map(|p| f64::from(p.0[0])).collect()
        })
        .collect();
    (frames, size.0, size.1)
}

fn mean_abs_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

/// (duration of the video stream, of the audio stream) in seconds.
fn stream_seconds(path: &Path) -> (f64, Option<f64>) {
    let out = Command::new("ffprobe").args(["-v", "error", "-show_streams", "-of", "json"]).arg(path).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let seconds = |kind: &str| {
        streams
            .iter()
            .find(|s| s["codec_type"] == kind)
            .and_then(|s| s["duration"].as_str().and_then(|d| d.parse::<f64>().ok()))
    };
    (seconds("video").unwrap_or(0.0), seconds("audio"))
}

#[test]
fn a_click_track_pulses_the_zoom_on_every_click_and_is_the_soundtrack() {
    let dir = tempfile::tempdir().unwrap();
    let (seconds, fps) = (4.0, 24.0);
    let clicks = click_track(dir.path(), seconds);
    let output = dir.path().join("pulse.mp4");
    let mut cmd = dreamreel_process();
    cmd.args(["zoom", "noise", "-o"]).arg(&output).args(["--width", "64", "--height", "48", "--duration", "4"]);
    cmd.args(["--audio"]).arg(&clicks).args(["--zoom", "1 + 0.1*beat", "--quiet"]).args(FAST);
    succeeds(cmd);
    let (frames, _, _) = grey_frames(&output);
    assert_eq!(frames.len(), 96);
    // change[k]: how much frame k differs from frame k-1.
    let change: Vec<f64> =
        (0..frames.len()).map(|k| if k == 0 { 0.0 } else { mean_abs_difference(&frames[k - 1], &frames[k]) }).collect();
    let mut on_time = 0;
    let click_frames: Vec<usize> = (1..8).map(|i| (i as f64 * 0.5 * fps).round() as usize).collect();
    for &click in &click_frames {
        // The largest change between this click and the next (half a beat either side).
        let window = click - 6..(click + 6).min(frames.len());
        let peak = window.clone().max_by(|&a, &b| change[a].total_cmp(&change[b])).unwrap();
        if peak.abs_diff(click) <= 1 {
            on_time += 1;
        }
    }
    assert!(on_time * 10 >= click_frames.len() * 9, "{on_time} of {} clicks: {change:?}", click_frames.len());
    let (video, audio) = stream_seconds(&output);
    let audio = audio.expect("the output has the click track");
    assert!(
        (video - seconds).abs() <= 1.0 / fps && (audio - video).abs() <= 1.0 / fps,
        "video {video} s, audio {audio} s"
    );
}

/// The zoom between two frames: the factor whose centre crop of `before`, scaled back up, is
/// nearest to `after` (searched in steps of 0.002).
fn measured_zoom(before: &[f64], after: &[f64], width: u32, height: u32) -> f64 {
    let (w, h) = (width as f64, height as f64);
    let sample = |x: f64, y: f64| {
        let (x, y) = (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0));
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(width as usize - 1), (y0 + 1).min(height as usize - 1));
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let at = |x: usize, y: usize| before[y * width as usize + x];
        (at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx) * (1.0 - fy) + (at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx) * fy
    };
    let error = |zoom: f64| {
        let mut total = 0.0;
        // The middle of the frame only: the edges are where bilinear and the crop's rounding differ.
        for y in (height / 6)..(height * 5 / 6) {
            for x in (width / 6)..(width * 5 / 6) {
                let (sx, sy) = (
                    (x as f64 + 0.5 - w / 2.0) / zoom + w / 2.0 - 0.5,
                    (y as f64 + 0.5 - h / 2.0) / zoom + h / 2.0 - 0.5,
                );
                total += (sample(sx, sy) - after[(y * width + x) as usize]).abs();
            }
        }
        total
    };
    (0..=100).map(|i| 1.0 + 0.002 * i as f64).min_by(|a, b| error(*a).total_cmp(&error(*b))).unwrap()
}

#[test]
fn a_keyframed_zoom_moves_each_frame_by_its_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("frames");
    let mut cmd = dreamreel_process();
    cmd.args(["zoom", "samples/chelsea.png", "-o"]).arg(folder.join("%03d.png"));
    // No ascent steps and colours left alone: each frame is exactly the last one moved.
    cmd.args(["--width", "160", "--frames", "12", "--iterations", "0", "--octaves", "1", "--colors", "free"]);
    cmd.args(["--zoom", "0:(1.0), 10:(1.1)", "--device", "cpu", "--quiet"]);
    succeeds(cmd);
    let (frames, width, height) = grey_frames(&folder);
    assert_eq!(frames.len(), 12);
    for k in [2usize, 5, 9, 11] {
        let scheduled = 1.0 + 0.01 * k.min(10) as f64;
        // The zoom crops whole pixels, as the reference does: its factor is the crop's, per axis.
        let cropped = |side: u32| f64::from(side) / (f64::from(side) / scheduled).round_ties_even();
        let expected = (cropped(width) + cropped(height)) / 2.0;
        let measured = measured_zoom(&frames[k - 1], &frames[k], width, height);
        assert!((measured - expected).abs() <= 0.008, "frame {k}: zoom {measured}, schedule {scheduled} ({expected})");
    }
}

/// A separable Gaussian blur of sigma `sigma` pixels.
fn blurred(frame: &[f64], width: usize, height: usize, sigma: f64) -> Vec<f64> {
    let radius = (3.0 * sigma).ceil() as i64;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let pass = |source: &[f64], horizontal: bool| -> Vec<f64> {
        let mut out = vec![0.0; source.len()];
        for y in 0..height as i64 {
            for x in 0..width as i64 {
                let mut sum = 0.0;
                for (k, weight) in kernel.iter().enumerate() {
                    let d = k as i64 - radius;
                    let (sx, sy) = if horizontal {
                        ((x + d).clamp(0, width as i64 - 1), y)
                    } else {
                        (x, (y + d).clamp(0, height as i64 - 1))
                    };
                    sum += weight * source[(sy * width as i64 + sx) as usize];
                }
                out[(y * width as i64 + x) as usize] = sum / total;
            }
        }
        out
    };
    pass(&pass(frame, true), false)
}

/// Last-to-first difference over the median consecutive difference, on blurred frames.
fn seam_ratio(output: &Path) -> f64 {
    let (frames, width, height) = grey_frames(output);
    let sigma = width as f64 / 64.0;
    let soft: Vec<Vec<f64>> = frames.iter().map(|f| blurred(f, width as usize, height as usize, sigma)).collect();
    let mut steps: Vec<f64> = soft.windows(2).map(|w| mean_abs_difference(&w[0], &w[1])).collect();
    steps.sort_by(f64::total_cmp);
    let median = steps[steps.len() / 2];
    mean_abs_difference(&soft[soft.len() - 1], &soft[0]) / median
}

#[test]
fn a_looping_zoom_has_no_seam() {
    let dir = tempfile::tempdir().unwrap();
    let render = |name: &str, extra: &[&str]| {
        let output = dir.path().join(name);
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "noise", "-o"]).arg(output.join("%03d.png"));
        cmd.args(["--width", "128", "--height", "96", "--frames", "32", "--zoom", "1.04", "--quiet"])
            .args(FAST)
            .args(extra);
        succeeds(cmd);
        output
    };
    let looped = seam_ratio(&render("loop", &["--loop"]));
    let plain = seam_ratio(&render("plain", &[]));
    assert_eq!(sorted_pngs(&dir.path().join("loop")).len(), 32, "a loop keeps its frame count");
    assert!(looped <= 1.5, "the loop's seam is {looped} times a step");
    assert!(plain > 2.0 * looped, "without --loop the seam ({plain}) should stand out");
}

#[test]
fn a_resumed_scheduled_loop_has_the_frames_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let zoom = |output: &Path, extra: &[&str]| {
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "samples/chelsea.png", "-o"]).arg(output);
        cmd.args(["--width", "64", "--frames", "12", "--checkpoint-every", "2", "--quiet", "--seed", "3", "--loop"]);
        cmd.args([
            "--zoom",
            "0:(1.0), 11:(1.08)",
            "--step",
            "0.02 + 0.01*sin(t)",
            "--layers",
            "0:(blocks.8), 6:(blocks.10)",
        ]);
        cmd.args(FAST).args(extra);
        cmd
    };
    let whole = dir.path().join("whole/%03d.png");
    succeeds(zoom(&whole, &[]));
    let parts = dir.path().join("parts/%03d.png");
    // Killed after 4 of its 15 dreams: inside the held start of the loop.
    kill_after_checkpoint(zoom(&parts, &[]), &parts, 4);
    let changed = zoom(&parts, &["--resume", "--rotate", "0:(0), 11:(1)"]).output().unwrap();
    let message = String::from_utf8_lossy(&changed.stderr);
    assert!(!changed.status.success() && message.contains("rotate"), "{message}");
    succeeds(zoom(&parts, &["--resume"]));
    let (a, b) = (sorted_pngs(whole.parent().unwrap()), sorted_pngs(parts.parent().unwrap()));
    assert_eq!(a.len(), 12);
    assert_eq!(b.len(), 12);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{} differs after the resume", y.display());
    }
}

#[test]
fn plans_print_every_frame_as_a_table_json_and_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let clicks = click_track(dir.path(), 3.0);
    let plan = |extra: &[&str]| {
        let mut cmd = dreamreel_process();
        cmd.args(["plan", "zoom", "noise", "-o", "never.mp4", "--duration", "3", "--fps", "12", "--audio"])
            .arg(&clicks);
        cmd.args(["--zoom", "1.01 + 0.06*beat", "--rotate", "0:(0), 1s:(2)", "--interpolation", "cubic"]).args(extra);
        succeeds(cmd)
    };
    let table = String::from_utf8(plan(&[]).stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("zoom") && lines[0].contains("rotate") && lines[0].contains("beat"), "{table}");
    assert_eq!(lines.len(), 1 + 36 + 1, "{table}");
    let json: serde_json::Value = serde_json::from_slice(&plan(&["--json"]).stdout).unwrap();
    let frames = json["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 36);
    // The beat on every click (each 0.5 s: frames 0, 6, 12, 18) makes the zoom jump there.
    for click in [6, 12, 18, 24, 30] {
        assert!(frames[click]["zoom"].as_f64().unwrap() > 1.06, "{}", frames[click]);
        assert!(frames[click - 2]["zoom"].as_f64().unwrap() < 1.02, "{}", frames[click - 2]);
    }
    assert!((json["bpm"].as_f64().unwrap() - 120.0).abs() < 3.0, "{}", json["bpm"]);
    assert_eq!(frames[12]["rotate"].as_f64(), Some(2.0));
    let picture = dir.path().join("plan.png");
    plan(&["--plot", picture.to_str().unwrap()]);
    let image = image::open(&picture).unwrap();
    assert!(image.width() >= 900 && image.height() >= 300, "{}x{}", image.width(), image.height());
    assert!(!dir.path().join("never.mp4").exists(), "a plan renders nothing");
}

#[test]
fn schedule_mistakes_name_the_option_and_the_character() {
    let cases: [(&[&str], &str); 4] = [
        (&["--zoom", "1 + 0.1*bet"], "dreamreel: --zoom: at character 9 of '1 + 0.1*bet': unknown name 'bet'"),
        (
            &["--step", "0:(0.02), 10:(0.03"],
            "dreamreel: --step: at character 14 of '0:(0.02), 10:(0.03': this '(' is never closed",
        ),
        (
            &["--zoom", "1 + 0.1*beat"],
            "dreamreel: --zoom: '1 + 0.1*beat': 'beat' is an audio signal: give --audio FILE",
        ),
        (&["--zoom", "1 + t/2"], "dreamreel: --zoom: at frame 3: 2.5 must be between 0.5 and 2"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (options, expected) in cases {
        let output = dir.path().join("out.mp4");
        let mut cmd = dreamreel_process();
        cmd.args(["zoom", "noise", "-o"]).arg(&output).args(["--width", "64", "--height", "48", "--frames", "6"]);
        let out = cmd.args(options).args(FAST).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr} vs {expected}");
        assert!(!output.exists() && !work_folder(&output).exists(), "nothing is left behind");
    }
    let still = dreamreel_process()
        .args(["still", "noise", "-o", "x.png", "--width", "64", "--step", "0:(0.01), 4:(0.02)"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&still.stderr).contains("--step: a still has one frame"),
        "{}",
        String::from_utf8_lossy(&still.stderr)
    );
}

#[test]
fn presets_and_manifests_take_schedules_under_the_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("pulse.toml");
    std::fs::write(
        &preset,
        "description = \"test\"\nzoom = \"0:(1.0), 1s:(1.05)\"\nstep = \"0.02 + 0.01*sin(t)\"\nlayers = \"0:(blocks.8), 12:(blocks.10)\"\n",
    )
    .unwrap();
    let shown = succeeds({
        let mut cmd = dreamreel_process();
        cmd.args(["presets", "show"]).arg(&preset);
        cmd
    });
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.contains("zoom = \"0:(1.0), 1s:(1.05)\""), "{shown}");
    assert!(shown.contains("layers = \"0:(blocks.8), 12:(blocks.10)\""), "{shown}");
    // The shown preset is a preset itself, and plans like the original.
    let again = dir.path().join("again.toml");
    std::fs::write(&again, &shown).unwrap();
    let plan_with = |preset: &Path| {
        let mut cmd = dreamreel_process();
        cmd.args(["plan", "zoom", "noise", "-o", "x.mp4", "--frames", "25", "--json", "--preset"]).arg(preset);
        succeeds(cmd).stdout
    };
    let plan: serde_json::Value = serde_json::from_slice(&plan_with(&preset)).unwrap();
    assert_eq!(plan_with(&preset), plan_with(&again));
    assert_eq!(plan["frames"][24]["zoom"].as_f64(), Some(1.05));
    assert!((plan["frames"][12]["zoom"].as_f64().unwrap() - 1.025).abs() < 1e-9);
    assert_eq!(plan["frames"][11]["layers"], "blocks.8");
    assert_eq!(plan["frames"][12]["layers"], "blocks.10");
    // A manifest's job takes the same keys, and its mistakes name the job and key.
    let manifest = dir.path().join("jobs.toml");
    std::fs::write(
        &manifest,
        "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"a.mp4\"\nframes = 4\nwidth = 64\nheight = 48\nzoom = \"1 + 0.01*t\"\n\
         [[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"b.mp4\"\nframes = 4\nwidth = 64\nheight = 48\nzoom = \"1 + 0.01*tt\"\n",
    )
    .unwrap();
    let out = dreamreel_process().arg("batch").arg(&manifest).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("job 2: zoom: at character 10 of '1 + 0.01*tt': unknown name 'tt'"), "{stderr}");
    // Schedules that parse but fail while evaluated (a value out of range at one frame, a
    // soundtrack that is not there) stop the batch before its first job, as a render would.
    for (bad, expected) in [
        ("step = \"0:(0.02), 10:(50)\"", "step: at frame 2: 10.016 must be between 0 and 10"),
        ("zoom = \"1 + 0.1*beat\"\naudio = \"missing.wav\"", "missing.wav"),
    ] {
        std::fs::write(
            &manifest,
            format!(
                "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"a.mp4\"\nframes = 4\nwidth = 64\nheight = 48\n\
                 [[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"b.mp4\"\nframes = 12\nwidth = 64\nheight = 48\n{bad}\n"
            ),
        )
        .unwrap();
        let out = dreamreel_process().arg("batch").arg(&manifest).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("job 2: ") && stderr.contains(expected), "{bad}: {stderr}");
        assert!(!dir.path().join("a.mp4").exists(), "{bad}: job 1 ran before the pre-check refused job 2");
    }
}

mod library {
    use dreamreel::config::settings::SettingsPatch;
    use dreamreel::engine::ascent::Dreamer;
    use dreamreel::frame::image_io::{image_to_tensor, load_image, tensor_to_rgb8};
    use dreamreel::job::{Job, Mode, Request};
    use dreamreel::model::network::Network;
    use std::path::Path;
    use tch::Device;

    fn lite0() -> Network {
        crate::common::lite0()
    }

    fn zoom_job(patch: SettingsPatch, frames: u64) -> Job {
        Job::new(Request { frames: Some(frames), ..Request::new(Mode::Zoom, "samples/chelsea.png", "z.mp4", patch) })
            .unwrap()
    }

    /// On CUDA each octave's step replays from a graph captured once. Here the graphs are CPU
    /// stand-ins with a graph's semantics (what was not an input at capture is frozen), through
    /// the same Dreamer code: a scheduled step must reach every replay.
    #[test]
    fn a_scheduled_step_reaches_the_captured_graphs() {
        let network = lite0();
        let patch = SettingsPatch {
            octaves: Some(2),
            iterations: Some(3.into()),
            step: Some("0:(0.01), 2:(0.2)".parse().unwrap()),
            ..Default::default()
        };
        let job = zoom_job(patch, 3);
        let plan = dreamreel::run::per_frame::job_plan(&job, 24.0, 3).unwrap();
        let params = dreamreel::run::dream_setup::frame_params(job.dream(), &plan, &network).unwrap();
        assert_eq!((params[0].step, params[1].step, params[2].step), (0.01, 0.105, 0.2));
        let image =
            image_to_tensor(&load_image(Path::new("samples/chelsea.png"), Some(96)).unwrap(), Device::Cpu).unwrap();
        let mut graphed = Dreamer::new(&network, params[0].clone(), 5).unwrap();
        graphed.use_emulated_graphs();
        for (frame, frame_params) in params.iter().enumerate() {
            graphed.set_params(frame_params.clone()).unwrap();
            graphed.start_frame(frame as u64);
            let replayed = graphed.dream(&image).unwrap();
            let mut eager = Dreamer::new(&network, frame_params.clone(), 5).unwrap();
            eager.start_frame(frame as u64);
            let fresh = eager.dream(&image).unwrap();
            assert_eq!(tensor_to_rgb8(&replayed).unwrap(), tensor_to_rgb8(&fresh).unwrap(), "frame {frame}");
        }
        let graphs = graphed.cuda_graphs().unwrap();
        // Two octave shapes captured once each; every later step replayed with its frame's step.
        assert_eq!((graphs.captures, graphs.replays, graphs.eager_steps), (2, 18, 0));
    }

    #[test]
    fn layers_and_classes_switch_at_their_keyframes_and_hold() {
        let network = lite0();
        let patch = SettingsPatch { class: Some("0:(banana), 3:(954), 1s:(1)".into()), ..Default::default() };
        let job = zoom_job(patch, 30);
        let plan = dreamreel::run::per_frame::job_plan(&job, 24.0, 30).unwrap();
        let params = dreamreel::run::dream_setup::frame_params(job.dream(), &plan, &network).unwrap();
        let class_of = |frame: usize| match &params[frame].objective {
            dreamreel::engine::objective::Objective::Class(classes) => classes.clone(),
            other => panic!("frame {frame}: {other:?}"),
        };
        let banana = dreamreel::model::imagenet::parse_classes("banana").unwrap();
        assert_eq!((class_of(0), class_of(2)), (banana.clone(), banana));
        assert_eq!((class_of(3), class_of(23)), (vec![954], vec![954]));
        assert_eq!((class_of(24), class_of(29)), (vec![1], vec![1]));
        // A class dream keeps its prior on every frame.
        assert!(params.iter().all(|p| p.blur == 0.3));
        let patch = SettingsPatch { layers: Some("0:(blocks.8), 2:(blocks.10,head)".into()), ..Default::default() };
        let job = zoom_job(patch, 4);
        let plan = dreamreel::run::per_frame::job_plan(&job, 24.0, 4).unwrap();
        let params = dreamreel::run::dream_setup::frame_params(job.dream(), &plan, &network).unwrap();
        assert_eq!(params[1].layers, vec![network.parse_layer("blocks.8").unwrap()]);
        assert_eq!(params[2].layers.len(), 2);
        let wrong = SettingsPatch { layers: Some("0:(blocks.8), 2:(blocks.99)".into()), ..Default::default() };
        let job = zoom_job(wrong, 4);
        let plan = dreamreel::run::per_frame::job_plan(&job, 24.0, 4).unwrap();
        let err = dreamreel::run::dream_setup::frame_params(job.dream(), &plan, &network).unwrap_err().to_string();
        assert!(err.starts_with("layers: 'blocks.99' is not a layer"), "{err}");
    }
}
