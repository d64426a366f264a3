//! What a new user hit, round two (issue 26), each through the binary: frame counts that would
//! exhaust memory, `--no-audio` beside `--audio`, preset keys that do not act on a still or an
//! unencoded output, `checkpoint-every` in presets and manifests, `plan` checking what the render
//! checks, and exit codes.
#![cfg(feature = "video")]

use crate::common::{dreamreel, ffmpeg, refused};
use std::path::Path;

const QUICK: [&str; 8] = ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1"];

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn huge_frame_counts_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.mp4");
    let plan = ["plan", "zoom", "noise", "-o", text(&out), "--zoom", "1+0.01*sin(t)"];
    refused(&[&plan[..], &["--duration", "1e9"]].concat(), "--duration: 24000000000 frames are more than the 1000000");
    refused(&[&plan[..], &["--frames", "4294967295"]].concat(), "--frames: 4294967295 frames are more than");
    let zoom = ["zoom", "noise", "-o", text(&out), "--width", "32", "--duration", "1e9"];
    refused(&zoom, "--duration: 24000000000 frames are more than");
    refused(&["video", "samples/clip.mp4", "-o", text(&out), "--frames", "100000000"], "--frames: 100000000 frames");
    assert!(!out.exists());
}

#[test]
fn no_audio_drops_the_soundtrack_too_while_it_still_drives_the_signals() {
    let dir = tempfile::tempdir().unwrap();
    let (clip, song, out) = (dir.path().join("clip.mp4"), dir.path().join("song.wav"), dir.path().join("o.mp4"));
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=48x32:rate=8:duration=0.5", "-pix_fmt", "yuv420p", text(&clip)]);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=300:duration=1", text(&song)]);
    let args = ["video", text(&clip), "-o", text(&out), "--audio", text(&song), "--no-audio", "--zoom", "1+0.01*loud"];
    dreamreel().args(args).args(QUICK).args(["--quiet"]).assert().success();
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", text(&out)])
        .output()
        .unwrap();
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert_eq!(streams.trim(), "video", "{streams}");
}

#[test]
fn preset_keys_that_do_not_act_on_the_output_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    // slow-hq sets crf = 16: PNG frames and a GIF take no CRF, and a command line's --crf still is refused.
    let frames = dir.path().join("f/%03d.png");
    let zoom = ["zoom", "samples/coffee.png", "--width", "48", "--frames", "2", "--preset", "slow-hq", "--quiet"];
    dreamreel().args(zoom).args(["-o", text(&frames)]).args(QUICK).assert().success();
    assert!(dir.path().join("f/002.png").is_file());
    let gif = dir.path().join("z.gif");
    dreamreel().args(zoom).args(["-o", text(&gif)]).args(QUICK).assert().success();
    refused(&[&zoom[..], &["-o", text(&dir.path().join("g.gif")), "--crf", "20"]].concat(), "--crf: ");
    // The README's own scheduled preset used by a still: the schedule is ignored.
    let preset = dir.path().join("moving.toml");
    std::fs::write(&preset, "zoom = \"0:(1.0), 2s:(1.04)\"\nlayers = \"0:(blocks.8), 10:(blocks.10)\"\n").unwrap();
    let still = dir.path().join("s.png");
    dreamreel()
        .args(["still", "samples/coffee.png", "-o", text(&still), "--width", "48", "--preset", text(&preset)])
        .args(QUICK)
        .assert()
        .success();
    assert!(still.is_file());
}

#[test]
fn checkpoint_every_is_a_key_of_presets_and_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("farm.toml");
    std::fs::write(&preset, "checkpoint-every = 2\n").unwrap();
    let out = dir.path().join("z.mp4");
    let args = ["zoom", "samples/coffee.png", "-o", text(&out), "--width", "48", "--frames", "3", "--quiet"];
    dreamreel().args(args).args(["--preset", text(&preset)]).args(QUICK).assert().success();
    let manifest = dir.path().join("m.toml");
    let job =
        "[[job]]\nmode = \"zoom\"\ninput = \"../../samples/coffee.png\"\noutput = \"b.mp4\"\nframes = 2\nwidth = 48\n";
    let manifest_text = format!("{job}checkpoint-every = 1\noctaves = 1\niterations = 1\ndevice = \"cpu\"\n");
    std::fs::write(
        &manifest,
        manifest_text.replace("../../samples", &format!("{}/samples", env!("CARGO_MANIFEST_DIR"))),
    )
    .unwrap();
    dreamreel().args(["batch", text(&manifest), "--quiet"]).assert().success();
    assert!(dir.path().join("b.mp4").is_file());
    let still = dir.path().join("s.png");
    let bad = [&["still", "samples/coffee.png", "-o", text(&still), "--preset", text(&preset)][..], &QUICK].concat();
    // A still has no checkpoints: the key is ignored there, as other keys of other modes are.
    dreamreel().args(bad).args(["--width", "48"]).assert().success();
}

