//! `dreamreel batch` through the binary: failures stay in their job, reruns skip finished work,
//! shards split a manifest, bad manifests are named by file and line.

use crate::common::dreamreel;
use std::path::Path;

/// A tiny still job: quick settings on the CPU.
fn still(input: &str, output: &str) -> String {
    format!(
        "[[job]]\nmode = \"still\"\ninput = \"{input}\"\noutput = \"{output}\"\npreset = \"classic\"\n\
         width = 48\noctaves = 1\niterations = 1\ndevice = \"cpu\"\n\n"
    )
}

/// A folder with the samples and `manifest.toml` holding `text`.
fn setup(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for sample in ["chelsea.png", "coffee.png"] {
        std::fs::copy(Path::new("samples").join(sample), dir.path().join(sample)).unwrap();
    }
    let manifest = dir.path().join("manifest.toml");
    std::fs::write(&manifest, text).unwrap();
    (dir, manifest)
}

/// Runs a batch; returns the exit code, stdout (the table) and stderr.
fn batch(manifest: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = dreamreel().arg("batch").arg(manifest).args(extra).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stdout, stderr)
}

/// The status column of job `number` in a summary table.
fn status(table: &str, number: usize) -> String {
    let row = table.lines().find(|l| l.split_whitespace().next() == Some(&number.to_string())).unwrap();
    row.split_whitespace().nth(3).unwrap().to_string()
}

