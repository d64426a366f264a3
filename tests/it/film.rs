//! One film in parts (`video --part I/N`, `--join`, `--devices`, `plan video --parts`): the
//! parts, rendered as separate processes in any order (one killed and resumed), join into the
//! frames, timestamps and sound of the one-process render.
use crate::common::{dreamreel, dreamreel_process, ffmpeg, kill_after_checkpoint, refused, sample, work_folder};
use std::path::{Path, PathBuf};

/// Quick and lossless (`--crf 0`): the joined film's decoded frames are then the dreamed ones.
const QUICK: [&str; 11] =
    ["--octaves", "1", "--iterations", "2", "--device", "cpu", "--threads", "1", "--crf", "0", "-y"];

/// Real footage with two cuts: 12 frames each of three clips the tests use, at 24 fps and `size`
/// (96x64 for most tests, 320x240 for the proof), with a tone for sound.
fn film_of(dir: &Path, size: &str) -> PathBuf {
    let path = dir.join("film.mp4");
    let clip = |input: usize| {
        format!("[{input}:v]trim=start_frame=0:end_frame=12,setpts=PTS-STARTPTS,scale={size},setsar=1,fps=24[v{input}]")
    };
    let graph = format!("{};{};{};[v0][v1][v2]concat=n=3:v=1:a=0[v]", clip(0), clip(1), clip(2));
    let (bikes, vtest) = (sample("bikes.mp4"), sample("vtest.avi"));
    ffmpeg(&[
        "-i",
        "samples/clip.mp4",
        "-i",
        bikes.to_str().unwrap(),
        "-i",
        vtest.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:duration=3",
        "-filter_complex",
        &graph,
        "-map",
        "[v]",
        "-map",
        "3:a",
        "-c:v",
        "libx264",
        "-crf",
        "10",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        path.to_str().unwrap(),
    ]);
    path
}

fn film(dir: &Path) -> PathBuf {
    film_of(dir, "96:64")
}

