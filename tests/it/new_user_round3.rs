//! What a new user hit, round three (issue 36, items 6, 7 and 9), each through the binary: NaN and
//! infinity refused by every mode, from the command line, a preset and a manifest; sound that MP4
//! holds but players refuse (Vorbis, Opus) transcoded to AAC, copied where it plays; a still's
//! progress in a log; `--width`'s real range; `classify --list` with `--top`; `plan video` of
//! frames the render refuses; a batch's output folder that does not exist yet.
use crate::common::{QUICK_DREAM as QUICK, arg, dreamreel, quick, refused};
#[cfg(feature = "video")]
use std::path::Path;

#[test]
fn nan_and_infinity_never_reach_a_still_from_any_layer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    let still = |option: &str, value: &str| {
        let args = ["still", "noise", "-o", arg(&out), "--width", "48", option, value];
        [&args[..], &QUICK].concat().iter().map(|a| a.to_string()).collect::<Vec<String>>()
    };
    let cases = [
        (still("--step", "nan"), "--step: NaN must be between 0 and 10"),
        (still("--blur", "nan"), "--blur: NaN must be between 0 and 1"),
        (still("--octave-scale", "nan"), "--octave-scale: NaN must be between 1 and 4"),
        (still("--step", "inf"), "--step: inf must be between 0 and 10"),
        (still("--blur", "inf"), "--blur: inf must be between 0 and 1"),
        (still("--learning-rate", "NaN"), "--learning-rate: NaN must be above 0"),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, expected);
    }
    // A preset and a manifest are checked by the same one check.
    let preset = dir.path().join("nan.toml");
    std::fs::write(&preset, "octave-scale = nan\n").unwrap();
    let args = ["still", "noise", "-o", arg(&out), "--width", "48", "--preset", arg(&preset)];
    refused(&args, "nan.toml:1: octave-scale: NaN must be between 1 and 4");
    let manifest = dir.path().join("m.toml");
    std::fs::write(&manifest, "[[job]]\nmode = \"still\"\ninput = \"noise\"\noutput = \"b.png\"\nblur = nan\n")
        .unwrap();
    let batch = dreamreel().args(["batch", arg(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&batch.stderr);
    assert_eq!(batch.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("job 1: blur: NaN must be between 0 and 1"), "{stderr}");
    // Nothing written anywhere.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "only the preset and the manifest: {left:?}");
}

#[cfg(feature = "video")]
#[test]
fn nan_is_refused_by_a_zoom_as_by_a_still() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("z.mp4");
    for (option, expected) in [("--step", "--step: NaN must be"), ("--zoom", "--zoom: NaN must be between 0.5 and 2")] {
        let args = ["zoom", "noise", "-o", arg(&out), "--width", "48", "--frames", "2", option, "nan"];
        refused(&[&args[..], &QUICK].concat(), expected);
    }
    assert!(!out.exists());
}

/// `ffprobe`'s `entries` of the first stream of `kind` ("a", "v") of `path`, as CSV fields.
#[cfg(feature = "video")]
fn stream(path: &Path, kind: &str, entries: &str) -> Vec<String> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", &format!("{kind}:0"), "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().split(',').map(str::to_string).collect()
}

/// The sound's codec and the seconds of sound and picture in an MP4 or MOV file.
#[cfg(feature = "video")]
fn sound_and_seconds(path: &Path) -> (String, f64, f64) {
    let sound = stream(path, "a", "stream=codec_name,duration");
    let picture = stream(path, "v", "stream=duration");
    let seconds = |fields: &[String], at: usize| fields.get(at).and_then(|f| f.parse::<f64>().ok()).unwrap_or(-1.0);
    (sound[0].clone(), seconds(&sound, 1), seconds(&picture, 0))
}

