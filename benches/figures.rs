//! The figures of BENCHMARKS.md that take minutes of CPU: harnesses that measure and print,
//! asserting nothing (the tests are under `tests/it/`). One figure a run:
//!
//!     cargo bench --bench figures -- NAME
//!
//! with no NAME, the list of them.
#[path = "../tests/it/common.rs"]
mod common;

use common::{chelsea, sample};
use dreamreel::config::settings::{Settings, SettingsPatch};
use dreamreel::engine::ascent::objective_value;
use dreamreel::frame::color::{clipped_share, saturation};
use dreamreel::job::render_job::{Job, Mode, Request};
use dreamreel::model::layers::NetworkOptions;
use dreamreel::model::network::Network;
use dreamreel::run::compare::compare;
use dreamreel::run::dream_setup::DreamSetup;
use dreamreel::run::pipeline::render_video;
use dreamreel::run::progress::NoProgress;
use dreamreel::video::{ReadOptions, VideoReader};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use tch::Device;

/// Each figure by name, with what it prints.
const FIGURES: [(&str, fn(), &str); 5] = [
    (
        "real_footage_warping_error_and_strength",
        real_footage_warping_error_and_strength,
        "bikes.mp4 at 320 wide, with and without flow: warping error, objective, colour, flicker",
    ),
    ("real_footage_time_at_the_defaults", real_footage_time_at_the_defaults, "16 frames of bikes.mp4 at the defaults"),
    (
        "colour_over_a_thousand_frame_zoom",
        colour_over_a_thousand_frame_zoom,
        "saturation and clipping over a long zoom (ZOOM_FRAMES, ZOOM_COLORS, ZOOM_START)",
    ),
    ("flow_cost_per_frame", flow_cost_per_frame, "milliseconds of flow per frame at 320 and 640 wide"),
    ("objective_step_cost", objective_step_cost, "CPU time per ascent step of each objective"),
];

fn main() -> ExitCode {
    // `cargo bench` adds `--bench`; the names are the other arguments.
    let names: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if names.is_empty() {
        println!("figures: name one or more of (cargo bench --bench figures -- NAME):");
        for (name, _, what) in FIGURES {
            println!("  {name:<42} {what}");
        }
        return ExitCode::SUCCESS;
    }
    let mut chosen = Vec::new();
    for name in &names {
        match FIGURES.iter().find(|(known, _, _)| known == name) {
            Some(&(_, figure, _)) => chosen.push(figure),
            None => {
                eprintln!("figures: no figure named '{name}' (run it without a name for the list)");
                return ExitCode::from(2);
            }
        }
    }
    for figure in chosen {
        figure();
    }
    ExitCode::SUCCESS
}

fn figure_patch(text: &str) -> SettingsPatch {
    toml::from_str(text).unwrap()
}

/// Mean objective of the frames of `video` under `settings`' network and layers.
fn mean_objective(video: &Path, settings: &Settings) -> f64 {
    let network = Network::load_installed(settings.model(), Device::Cpu, NetworkOptions::default()).unwrap();
    let layers = crate::common::dream_params(settings, &network).layers;
    let mut reader = VideoReader::open(video, &ReadOptions::default()).unwrap();
    let (mut sum, mut count) = (0.0, 0.0);
    while let Some(frame) = reader.next_frame().unwrap() {
        let image =
            dreamreel::frame::image_io::rgb8_to_tensor(&frame.rgb, frame.width, frame.height, Device::Cpu).unwrap();
        sum += objective_value(&network, &image, &layers).unwrap();
        count += 1.0;
    }
    sum / count
}

fn footage(output: &Path, frames: u64, patch: &SettingsPatch) -> f64 {
    let started = Instant::now();
    let request = Request {
        frames: Some(frames),
        no_audio: Some(true),
        ..Request::new(Mode::Video, sample("bikes.mp4"), output, patch.clone())
    };
    let cancel = AtomicBool::new(false);
    render_video(&Job::new(request).unwrap(), &mut NoProgress, &cancel).unwrap();
    started.elapsed().as_secs_f64()
}

fn real_footage_warping_error_and_strength() {
    let dir = tempfile::tempdir().unwrap();
    let look = "width = 320\noctaves = 2\niterations = 4\ndevice = \"cpu\"\nthreads = 1\ncrf = 0\n";
    for (name, extra) in [("--no-flow", "flow = false\n"), ("flow", "")] {
        let patch = figure_patch(&format!("{look}{extra}"));
        let settings = Settings::resolve([&patch]).unwrap();
        let output = dir.path().join("out.mkv");
        let seconds = footage(&output, 90, &patch);
        let report = compare(&sample("bikes.mp4"), &output, 0.2).unwrap();
        let objective = mean_objective(&output, &settings);
        println!(
            "{name}: E_warp {:.6} (source {:.6}), mean objective {objective:.2}, cuts {:?}, {seconds:.1} s, colour distance {:.2} (drift {:+.2} per 100 frames), saturation {:.3} (source {:.3}), flicker {:.4} (source {:.4})",
            report.e_warp,
            report.e_warp_source,
            report.cuts,
            report.color_distance,
            report.color_drift_per_100_frames,
            report.saturation,
            report.saturation_source,
            report.flicker,
            report.flicker_source
        );
        std::fs::remove_file(&output).unwrap();
    }
}

fn real_footage_time_at_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [("--no-flow", "flow = false\n"), ("flow", ""), ("--no-flow", "flow = false\n"), ("flow", "")]
    {
        let patch = figure_patch(&format!("width = 320\ndevice = \"cpu\"\n{extra}"));
        let seconds = footage(&dir.path().join("out.mp4"), 16, &patch);
        println!("{name}: 16 frames at 320 wide, defaults: {seconds:.1} s");
    }
}