/// A video's decoded frames (RGB), its video packets' timestamps and its audio packets' count.
fn contents(path: &Path) -> (Vec<u8>, String, usize) {
    let frames = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", path.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(frames.status.success());
    let probe = |stream: &str| {
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts", "-of", "csv"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    (frames.stdout, probe("v"), probe("a").lines().count())
}

fn video(film: &Path, out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut command = dreamreel();
    command.args(["video", film.to_str().unwrap(), "-o", out.to_str().unwrap(), "--quiet"]).args(QUICK).args(extra);
    if !extra.contains(&"--width") {
        command.args(["--width", "96"]);
    }
    command
}

#[test]
fn parts_run_in_any_order_join_into_the_one_process_render() {
    let dir = tempfile::tempdir().unwrap();
    let film = film_of(dir.path(), "320:240");
    let (one, joined) = (dir.path().join("one.mp4"), dir.path().join("joined.mp4"));
    let video = |film: &Path, out: &Path, extra: &[&str]| video(film, out, &[extra, &["--width", "320"]].concat());
    video(&film, &one, &[]).assert().success();

    // The plan: part 2 starts at the cut at frame 12 (its share starts at 12), part 3 at the cut at 24.
    let plan = dreamreel()
        .args(["plan", "video", film.to_str().unwrap(), "-o", joined.to_str().unwrap(), "--parts", "3", "--json"])
        .args(QUICK)
        .args(["--width", "320"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan --parts --json");
    let starts: Vec<(u64, bool)> = plan["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["start"].as_u64().unwrap(), p["at_cut"].as_bool().unwrap()))
        .collect();
    assert_eq!(starts[..2], [(0, true), (24, true)], "{plan}");

    // Part 3 first; part 1 killed after a checkpoint and resumed; part 2 last, joining the film.
    video(&film, &joined, &["--part", "3/3"]).assert().success();
    let mut part1 = dreamreel_process();
    part1
        .args(["video", film.to_str().unwrap(), "-o", joined.to_str().unwrap(), "--part", "1/3"])
        .args(QUICK)
        .args(["--width", "320", "--checkpoint-every", "4"])
        .env("DREAMREEL_SLOW_ENCODE_MS", "150");
    kill_after_checkpoint(part1, &work_folder(&joined).join("part-0001-of-0003"), 8);
    assert!(!joined.exists());
    // A part missing or unfinished is named; nothing is written.
    refused(
        &["video", film.to_str().unwrap(), "-o", joined.to_str().unwrap(), "--join"],
        "--join: part 1 of 3 has not finished",
    );
    assert!(!joined.exists());
    video(&film, &joined, &["--part", "1/3", "--resume", "--checkpoint-every", "4"]).assert().success();
    refused(
        &["video", film.to_str().unwrap(), "-o", joined.to_str().unwrap(), "--join"],
        "--join: part 2 of 3 has not been rendered",
    );
    video(&film, &joined, &["--part", "2/3", "--join"]).assert().success();

    let (expected, joined_film) = (contents(&one), contents(&joined));
    assert_eq!(expected.0.len(), 53 * 320 * 240 * 3, "every frame of the film");
    assert!(expected.0 == joined_film.0, "the joined parts' frames are the one-process render's");
    assert_eq!(expected.1, joined_film.1, "the same timestamps");
    assert!(expected.2 > 0 && expected.2 == joined_film.2, "the sound once: {} against {}", joined_film.2, expected.2);
    assert!(!work_folder(&joined).exists(), "the parts' work is gone once joined");
}

#[test]
fn a_join_refuses_parts_of_other_settings_and_devices_need_gpus() {
    let dir = tempfile::tempdir().unwrap();
    let film = film(dir.path());
    let out = dir.path().join("out.mp4");
    video(&film, &out, &["--part", "1/2", "--frames", "30"]).assert().success();
    let film_text = film.to_str().unwrap();
    // A part unlike the parts begun is refused before its first frame (issue 36, item 5).
    let unlike = ["video", film_text, "-o", out.to_str().unwrap(), "--part", "2/2", "--frames", "30", "--blend", "0.6"];
    refused(
        &[&unlike[..], &["--width", "96"], &QUICK].concat(),
        "--part: part 1 of 2 was rendered with other settings: --blend (was 0.5, now 0.6)",
    );
    assert!(!work_folder(&out).join(".part-0002-of-0002.dreamreel").exists(), "the refused part began");
    video(&film, &out, &["--part", "2/2", "--frames", "30"]).assert().success();
    let join = ["video", film_text, "-o", out.to_str().unwrap(), "--frames", "30", "--join", "--width", "96"];
    let join = [&join[..], &QUICK, &["--blend", "0.6"]].concat();
    refused(&join, "--join: part 1 of 2 was rendered with other settings: --blend (was 0.5, now 0.6)");
    assert!(!out.exists());
    let again = ["video", film_text, "-o", out.to_str().unwrap(), "--part", "1/2", "--frames", "30", "--width", "96"];
    refused(&[&again[..], &QUICK].concat(), "part 1 of 2 has finished: --join the parts, or add --restart");
    refused(&["plan", "video", film_text, "-o", "p.mp4", "--parts", "0"], "--parts: 0 must be between 1 and 10000");
    // A whole render of the same output does not throw the parts away unasked.
    refused(
        &["video", film_text, "-o", out.to_str().unwrap(), "--frames", "30"],
        "parts of this film are being rendered",
    );
    refused(
        &["video", film_text, "-o", "d.mp4", "--devices", "0,1"],
        "--devices: no CUDA GPU is available on this machine",
    );
    refused(
        &["video", film_text, "-o", "z.mp4", "--part", "3/2"],
        "--part: '3/2' is out of range: parts are numbered 1 to 2",
    );
    refused(
        &["zoom", "samples/coffee.png", "-o", "z.mp4", "--frames", "3", "--part", "1/2"],
        "unexpected argument '--part'",
    );
}

#[test]
fn local_devices_render_one_part_each_and_join() {
    let dir = tempfile::tempdir().unwrap();
    let film = film(dir.path());
    let (one, on_devices) = (dir.path().join("one.mp4"), dir.path().join("devices.mp4"));
    video(&film, &one, &["--frames", "30"]).assert().success();
    let out = video(&film, &on_devices, &["--frames", "30", "--devices", "0,1"])
        .env("DREAMREEL_TEST_DEVICES_ON_CPU", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(contents(&one) == contents(&on_devices), "two parts at once, joined: the one-process render");
}

#[test]
fn a_manifest_film_in_parts_is_shared_by_shards_and_joined_by_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let film = film(dir.path());
    let one = dir.path().join("one.mp4");
    video(&film, &one, &["--frames", "30"]).assert().success();
    let manifest = dir.path().join("films.toml");
    let settings = "frames = 30\nwidth = 96\noctaves = 1\niterations = 2\ndevice = \"cpu\"\nthreads = 1\ncrf = 0\n";
    let job =
        format!("[[job]]\nmode = \"video\"\ninput = \"film.mp4\"\noutput = \"joined.mp4\"\nparts = 3\n{settings}");
    std::fs::write(&manifest, job).unwrap();
    // Three parts over two shards: shard 1 renders parts 1 and 3, shard 2 part 2 and joins.
    for shard in ["1/2", "2/2"] {
        let out = dreamreel().args(["batch", manifest.to_str().unwrap(), "--shard", shard]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let joined = dir.path().join("joined.mp4");
    assert!(contents(&one) == contents(&joined), "the manifest's parts, joined: the one-process render");
    let bad = "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"z.mp4\"\nframes = 3\nwidth = 32\nparts = 2\n";
    std::fs::write(&manifest, bad).unwrap();
    refused(&["batch", manifest.to_str().unwrap()], "job 1: parts: only for video jobs");
}