#[test]
fn a_failed_job_does_not_stop_the_others_and_reruns_skip_finished_jobs() {
    // Job 2 passes the check before the run (its input is there and its header reads) but fails
    // while working: the image is cut short after its header.
    let mut text = still("chelsea.png", "a.png") + &still("truncated.png", "b.png") + &still("coffee.png", "c.jpg");
    if cfg!(feature = "video") {
        text += "[[job]]\nmode = \"zoom\"\ninput = \"coffee.png\"\noutput = \"d.mp4\"\nframes = 2\n\
                 width = 48\noctaves = 1\niterations = 1\ndevice = \"cpu\"\n";
    }
    let (dir, manifest) = setup(&text);
    let png = std::fs::read(dir.path().join("chelsea.png")).unwrap();
    std::fs::write(dir.path().join("truncated.png"), &png[..png.len() / 4]).unwrap();
    let done = |name: &str| dir.path().join(name).is_file();
    let (code, table, stderr) = batch(&manifest, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(done("a.png") && done("c.jpg") && !done("b.png"), "{table}");
    assert!(!cfg!(feature = "video") || done("d.mp4"), "{table}");
    assert_eq!((status(&table, 1), status(&table, 2), status(&table, 3)), ("ok".into(), "failed".into(), "ok".into()));
    let failure = stderr.lines().find(|l| l.contains("failed:")).unwrap();
    assert!(failure.contains("job 2") && failure.contains("truncated.png"), "{stderr}");
    assert!(stderr.trim_end().lines().last().unwrap().contains("job 2 ("), "{stderr}");

    // The rerun skips what is done and tries the failed job again.
    let before = std::fs::metadata(dir.path().join("a.png")).unwrap().modified().unwrap();
    let (code, table, _) = batch(&manifest, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        (status(&table, 1), status(&table, 2), status(&table, 3)),
        ("skipped".into(), "failed".into(), "skipped".into())
    );
    assert_eq!(std::fs::metadata(dir.path().join("a.png")).unwrap().modified().unwrap(), before);

    // --force renders them again.
    std::fs::write(&manifest, text.replace("truncated.png", "chelsea.png")).unwrap();
    let (code, table, stderr) = batch(&manifest, &["--force", "--quiet"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.is_empty() && stderr.is_empty(), "quiet: {table}{stderr}");
    assert!(done("b.png"));
    assert_ne!(std::fs::metadata(dir.path().join("a.png")).unwrap().modified().unwrap(), before);
}

#[test]
fn shards_split_the_jobs_with_no_overlap_and_nothing_lost() {
    let names = ["1.png", "2.png", "3.png", "4.png", "5.png"];
    let text: String = names.iter().map(|name| still("chelsea.png", name)).collect();
    let (dir, manifest) = setup(&text);
    let outputs = || -> Vec<bool> { names.iter().map(|name| dir.path().join(name).is_file()).collect() };
    let (code, table, stderr) = batch(&manifest, &["--shard", "1/2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(outputs(), [true, false, true, false, true], "{table}");
    let (code, table, stderr) = batch(&manifest, &["--shard", "2/2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(outputs(), [true; 5]);
    assert!(!table.contains("skipped"), "the second shard did none of the first's jobs: {table}");
    for bad in ["0/2", "3/2", "1/0", "half"] {
        let (code, _, stderr) = batch(&manifest, &["--shard", bad]);
        assert_eq!(code, Some(2), "{bad}");
        assert!(stderr.starts_with("dreamreel: --shard: "), "{stderr}");
    }
}

#[test]
fn bad_manifests_name_the_file_line_and_job_and_run_nothing() {
    let good = still("chelsea.png", "a.png");
    let cases = [
        (format!("{good}octave_scale = 1.2\n"), "11: job 1: unknown key 'octave_scale' (did you mean 'octave-scale'?)"),
        (format!("{good}[[job]]\nmode = \"movie\"\n"), "12: job 2: mode: 'movie' must be still, zoom or video"),
        (format!("{good}[[job]]\nmode = \"still\"\ninput = \"x.png\"\n"), "11: job 2: missing key 'output'"),
        (format!("{good}jitter = -3\n"), "11: job 1: jitter: -3 must be a whole number, 0 or more"),
        (format!("{good}\n\nstep = 99\n"), "13: job 1: step: 99 must be between 0 and 10"),
        (
            format!("{good}[[job]]\nmode = \"still\"\ninput = \"x.png\"\noutput = \"y.png\"\npreset = \"loud\"\n"),
            "15: job 2: preset: no preset 'loud': use one of preview, classic, shallow, deep, gentle, zoom-rush, slow-hq, bananas, class-zoom, guided, or a .toml file",
        ),
        (format!("jobs = []\n{good}"), "1: unknown key 'jobs': a manifest holds [[job]] tables"),
    ];
    for (text, expected) in cases {
        let (dir, manifest) = setup(&text);
        let (code, table, stderr) = batch(&manifest, &[]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.trim_end(), format!("dreamreel: {}:{expected}", manifest.display()));
        assert!(table.is_empty());
        assert!(!dir.path().join("a.png").exists(), "nothing ran");
    }
}

#[test]
fn devices_are_checked_before_anything_runs() {
    let (dir, manifest) = setup(&still("chelsea.png", "a.png"));
    let (code, _, stderr) = batch(&manifest, &["--devices", "0,0"]);
    assert_eq!((code, stderr.trim_end()), (Some(2), "dreamreel: --devices: GPU 0 is listed twice"));
    if !Path::new("/dev/nvidia0").exists() {
        let (code, _, stderr) = batch(&manifest, &["--devices", "0"]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("--devices: no CUDA GPU is available on this machine"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    assert!(!dir.path().join("a.png").exists());
}

#[cfg(feature = "video")]
#[test]
fn a_batch_rerun_resumes_its_killed_job() {
    let job = "[[job]]\nmode = \"zoom\"\ninput = \"chelsea.png\"\noutput = \"dive/%04d.png\"\nframes = 40\n\
               width = 64\noctaves = 1\niterations = 2\ndevice = \"cpu\"\nthreads = 1\n";
    let (dir, manifest) = setup(job);
    let mut child = crate::common::dreamreel_process()
        .arg("batch")
        .arg(&manifest)
        .arg("--quiet")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = dir.path().join("dive/._04d.png.dreamreel/checkpoint.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !checkpoint.exists() {
        assert!(std::time::Instant::now() < deadline, "no checkpoint at {}", checkpoint.display());
        assert!(child.try_wait().unwrap().is_none(), "the batch ended before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let frames_before = std::fs::read_dir(dir.path().join("dive"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"));
    assert!(frames_before.count() < 40, "killed midway");
    let (code, _, stderr) = batch(&manifest, &["--quiet"]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut frames: Vec<_> = std::fs::read_dir(dir.path().join("dive"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    frames.sort();
    let expected: Vec<String> = (1..=40).map(|i| format!("{i:04}.png")).collect();
    assert_eq!(frames, expected, "every frame once, none missing");
    assert!(!checkpoint.exists(), "the finished job's checkpoint is gone");
}

#[test]
fn a_setting_is_worded_as_the_option_on_the_command_line_and_as_the_key_in_a_manifest() {
    // One refusal of the library, worded for each reader: `--crf` on the command line, the key at
    // its line in a manifest (a manifest user cannot type flags).
    let (dir, manifest) = setup(
        "[[job]]\nmode = \"zoom\"\ninput = \"noise\"\noutput = \"z.mp4\"\nframes = 2\nwidth = 64\ncodec = \"h264\"\ncrf = 60\n",
    );
    let (code, _, stderr) = batch(&manifest, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("manifest.toml:8: job 1: crf: 60 must be between 0 and 51 for h264"), "{stderr}");
    assert!(!stderr.contains("--"), "a manifest's error names no flag: {stderr}");
    let output = dir.path().join("z.mp4");
    let args = ["plan", "zoom", "noise", "-o", output.to_str().unwrap(), "--frames", "2", "--width", "64"];
    let out = dreamreel().args(args).args(["--codec", "h264", "--crf", "60"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim(), "dreamreel: --crf: 60 must be between 0 and 51 for h264");
    // A message that mentions another setting words it alike: `--class` here, `class` there.
    let (_still_dir, manifest) =
        setup("[[job]]\nmode = \"still\"\ninput = \"noise\"\noutput = \"s.png\"\nwidth = 48\nclass-layers = true\n");
    let (code, _, stderr) = batch(&manifest, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("job 1: class-layers: adds the layers to a class's dream: give class too"), "{stderr}");
    let picture = dir.path().join("s.png");
    let still = ["still", "noise", "-o", picture.to_str().unwrap(), "--width", "48", "--class-layers"];
    let out = dreamreel().args(still).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim(), "dreamreel: --class-layers: adds the layers to a class's dream: give --class too");
}