#[test]
fn plan_refuses_the_layers_the_render_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.mp4");
    let plan = ["plan", "zoom", "noise", "-o", text(&out), "--width", "32", "--frames", "4"];
    refused(
        &[&plan[..], &["--layers", "0:(blocks.8), 2:(blocks.99)"]].concat(),
        "--layers: 'blocks.99' is not a layer",
    );
    refused(&[&plan[..], &["--class", "0:(banana), 2:(no such thing)"]].concat(), "--class: at frame 2:");
    dreamreel().args(plan).args(["--layers", "0:(blocks.8), 2:(blocks.10)"]).assert().success();
}

#[test]
fn exit_codes_say_whose_fault_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("existing");
    std::fs::write(&file, "x").unwrap();
    refused(&["manpages", text(&file)], "is a file, not a folder");
    let out = dir.path().join("z.mp4");
    refused(
        &["zoom", "samples/coffee.png", "-o", text(&out), "--frames", "2", "--fps", "1e-9"],
        "--fps: 0.000000001 must be between 0.01 and 1000",
    );
    let png = dir.path().join("s9.png");
    refused(&["zoom", "samples/coffee.png", "-o", text(&png), "--frames", "2"], "or write a %05d.png sequence");
}

#[test]
fn settings_named_twice_or_doing_nothing_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    let still = ["still", "samples/coffee.png", "-o", text(&out), "--width", "48"];
    refused(&[&still[..], &["--layers", "blocks.8,blocks.8"]].concat(), "--layers: 'blocks.8' is named twice");
    refused(&[&still[..], &["--class", "banana,954"]].concat(), "--class: '954' (class 954) is named twice");
    refused(&[&still[..], &["--class-layers", "true"]].concat(), "--class-layers: adds the layers to a class's dream");
    assert!(!out.exists());
}

#[test]
fn footage_too_small_for_its_codec_names_the_width() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.mkv");
    // 80 wide keeps the clip's 4:3 at 80x60: too low for AV1, and --width is what changes it.
    refused(&["video", "samples/clip.mp4", "-o", text(&out), "--codec", "av1", "--width", "80"], "--width: ");
}

#[test]
fn overwriting_png_frames_removes_only_the_earlier_renders_run() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["001.png", "002.png", "003.png", "004.png", "1000.png"] {
        std::fs::copy("samples/coffee.png", dir.path().join(name)).unwrap();
    }
    let pattern = dir.path().join("%03d.png");
    let zoom = ["zoom", "samples/coffee.png", "-o", text(&pattern), "--width", "48", "--quiet"];
    // An earlier render of 3 frames over the user's 001-004: its record lists 001-003.
    dreamreel().args(zoom).args(["--frames", "3", "-y"]).args(QUICK).assert().success();
    dreamreel().args(zoom).args(["--frames", "2", "-y"]).args(QUICK).assert().success();
    let left: Vec<bool> = ["001.png", "002.png", "003.png", "004.png", "1000.png"]
        .iter()
        .map(|name| dir.path().join(name).exists())
        .collect();
    assert_eq!(
        left,
        [true, true, false, true, true],
        "the earlier render's 003 goes; the user's 004 and 1000.png, which no render wrote, stay"
    );
}

#[test]
fn a_picture_too_small_names_the_file_not_a_width_never_given() {
    let dir = tempfile::tempdir().unwrap();
    let thin = dir.path().join("thin.png");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=40x8", "-frames:v", "1", text(&thin)]);
    let out = dir.path().join("s.png");
    let still = ["still", text(&thin), "-o", text(&out), "--device", "cpu"];
    refused(
        &still,
        "thin.png: a 40x8 frame is too small to dream: it needs at least 32 pixels a side: give a larger --width",
    );
    let output = dreamreel().args(still).output().unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("dreamreel: --width"));
    assert!(!out.exists());
}