#[cfg(feature = "video")]
#[test]
fn sound_that_players_refuse_in_mp4_is_transcoded_to_aac_and_copied_where_it_plays() {
    let dir = tempfile::tempdir().unwrap();
    let vorbis = dir.path().join("vorbis.mkv");
    crate::common::clip_with_sound(&vorbis, "64x48", 10, 1.0, "libvorbis");
    let opus = dir.path().join("opus.mkv");
    crate::common::clip_with_sound(&opus, "64x48", 10, 1.0, "libopus");
    let cases = [(&vorbis, "mp4", "aac"), (&vorbis, "mov", "aac"), (&opus, "mp4", "aac"), (&vorbis, "mkv", "vorbis")];
    for (source, extension, expected) in cases {
        let out = dir.path().join(format!("{}-out.{extension}", source.file_stem().unwrap().to_string_lossy()));
        let (code, stderr) = quick(&["video", arg(source), "-o", arg(&out), "--frames", "4"], &[]);
        assert_eq!(code, Some(0), "{stderr}");
        let what = format!("{} into .{extension}", source.display());
        if extension == "mkv" {
            // Matroska's players play Vorbis: copied as it is.
            assert_eq!(stream(&out, "a", "stream=codec_name"), ["vorbis"], "{what}");
            continue;
        }
        let (codec, sound, picture) = sound_and_seconds(&out);
        assert_eq!(codec, expected, "{what}");
        // Four frames at 10 fps: 0.4 s of picture, and as much sound (an AAC frame is 23 ms).
        assert!((picture - 0.4).abs() < 0.01 && (sound - picture).abs() < 0.05, "{what}: {sound} s, {picture} s");
    }
}