fn colour_over_a_thousand_frame_zoom() {
    let frames: u64 = std::env::var("ZOOM_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let colors = std::env::var("ZOOM_COLORS").unwrap_or_else(|_| "match".into());
    let start = std::env::var("ZOOM_START").unwrap_or_else(|_| "noise".into());
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("zoom/%05d.png");
    let look =
        figure_patch(&format!("width = 96\nheight = 64\ndevice = \"cpu\"\nthreads = 1\ncolors = \"{colors}\"\n"));
    let cancel = AtomicBool::new(false);
    let started = Instant::now();
    let job = Job::new(Request { frames: Some(frames), ..Request::new(Mode::Zoom, &start, &output, look) }).unwrap();
    render_video(&job, &mut NoProgress, &cancel).unwrap();
    let measure = |index: u64| {
        let path = output.parent().unwrap().join(format!("{index:05}.png"));
        let image = dreamreel::frame::image_io::load_image(&path, None).unwrap();
        let frame = dreamreel::frame::image_io::image_to_tensor(&image, Device::Cpu).unwrap();
        (saturation(&frame).unwrap(), clipped_share(&frame).unwrap())
    };
    let all: Vec<_> = (1..=frames).map(measure).collect();
    let mean = |values: &[(f64, f64)]| values.iter().map(|v| v.0).sum::<f64>() / values.len() as f64;
    let early = mean(&all[9..100.min(all.len())]);
    let late = mean(&all[all.len() - 100..]);
    let worst = all.iter().map(|v| v.1).fold(0.0, f64::max);
    let late_clipped = all[all.len() - 100..].iter().map(|v| v.1).sum::<f64>() / 100.0;
    println!(
        "zoom {frames} frames 96x64 from {start:?} colors={colors}: saturation frames 10-100 {early:.3}, last 100 {late:.3} ({:+.1}%), clipped worst {:.1}%, last 100 mean {:.1}%, {:.0} s",
        100.0 * (late - early) / early,
        worst * 100.0,
        late_clipped * 100.0,
        started.elapsed().as_secs_f64()
    );
}

fn flow_cost_per_frame() {
    for width in [320, 640] {
        let read = ReadOptions { width: Some(width), max_frames: Some(21), ..Default::default() };
        let mut reader = VideoReader::open(&sample("bikes.mp4"), &read).unwrap();
        let mut frames = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            frames.push(frame);
        }
        let started = Instant::now();
        for pair in frames.windows(2) {
            dreamreel::frame::flow::frame_motion(&pair[0].rgb, &pair[1].rgb, pair[1].width, pair[1].height).unwrap();
        }
        let each = started.elapsed().as_secs_f64() * 1000.0 / (frames.len() - 1) as f64;
        println!("flow both ways + occlusion at {}x{}: {each:.1} ms per frame", frames[0].width, frames[0].height);
    }
}

/// CPU time per ascent step of each objective at 320x213 on Lite0, for BENCHMARKS.md. On one
/// torch thread, so the work runs on the calling thread and its CPU time (`schedstat`) counts it
/// whatever else loads the machine; the objectives take turns, 30 rounds of 2 steps each.
fn objective_step_cost() {
    let objectives: [(&str, SettingsPatch); 6] = [
        ("layers blocks.8,blocks.10", SettingsPatch::default()),
        ("layers head", SettingsPatch { layers: Some("head".into()), ..Default::default() }),
        ("class banana (blur 0.3)", SettingsPatch { class: Some("banana".into()), ..Default::default() }),
        ("layers blocks.10", SettingsPatch { layers: Some("blocks.10".into()), ..Default::default() }),
        (
            "guide coffee.png at blocks.10",
            SettingsPatch {
                layers: Some("blocks.10".into()),
                guide: Some("samples/coffee.png".into()),
                ..Default::default()
            },
        ),
        (
            "channels blocks.10:3,17",
            SettingsPatch { channels: Some(vec!["blocks.10:3,17".into()]), ..Default::default() },
        ),
    ];
    let steps = 2;
    let engines: Vec<(&str, (DreamSetup, dreamreel::engine::ascent::DreamParams))> = objectives
        .into_iter()
        .map(|(name, patch)| {
            let fixed = SettingsPatch {
                octaves: Some(1),
                iterations: Some(steps.into()),
                threads: Some(1),
                device: Some("cpu".into()),
                ..Default::default()
            };
            let settings = Settings::resolve([&patch, &fixed]).unwrap();
            let setup = DreamSetup::load(&dreamreel::job::DreamSpec::of(&settings)).unwrap();
            let params = setup.params(dreamreel::job::plan::PlanSpec::of(&settings, 1.0).constants()).unwrap();
            (name, (setup, params))
        })
        .collect();
    let image = chelsea(320);
    // Nanoseconds this thread has run on a CPU.
    let cpu_ns = || -> u64 {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        text.split_whitespace().next().unwrap().parse().unwrap()
    };
    let rounds = 30;
    let mut total = vec![0u64; engines.len()];
    for _round in 0..rounds {
        for (slot, (_, engine)) in total.iter_mut().zip(&engines) {
            let started = cpu_ns();
            let _dreamed = engine.0.dreamer(engine.1.clone()).unwrap().dream(&image).unwrap();
            *slot += cpu_ns() - started;
        }
    }
    for ((name, _), ns) in engines.iter().zip(&total) {
        println!("{name:<32} {:.1} ms CPU per step", *ns as f64 / 1e6 / (rounds * steps) as f64);
    }
}
