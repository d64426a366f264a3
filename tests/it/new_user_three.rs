//! What a new user hit, round two (issue 26), the rest, each through the binary: `--height` with a
//! picture, a frame too big for memory, a text file named `.png`, whole numbers in schedules, the
//! size the summary states, cuts counted alike, notes when fewer frames are rendered than asked,
//! `compare --start`, batch jobs that read another job's output, and a sound that cannot be muxed.
#![cfg(feature = "video")]

use crate::common::{arg, checkpoint_frames, dreamreel, ffmpeg, quick, refused};
use std::path::{Path, PathBuf};

/// `ffprobe`'s `entries` of the first video stream of `path`, as CSV.
fn video_stream(path: &Path, entries: &str) -> String {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The cat for half a second, then the coffee (a cut at frame 4), 96x64 at 8 fps.
fn cat_then_coffee(dir: &Path) -> PathBuf {
    let path = dir.join("cut.mp4");
    let graph = "[0:v]scale=96:64,setsar=1,fps=8[a];[1:v]scale=96:64,setsar=1,fps=8[b];[a][b]concat=n=2:v=1[v]";
    ffmpeg(&[
        "-loop",
        "1",
        "-t",
        "0.5",
        "-i",
        "samples/chelsea.png",
        "-loop",
        "1",
        "-t",
        "0.5",
        "-i",
        "samples/coffee.png",
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-pix_fmt",
        "yuv420p",
        arg(&path),
    ]);
    path
}

#[test]
fn a_height_that_does_nothing_to_a_picture_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    let expected = "--height: 32 does nothing to 'samples/coffee.png': a picture keeps its shape, give --width only";
    refused(&["still", "samples/coffee.png", "-o", arg(&out), "--width", "256", "--height", "32"], expected);
    let zoom = dir.path().join("z.mp4");
    refused(&["zoom", "samples/coffee.png", "-o", arg(&zoom), "--frames", "2", "--height", "32"], expected);
    refused(&["bench", "--input", "samples/coffee.png", "--width", "256", "--height", "32"], expected);
    assert!(!out.exists() && !zoom.exists());
    // Noise takes any shape; a preset's height (shared between modes) is ignored with a picture.
    let (code, stderr) = quick(&["still", "noise", "-o", arg(&out), "--width", "48", "--height", "40", "--quiet"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(image::image_dimensions(&out).unwrap(), (48, 40));
    let preset = dir.path().join("wide.toml");
    std::fs::write(&preset, "height = 32\n").unwrap();
    let args = ["still", "samples/coffee.png", "-o", arg(&out), "--width", "48", "--preset", arg(&preset), "-y"];
    let (code, stderr) = quick(&args, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(image::image_dimensions(&out).unwrap(), (48, 32), "48 wide, the picture's 3:2");
    // A manifest's job is refused alike.
    let manifest = dir.path().join("m.toml");
    let job = "[[job]]\nmode = \"still\"\ninput = \"../../samples/coffee.png\"\noutput = \"b.png\"\nheight = 40\n";
    std::fs::write(&manifest, job).unwrap();
    let out = dreamreel().args(["batch", arg(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("job 1: height: 40 does nothing to"), "{stderr}");
}

#[test]
fn a_frame_whose_dream_needs_more_memory_than_there_is_is_refused_without_tile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.png");
    // A 64x43 frame needs about 0.6 GB by the measure: over a limit of 100 MB.
    let small_machine = [("DREAMREEL_MEMORY_LIMIT_BYTES", "100000000")];
    let (code, stderr) = quick(&["still", "samples/coffee.png", "-o", arg(&out), "--width", "64"], &small_machine);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("dreamreel: --tile: a 64x43 frame's dream needs about 0.6 GB and 0.1 GB is available")
            && stderr.contains("--width"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!out.exists());
    let zoom = dir.path().join("z.mp4");
    let (code, stderr) = quick(&["zoom", "noise", "-o", arg(&zoom), "--width", "64", "--frames", "2"], &small_machine);
    assert!(code == Some(2) && stderr.contains("--tile: a 64x64 frame's dream needs"), "{stderr}");
    let clip = dir.path().join("v.mp4");
    let args = ["video", "samples/clip.mp4", "-o", arg(&clip), "--width", "64", "--frames", "2"];
    let (code, stderr) = quick(&args, &small_machine);
    assert!(code == Some(2) && stderr.contains("--tile: a 64x43 frame's dream needs"), "{stderr}");
    assert!(!zoom.exists() && !clip.exists());
    // With --tile the frame is dreamed in pieces: not refused.
    let (code, stderr) =
        quick(&["still", "samples/coffee.png", "-o", arg(&out), "--width", "64", "--tile", "64"], &small_machine);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.is_file());
}

#[test]
fn a_text_file_named_png_is_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("text.png");
    std::fs::write(&fake, "not a picture\n").unwrap();
    let out = dir.path().join("o.mp4");
    let not_media = format!("{}: not a media file FFmpeg can read", fake.display());
    refused(&["video", arg(&fake), "-o", arg(&out)], &not_media);
    refused(&["compare", arg(&fake), "samples/clip.mp4"], &not_media);
    refused(&["compare", "samples/clip.mp4", arg(&fake)], &not_media);
    refused(&["still", arg(&fake), "-o", arg(&dir.path().join("s.png"))], "text.png: not an image");
    assert!(!out.exists());
}

#[test]
fn whole_number_settings_are_refused_fractions_in_schedules_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("z.mp4");
    let zoom = ["zoom", "noise", "-o", arg(&out), "--width", "48", "--frames", "3"];
    refused(&[&zoom[..], &["--jitter", "0:(1.5)"]].concat(), "--jitter: at frame 0: 1.5 must be a whole number");
    let ramp = "0:(1), 2:(2.5)";
    refused(&[&zoom[..], &["--iterations", ramp]].concat(), "--iterations: at frame 2: 2.5 must be a whole number");
    let plan = ["plan", "zoom", "noise", "-o", arg(&out), "--frames", "3", "--fps", "2"];
    refused(&[&plan[..], &["--jitter", "0:(2), 1s:(0.5)"]].concat(), "--jitter: at frame 2: 0.5 must be a whole");
    // Between whole keyframes, and from expressions, values are rounded as before.
    for schedule in ["0:(1), 2:(2)", "1+sin(t)"] {
        let out = dreamreel().args(plan).args(["--iterations", schedule]).output().unwrap();
        assert!(out.status.success(), "{schedule}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(!out.exists());
}

#[test]
fn the_summary_states_the_size_written_and_a_gif_or_png_frames_keep_odd_sizes() {
    let dir = tempfile::tempdir().unwrap();
    // The coffee at 64 wide is 64x43: a video codec's 4:2:0 crops the odd row, a GIF and PNGs keep it.
    for (name, size) in [("z.mp4", "64x42"), ("z.gif", "64x43"), ("f/%03d.png", "64x43")] {
        let out = dir.path().join(name);
        let (code, stderr) =
            quick(&["zoom", "samples/coffee.png", "-o", arg(&out), "--width", "64", "--frames", "2"], &[]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&format!("2 frames {size} in")), "{name}: {stderr}");
        let file = if name.contains('%') { dir.path().join("f/001.png") } else { out };
        assert_eq!(video_stream(&file, "stream=width,height"), size.replace('x', ","), "{name}");
    }
}

#[test]
fn cuts_are_counted_from_0_by_video_and_compare_alike() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cat_then_coffee(dir.path());
    let out = dir.path().join("o.mp4");
    let (code, stderr) = quick(&["video", arg(&clip), "-o", arg(&out), "--width", "48"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("scene cuts at frames 4 (counted from 0)"), "{stderr}");
    let compared = dreamreel().args(["compare", arg(&clip), arg(&out)]).output().unwrap();
    let report = String::from_utf8_lossy(&compared.stdout);
    assert!(compared.status.success() && report.contains("cuts at frames    4 (counted from 0"), "{report}");
    let json = dreamreel().args(["compare", arg(&clip), arg(&out), "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["cuts"], serde_json::json!([4]));
}

#[test]
fn compare_starts_the_source_where_video_started() {
    let dir = tempfile::tempdir().unwrap();
    let clip = cat_then_coffee(dir.path());
    let out = dir.path().join("o.mp4");
    let (code, stderr) = quick(&["video", arg(&clip), "-o", arg(&out), "--width", "48", "--start", "0.5"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let distance = |extra: &[&str]| {
        let compared = dreamreel().args(["compare", arg(&clip), arg(&out), "--json"]).args(extra).output().unwrap();
        assert!(compared.status.success(), "{}", String::from_utf8_lossy(&compared.stderr));
        let json: serde_json::Value = serde_json::from_slice(&compared.stdout).unwrap();
        (json["color_distance"].as_f64().unwrap(), json["frames"].as_u64().unwrap())
    };
    let (matched, frames) = distance(&["--start", "0.5"]);
    let (unmatched, _) = distance(&[]);
    assert_eq!(frames, 4);
    // The coffee dreamed against the coffee, not against the cat.
    assert!(matched * 2.0 < unmatched, "ΔE {matched} from 0.5 s, {unmatched} from the start");
    refused(&["compare", arg(&clip), arg(&out), "--start", "-1"], "--start: -1 must be zero or more seconds");
}

#[test]
fn a_note_says_when_fewer_frames_are_rendered_than_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.mp4");
    // clip.mp4 holds 48 frames at 24 fps: 2 from 1.9 s.
    let args = ["video", "samples/clip.mp4", "-o", arg(&out), "--width", "48", "--frames", "100", "--start", "1.9"];
    let (code, stderr) = quick(&args, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let note = "dreamreel: note: the input has 2 frame(s) from --start 1.9 s: 100 asked for, 2 will be rendered";
    assert!(stderr.lines().next() == Some(note), "{stderr}");
    assert_eq!(video_stream(&out, "stream=nb_read_frames"), "2");
    let (code, stderr) =
        quick(&["video", "samples/coffee.png", "-o", arg(&out), "--width", "48", "--frames", "3", "-y"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("note: the input has 1 frame(s): 3 asked for, 1 will be rendered"), "{stderr}");
    let (code, stderr) =
        quick(&["video", "samples/coffee.png", "-o", arg(&out), "--frames", "3", "-y", "--quiet"], &[]);
    assert!(code == Some(0) && stderr.is_empty(), "--quiet says nothing: {stderr}");
    // A loop says what its progress counts.
    let looped = dir.path().join("l.mp4");
    let (code, stderr) = quick(&["zoom", "noise", "-o", arg(&looped), "--width", "48", "--frames", "4", "--loop"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("note: a loop of 4 frames dreams 5: 1 more fade into its start"), "{stderr}");
    assert_eq!(video_stream(&looped, "stream=nb_read_frames"), "4");
}

#[test]
fn a_batch_job_may_read_another_jobs_output_and_runs_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let coffee = std::fs::canonicalize("samples/coffee.png").unwrap();
    let quick = "octaves = 1\niterations = 1\ndevice = \"cpu\"\nthreads = 1\n";
    // Job 1 reads job 2's output: it runs second.
    let manifest = dir.path().join("m.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[job]]\nmode = \"video\"\ninput = \"z.mp4\"\noutput = \"v.mp4\"\nwidth = 48\n{quick}\n\
             [[job]]\nmode = \"zoom\"\ninput = \"{}\"\noutput = \"z.mp4\"\nframes = 3\nwidth = 48\n{quick}",
            coffee.display()
        ),
    )
    .unwrap();
    let out = dreamreel().args(["batch", arg(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let started: Vec<&str> = stderr.lines().filter(|line| line.contains(" -> ")).collect();
    assert!(started.len() == 2 && started[0].starts_with("job 2: zoom"), "{stderr}");
    assert_eq!(video_stream(&dir.path().join("v.mp4"), "stream=nb_read_frames"), "3");
    // Two workers at once: the video job waits for the zoom it reads.
    std::fs::remove_file(dir.path().join("z.mp4")).unwrap();
    let out = dreamreel()
        .args(["batch", arg(&manifest), "--force", "--devices", "0,1"])
        .env("DREAMREEL_TEST_DEVICES_ON_CPU", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(video_stream(&dir.path().join("v.mp4"), "stream=nb_read_frames"), "3");
    // Two jobs that read each other's outputs: refused before anything starts.
    let circle = dir.path().join("c.toml");
    std::fs::write(
        &circle,
        format!(
            "[[job]]\nmode = \"video\"\ninput = \"a.mp4\"\noutput = \"b.mp4\"\n{quick}\n\
             [[job]]\nmode = \"video\"\ninput = \"b.mp4\"\noutput = \"a.mp4\"\n{quick}"
        ),
    )
    .unwrap();
    let out = dreamreel().args(["batch", arg(&circle)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("jobs 1, 2 read each other's outputs in a circle"), "{stderr}");
}

#[test]
fn the_batch_pre_check_refuses_a_frame_too_small_to_dream() {
    let dir = tempfile::tempdir().unwrap();
    let coffee = std::fs::canonicalize("samples/coffee.png").unwrap();
    let job = |output: &str, width: u32| {
        format!("[[job]]\nmode = \"still\"\ninput = \"{}\"\noutput = \"{output}\"\nwidth = {width}\n", coffee.display())
    };
    let manifest = dir.path().join("m.toml");
    // 32 wide on a 3:2 picture is 32x21: refused before job 1 starts.
    std::fs::write(&manifest, job("a.png", 48) + &job("b.png", 32)).unwrap();
    let out = dreamreel().args(["batch", arg(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("job 2: width: a 32x21 frame is too small to dream"), "{stderr}");
    assert!(stderr.contains("nothing was started"), "{stderr}");
    assert!(!dir.path().join("a.png").exists());
}

#[test]
fn a_sound_that_cannot_be_muxed_keeps_the_frames_and_resume_no_audio_joins_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.mp4");
    let args =
        ["video", "samples/clip.mp4", "-o", arg(&out), "--width", "48", "--frames", "4", "--checkpoint-every", "2"];
    let (code, stderr) = quick(&args, &[("DREAMREEL_TEST_FAIL_SOUND_MUX", "1")]);
    assert_eq!(code, Some(1), "the work failed, not the invocation: {stderr}");
    assert!(stderr.contains("the sound could not be muxed"), "{stderr}");
    assert!(!out.exists());
    assert_eq!(checkpoint_frames(&out), Some(4), "every frame is kept");
    let (code, stderr) = quick(&[&args[..], &["--resume", "--no-audio"]].concat(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(video_stream(&out, "stream=nb_read_frames"), "4");
    let streams = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", arg(&out)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&streams.stdout).trim(), "video");
}