#[cfg(feature = "video")]
#[test]
fn a_film_in_parts_joins_vorbis_as_aac_into_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("film.mkv");
    crate::common::clip_with_sound(&film, "64x48", 10, 1.0, "libvorbis");
    let out = dir.path().join("joined.mp4");
    for part in ["1/2", "2/2"] {
        let (code, stderr) = quick(&["video", arg(&film), "-o", arg(&out), "--part", part], &[]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stderr) = quick(&["video", arg(&film), "-o", arg(&out), "--join"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let (codec, sound, picture) = sound_and_seconds(&out);
    assert_eq!(codec, "aac");
    assert!(
        (picture - 1.0).abs() < 0.01 && (sound - picture).abs() < 0.05,
        "{sound} s of sound, {picture} s of picture"
    );
}

#[test]
fn a_still_in_a_log_says_it_is_dreaming_not_0_of_1_frames() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    // stderr is a pipe here, as in a log: plain lines, one every millisecond.
    let still = ["still", "noise", "-o", arg(&out), "--width", "48", "--steps", "1"];
    let (code, stderr) = quick(&still, &[("DREAMREEL_PROGRESS_SECONDS", "0.001")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("0/1 frames") && !stderr.contains("ETA unknown"), "{stderr}");
    assert!(stderr.lines().last().unwrap().contains("48x48 dreamed in"), "{stderr}");
    // Lines every millisecond of a dream of a tenth of a second or more: some are printed.
    let progress: Vec<&str> =
        stderr.lines().filter(|l| l.starts_with("dreamreel: ") && !l.starts_with("dreamreel: note:")).collect();
    assert!(!progress.is_empty() && progress.iter().all(|l| l.contains("dreaming the frame")), "{stderr}");
}

#[test]
fn a_side_out_of_range_is_worded_with_the_real_range_from_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.png");
    refused(
        &["still", "noise", "-o", arg(&out), "--width", "-5"],
        "'--width <WIDTH>': -5 must be between 32 and 16384 pixels",
    );
    refused(
        &["still", "noise", "-o", arg(&out), "--height", "-5"],
        "'--height <HEIGHT>': -5 must be between 32 and 16384 pixels",
    );
    refused(&["still", "noise", "-o", arg(&out), "--width", "16385"], "16385 must be between 32 and 16384 pixels");
    refused(
        &["still", "noise", "-o", arg(&out), "--width", "wide"],
        "must be a whole number between 32 and 16384 pixels",
    );
    let preset = dir.path().join("tiny.toml");
    std::fs::write(&preset, "width = 20\n").unwrap();
    refused(
        &["still", "noise", "-o", arg(&out), "--preset", arg(&preset)],
        "tiny.toml:1: width: 20 must be between 32 and 16384 pixels",
    );
    let stderr = dreamreel().args(["still", "noise", "-o", arg(&out), "--width", "-5"]).output().unwrap().stderr;
    assert!(!String::from_utf8_lossy(&stderr).contains("4294967295"));
    assert!(!out.exists());
}

#[test]
fn classify_list_refuses_what_ranks_an_image_and_takes_json() {
    refused(&["classify", "--list", "--top", "2"], "the argument '--list' cannot be used with '--top <TOP>'");
    refused(&["classify", "--list", "--model", "lite1"], "the argument '--list' cannot be used with '--model");
    let out = dreamreel().args(["classify", "--list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let classes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(classes.as_array().unwrap().len(), 1000);
    assert_eq!((classes[954]["index"].as_u64(), classes[954]["name"].as_str()), (Some(954), Some("banana")));
}

#[cfg(feature = "video")]
#[test]
fn plan_video_refuses_frames_the_render_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.mp4");
    let clip = ["-f", "lavfi", "-i", "testsrc=size=128x54:rate=10:duration=1", "-pix_fmt", "yuv420p", arg(&wide)];
    crate::common::ffmpeg(&clip);
    let out = dir.path().join("w.mp4");
    let too_small = "--width: a 64x27 frame is too small to dream: it needs at least 32 pixels a side";
    for parts in [&["--parts", "2"][..], &[]] {
        let args = [&["plan", "video", arg(&wide), "-o", arg(&out), "--width", "64"][..], parts].concat();
        let plan = dreamreel().args(&args).output().unwrap();
        assert!(plan.stdout.is_empty(), "no plan printed: {}", String::from_utf8_lossy(&plan.stdout));
        refused(&args, too_small);
    }
    // The render refuses the same frames with the same words.
    refused(&[&["video", arg(&wide), "-o", arg(&out), "--width", "64"][..], &QUICK].concat(), too_small);
    // A size the render takes is planned.
    let plan =
        dreamreel().args(["plan", "video", arg(&wide), "-o", arg(&out), "--width", "76", "--parts", "2"]).output();
    let plan = plan.unwrap();
    assert!(plan.status.success() && String::from_utf8_lossy(&plan.stdout).contains("10 frames in 2 parts"));
    assert!(!out.exists());
}

#[test]
fn a_batch_makes_an_output_folder_that_does_not_exist_and_refuses_one_it_cannot_make() {
    let dir = tempfile::tempdir().unwrap();
    let job = |output: &str| {
        format!(
            "[[job]]\nmode = \"still\"\ninput = \"noise\"\noutput = \"{output}\"\nwidth = 48\nsteps = 1\noctaves = 1\n\
             iterations = 1\ndevice = \"cpu\"\nthreads = 1\n"
        )
    };
    let manifest = dir.path().join("m.toml");
    std::fs::write(&manifest, job("new/deeper/a.png")).unwrap();
    let out = dreamreel().args(["batch", arg(&manifest), "--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(image::image_dimensions(dir.path().join("new/deeper/a.png")).unwrap(), (48, 48));
    // A file where the folder should be: refused before the first job, naming it; nothing runs.
    std::fs::write(dir.path().join("blocked"), "a file").unwrap();
    std::fs::write(&manifest, job("first.png") + &job("blocked/b.png")).unwrap();
    let out = dreamreel().args(["batch", arg(&manifest)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("job 2: ") && stderr.contains("blocked' is a file"), "{stderr}");
    assert!(!dir.path().join("first.png").exists());
}
