//! Reliability through the binary: every bad input is refused in one line naming the file or
//! option (exit 2; 1 for failures while working), never a panic, never a broken or clobbered
//! output; odd but valid inputs render; Ctrl-C, kills and a full disk lose no finished work.
#![cfg(feature = "video")]

use crate::common::{checkpoint_frames, dreamreel_process, ffmpeg, finish};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The quickest dream: one octave of one step, on the CPU.
const TINY: [&str; 8] = ["--octaves", "1", "--iterations", "1", "--device", "cpu", "--threads", "1"];

/// (frames counted by decoding, width, height) of the first video stream, by ffprobe.
fn probe_video(path: &Path) -> (u64, u32, u32) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames,width,height", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stream = &json["streams"][0];
    let frames = stream["nb_read_frames"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    (frames, stream["width"].as_u64().unwrap_or(0) as u32, stream["height"].as_u64().unwrap_or(0) as u32)
}

/// Temporary files, work folders and locks of dreamreel left in `folder`.
fn leftovers(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else { return vec![] };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".dreamreel"))
        .collect()
}

/// What is wrong with an error's stderr: empty when it is one line holding `expected`, no panic.
fn message_problems(stderr: &str, expected: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !stderr.contains(expected) {
        problems.push(format!("expected '{expected}'"));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") || stderr.contains("terminate called") {
        problems.push("panic text".into());
    }
    if stderr.trim_end().lines().count() != 1 {
        problems.push("not one line".into());
    }
    problems
}

/// Waits until the running render's checkpoint records more than `after` frames; returns the count.
fn wait_for_checkpoint(child: &mut Child, output: &Path, after: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no checkpoint past {after} frames appeared");
        assert!(child.try_wait().unwrap().is_none(), "the render ended before it could be stopped");
        if let Some(done) = checkpoint_frames(output).filter(|&done| done > after) {
            return done;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends SIGINT, as Ctrl-C does.
fn interrupt(child: &Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// What a case must do.
enum Expect {
    /// Exit with this code and one line holding the text; the output as it was before.
    Fails(i32, String),
    /// Succeed, writing an output of this size (and, for a video, this many frames; 0: some).
    Renders { size: (u32, u32), frames: Option<u64> },
}

struct Case {
    name: &'static str,
    /// The arguments before `-o OUTPUT` and the quick settings (all of them for `batch`).
    args: Vec<OsString>,
    output: PathBuf,
    expect: Expect,
}

fn fails(code: i32, text: impl Into<String>) -> Expect {
    Expect::Fails(code, text.into())
}

/// The inputs of the table, made in `media`: clips by the ffmpeg CLI, stills by `image`.
fn make_media(media: &Path) {
    let path = |name: &str| media.join(name).to_str().unwrap().to_string();
    let clip = path("clip.mp4");
    let source = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=12", "-f", "lavfi", "-i", "sine", "-t", "0.5"];
    ffmpeg(&[&source[..], &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", &clip]].concat());
    // Moov at the end: half the file has no index; moov first: half the file holds some frames.
    let bytes = std::fs::read(&clip).unwrap();
    std::fs::write(media.join("truncated.mp4"), &bytes[..bytes.len() / 2]).unwrap();
    let faststart = path("faststart.mp4");
    ffmpeg(&[&source[..], &["-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart", &faststart]].concat());
    let bytes = std::fs::read(&faststart).unwrap();
    std::fs::write(media.join("truncated-faststart.mp4"), &bytes[..bytes.len() / 2]).unwrap();
    ffmpeg(&["-f", "lavfi", "-i", "sine", "-t", "0.5", &path("tone.m4a")]);
    std::fs::write(media.join("notes.mp4"), "not a video\n").unwrap();
    std::fs::write(media.join("empty.mp4"), "").unwrap();
    std::fs::write(media.join("empty.png"), "").unwrap();
    std::fs::create_dir(media.join("folder.mp4")).unwrap();
    ffmpeg(&["-i", &clip, "-vf", "crop=63:47", "-c:v", "libx264", "-pix_fmt", "yuv444p", &path("odd.mp4")]);
    // Frames 40 ms apart, then 100 ms apart.
    let vfr = "settb=1/1000,setpts='if(lt(N,4),N*0.04,0.16+(N-4)*0.1)/TB'";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=25",
        "-frames:v",
        "8",
        "-vf",
        vfr,
        "-fps_mode",
        "passthrough",
        "-enc_time_base:v",
        "1/1000",
        "-c:v",
        "libx264",
        &path("vfr.mkv"),
    ]);
    // Stored 64x48, shown turned a quarter: frames come out upright, 48x64.
    ffmpeg(&["-i", &clip, "-metadata:s:v", "rotate=90", "-c", "copy", &path("rotated.mp4")]);
    let (w, h) = (49, 37);
    let grey = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 5 + y * 3) as u8]));
    grey.save(media.join("grey.png")).unwrap();
    let rgba = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x * 5) as u8, (y * 6) as u8, 90, (x + y) as u8]));
    rgba.save(media.join("rgba.png")).unwrap();
    let deep = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        image::Rgb([(x * 1300) as u16, (y * 1700) as u16, 40000])
    });
    deep.save(media.join("rgb16.png")).unwrap();
    let deep_grey_alpha = image::ImageBuffer::<image::LumaA<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        image::LumaA([((x + y) * 700) as u16, 65535])
    });
    image::DynamicImage::ImageLumaA16(deep_grey_alpha).to_rgba16().save(media.join("rgba16.tiff")).unwrap();
    let png = std::fs::read(media.join("rgb16.png")).unwrap();
    std::fs::write(media.join("truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(media.join("previous.mp4"), "a previous complete render").unwrap();

    let presets = [
        ("type.toml", "octaves = \"four\"\n"),
        ("key.toml", "description = \"x\"\noctave_scale = 1.2\n"),
        ("range.toml", "step = 0.1\noctaves = 0\n"),
        ("syntax.toml", "octaves = = 1\n"),
    ];
    for (name, text) in presets {
        std::fs::write(media.join(name), text).unwrap();
    }
    let job = |extra: &str| format!("[[job]]\nmode = \"still\"\ninput = \"grey.png\"\noutput = \"m.png\"\n{extra}\n");
    let manifests = [
        ("m-type.toml", job("octaves = \"x\"")),
        ("m-key.toml", job("bogus = 1")),
        ("m-range.toml", job("jitter = 5000")),
        ("m-negative.toml", job("iterations = -3")),
        ("m-preset.toml", job("preset = \"nosuch\"")),
        ("m-mode.toml", job("").replace("\"still\"", "\"film\"")),
        ("m-list.toml", "job = 3\n".into()),
    ];
    for (name, text) in manifests {
        std::fs::write(media.join(name), text).unwrap();
    }
}

/// Builds an argument list from strings and paths.
macro_rules! args {
    ($($arg:expr),* $(,)?) => { vec![$(OsString::from($arg)),*] };
}

#[test]
fn bad_input_is_one_line_and_odd_input_renders() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    make_media(&media);
    let m = |name: &str| media.join(name);
    let chelsea = PathBuf::from("samples/chelsea.png");
    // Each case writes into its own folder, so leftovers are its own.
    let mut number = 0;
    let mut out = |name: &str| {
        number += 1;
        let folder = dir.path().join(format!("out{number}"));
        std::fs::create_dir(&folder).unwrap();
        folder.join(name)
    };
    let read_only = out("x.mp4").parent().unwrap().to_owned();
    let mut permissions = std::fs::metadata(&read_only).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&read_only, permissions).unwrap();
    let gpu = Path::new("/dev/nvidia0").exists();

    let mut cases = vec![
        // Inputs.
        Case {
            name: "still input missing",
            output: out("o.png"),
            args: args!["still", m("missing.png")],
            expect: fails(2, "missing.png: no such file"),
        },
        Case {
            name: "video input missing",
            output: out("o.mp4"),
            args: args!["video", m("missing.mp4")],
            expect: fails(2, "missing.mp4: file not found"),
        },
        Case {
            name: "zoom input missing",
            output: out("o.mp4"),
            args: args!["zoom", m("missing.png"), "--frames", "2"],
            expect: fails(2, "missing.png: no such file"),
        },
        // Tests run as root, which reads a chmod 000 file anyway: a folder stands in for an unreadable input.
        Case {
            name: "video input is a folder",
            output: out("o.mp4"),
            args: args!["video", m("folder.mp4")],
            expect: fails(2, "folder.mp4: holds no numbered images"),
        },
        Case {
            name: "still input is a folder",
            output: out("o.png"),
            args: args!["still", m("folder.mp4")],
            expect: fails(2, "folder.mp4: cannot read"),
        },
        Case {
            name: "video input empty",
            output: out("o.mp4"),
            args: args!["video", m("empty.mp4")],
            expect: fails(2, "empty.mp4: file is empty"),
        },
        Case {
            name: "still input empty",
            output: out("o.png"),
            args: args!["still", m("empty.png")],
            expect: fails(2, "empty.png: the file is empty"),
        },
        Case {
            name: "video input not media",
            output: out("o.mp4"),
            args: args!["video", m("notes.mp4")],
            expect: fails(2, "notes.mp4: not a media file"),
        },
        Case {
            name: "still input not an image",
            output: out("o.png"),
            args: args!["still", m("notes.mp4")],
            expect: fails(2, "notes.mp4: not an image"),
        },
        Case {
            name: "video input truncated",
            output: out("o.mp4"),
            args: args!["video", m("truncated.mp4")],
            expect: fails(2, "truncated.mp4: not a media file"),
        },
        Case {
            name: "still input truncated",
            output: out("o.png"),
            args: args!["still", m("truncated.png")],
            expect: fails(2, "truncated.png: not an image"),
        },
        Case {
            name: "video input audio only",
            output: out("o.mp4"),
            args: args!["video", m("tone.m4a")],
            expect: fails(2, "tone.m4a: no video stream (audio only)"),
        },
        Case {
            name: "bad input keeps a previous output",
            output: m("previous.mp4"),
            args: args!["video", m("notes.mp4")],
            expect: fails(2, "notes.mp4: not a media file"),
        },
        // Outputs.
        Case {
            name: "video output folder missing",
            output: dir.path().join("nowhere/o.mp4"),
            args: args!["video", m("clip.mp4")],
            expect: fails(2, "nowhere/o.mp4: folder '"),
        },
        Case {
            name: "still output folder missing",
            output: dir.path().join("nowhere/o.png"),
            args: args!["still", &chelsea],
            expect: fails(2, "does not exist"),
        },
        Case {
            name: "video output folder read-only",
            output: read_only.join("o.mp4"),
            args: args!["video", m("clip.mp4")],
            expect: fails(2, "is not writable"),
        },
        Case {
            name: "still output folder read-only",
            output: read_only.join("o.png"),
            args: args!["still", &chelsea],
            expect: fails(2, "is not writable"),
        },
        Case {
            name: "video output extension unknown",
            output: out("o.xyz"),
            args: args!["video", m("clip.mp4")],
            expect: fails(2, "o.xyz: no output format for extension .xyz"),
        },
        Case {
            name: "zoom output extension unknown",
            output: out("o.xyz"),
            args: args!["zoom", &chelsea, "--frames", "2", "--width", "48"],
            expect: fails(2, "o.xyz: no output format for extension .xyz"),
        },
        Case {
            name: "still output extension unknown",
            output: out("o.mp4"),
            args: args!["still", &chelsea],
            expect: fails(2, "o.mp4: the extension names no image format"),
        },
        Case {
            name: "video output is the input",
            output: m("clip.mp4"),
            args: args!["video", m("clip.mp4")],
            expect: fails(2, "is the input file"),
        },
        Case {
            name: "still output is the input",
            output: m("grey.png"),
            args: args!["still", m("grey.png")],
            expect: fails(2, "is the input file"),
        },
        // Presets.
        Case {
            name: "preset value of the wrong type",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", m("type.toml")],
            expect: fails(2, "type.toml:1: octaves: invalid type"),
        },
        Case {
            name: "preset unknown key",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", m("key.toml")],
            expect: fails(2, "key.toml:2: unknown key 'octave_scale'"),
        },
        Case {
            name: "preset value out of range",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", m("range.toml")],
            expect: fails(2, "range.toml:2: octaves: 0 must be at least 1"),
        },
        Case {
            name: "preset syntax error",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", m("syntax.toml")],
            expect: fails(2, "syntax.toml:1: "),
        },
        Case {
            name: "preset name missing",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", "nosuch"],
            expect: fails(2, "--preset: no preset 'nosuch'"),
        },
        Case {
            name: "preset file missing",
            output: out("o.png"),
            args: args!["still", &chelsea, "--preset", m("nosuch.toml")],
            expect: fails(2, "nosuch.toml: no such preset file"),
        },
        // Manifests (their output, m.png, is beside them).
        Case {
            name: "manifest value of the wrong type",
            output: m("m.png"),
            args: args!["batch", m("m-type.toml")],
            expect: fails(2, "m-type.toml:5: job 1: octaves: invalid type"),
        },
        Case {
            name: "manifest unknown key",
            output: m("m.png"),
            args: args!["batch", m("m-key.toml")],
            expect: fails(2, "m-key.toml:5: job 1: unknown key 'bogus'"),
        },
        Case {
            name: "manifest value out of range",
            output: m("m.png"),
            args: args!["batch", m("m-range.toml")],
            expect: fails(2, "m-range.toml:5: job 1: jitter: 5000 is more than 1024"),
        },
        Case {
            name: "manifest negative steps",
            output: m("m.png"),
            args: args!["batch", m("m-negative.toml")],
            expect: fails(2, "m-negative.toml:5: job 1: iterations: -3 must be a whole number, 0 or more"),
        },
        Case {
            name: "manifest preset name missing",
            output: m("m.png"),
            args: args!["batch", m("m-preset.toml")],
            expect: fails(2, "m-preset.toml:5: job 1: preset: no preset 'nosuch'"),
        },
        Case {
            name: "manifest unknown mode",
            output: m("m.png"),
            args: args!["batch", m("m-mode.toml")],
            expect: fails(2, "m-mode.toml:2: job 1: mode: 'film'"),
        },
        Case {
            name: "manifest job not a table",
            output: m("m.png"),
            args: args!["batch", m("m-list.toml")],
            expect: fails(2, "m-list.toml:1: job: must be a list"),
        },
        Case {
            name: "manifest missing",
            output: m("m.png"),
            args: args!["batch", m("nosuch.toml")],
            expect: fails(2, "nosuch.toml: no such manifest"),
        },
        // Settings.
        Case {
            name: "layer the model lacks",
            output: out("o.png"),
            args: args!["still", &chelsea, "--layers", "blocks.99"],
            expect: fails(2, "--layers: 'blocks.99' is not a layer of lite0"),
        },
        Case {
            name: "layer the model lacks (video)",
            output: out("o.mp4"),
            args: args!["video", m("clip.mp4"), "--layers", "blocks.8,nope"],
            expect: fails(2, "--layers: 'nope' is not a layer"),
        },
        Case {
            name: "zero octaves",
            output: out("o.png"),
            args: args!["still", &chelsea, "--octaves", "0"],
            expect: fails(2, "--octaves: 0 must be at least 1"),
        },
        Case {
            name: "negative octaves",
            output: out("o.png"),
            args: args!["still", &chelsea, "--octaves", "-2"],
            expect: fails(2, "'--octaves <OCTAVES>'"),
        },
        Case {
            name: "negative iterations",
            output: out("o.mp4"),
            args: args!["zoom", "noise", "--width", "48", "--height", "32", "--frames", "2", "--iterations", "-1"],
            expect: fails(2, "--iterations: -1 must be a whole number, 0 or more"),
        },
        Case {
            name: "negative step",
            output: out("o.png"),
            args: args!["still", &chelsea, "--step", "-1"],
            expect: fails(2, "--step: -1 must be between 0 and 10"),
        },
        Case {
            name: "misspelt option",
            output: out("o.png"),
            args: args!["still", &chelsea, "--octave", "2"],
            expect: fails(2, "'--octave'"),
        },
        Case {
            name: "output option missing",
            output: out("o.png"),
            args: args!["still", &chelsea],
            expect: fails(2, "required arguments were not provided: --output <OUTPUT>"),
        },
        // Odd but valid inputs render at the expected size.
        Case {
            name: "grey still of odd size",
            output: out("o.png"),
            args: args!["still", m("grey.png")],
            expect: Expect::Renders { size: (49, 37), frames: None },
        },
        Case {
            name: "RGBA still",
            output: out("o.jpg"),
            args: args!["still", m("rgba.png")],
            expect: Expect::Renders { size: (49, 37), frames: None },
        },
        Case {
            name: "16-bit still",
            output: out("o.tiff"),
            args: args!["still", m("rgb16.png")],
            expect: Expect::Renders { size: (49, 37), frames: None },
        },
        Case {
            name: "16-bit RGBA TIFF still",
            output: out("o.png"),
            args: args!["still", m("rgba16.tiff"), "--width", "48"],
            expect: Expect::Renders { size: (48, 36), frames: None },
        },
        // H.264 in yuv420p needs even sizes: odd frames lose their last column and row.
        Case {
            name: "video of odd size",
            output: out("o.mp4"),
            args: args!["video", m("odd.mp4")],
            expect: Expect::Renders { size: (62, 46), frames: Some(6) },
        },
        Case {
            name: "variable frame rate video",
            output: out("o.mp4"),
            args: args!["video", m("vfr.mkv")],
            expect: Expect::Renders { size: (64, 48), frames: Some(8) },
        },
        Case {
            name: "rotated video",
            output: out("o.mkv"),
            args: args!["video", m("rotated.mp4")],
            expect: Expect::Renders { size: (48, 64), frames: Some(6) },
        },
        Case {
            name: "truncated video with its index first",
            output: out("o.mp4"),
            args: args!["video", m("truncated-faststart.mp4")],
            expect: Expect::Renders { size: (64, 48), frames: Some(0) },
        },
    ];
    if gpu {
        eprintln!("skipping `--device cuda` with no GPU: this machine has one");
    } else {
        cases.push(Case {
            name: "cuda with no GPU",
            output: out("o.png"),
            args: args!["still", &chelsea, "--device", "cuda"],
            expect: fails(2, "--device: 'cuda' asked for CUDA, but no CUDA GPU is available"),
        });
    }

    let mut failures = Vec::new();
    for case in &cases {
        let before = std::fs::read(&case.output).ok();
        let mut command = dreamreel_process();
        command.args(&case.args);
        if case.name == "output option missing" {
            command.args(TINY);
        } else if case.args[0] != "batch" {
            command.arg("-o").arg(&case.output).arg("--quiet");
            // The quick settings, less those the case gives itself (clap refuses an option twice).
            for pair in TINY.chunks(2) {
                if !case.args.iter().any(|a| a == pair[0]) {
                    command.args(pair);
                }
            }
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        match &case.expect {
            Expect::Fails(code, expected) => {
                if out.status.code() != Some(*code) {
                    problems.push(format!("exit {:?}, expected {code}", out.status.code()));
                }
                problems.extend(message_problems(&stderr, expected));
                if std::fs::read(&case.output).ok() != before {
                    problems.push("the output changed".into());
                }
            }
            Expect::Renders { size, frames } => {
                if !out.status.success() {
                    problems.push(format!("exit {:?}", out.status.code()));
                }
                match frames {
                    None => match image::image_dimensions(&case.output) {
                        Ok(got) if got == *size => {}
                        got => problems.push(format!("size {got:?}, expected {size:?}")),
                    },
                    Some(frames) => {
                        let (got, width, height) = probe_video(&case.output);
                        if (width, height) != *size {
                            problems.push(format!("size {width}x{height}, expected {size:?}"));
                        }
                        if got == 0 || (*frames > 0 && got != *frames) {
                            problems.push(format!("{got} frames, expected {frames}"));
                        }
                    }
                }
            }
        }
        if let Some(folder) = case.output.parent() {
            let left = leftovers(folder);
            if !left.is_empty() {
                problems.push(format!("left behind {left:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n    stderr: {}", case.name, problems.join("; "), stderr.trim_end()));
        }
    }
    eprintln!("reliability table: {} cases run, {} failed", cases.len(), failures.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A zoom that can be stopped midway; `iterations` sets how long each frame takes.
fn tiny_zoom(output: &Path, frames: u64, iterations: u32, extra: &[&str]) -> Command {
    let mut cmd = dreamreel_process();
    cmd.args(["zoom", "samples/chelsea.png", "-o"]).arg(output);
    cmd.args(["--frames", &frames.to_string(), "--iterations", &iterations.to_string()]);
    cmd.args(["--width", "64", "--octaves", "1", "--device", "cpu", "--threads", "1", "--seed", "4", "--quiet"]);
    cmd.args(extra).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

#[test]
fn first_ctrl_c_keeps_the_checkpoint_and_a_playable_partial_file_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("dive.mp4");
    let render = |extra: &[&str]| tiny_zoom(&output, 150, 1, &[&["--checkpoint-every", "3"], extra].concat());
    let mut child = render(&[]).spawn().unwrap();
    wait_for_checkpoint(&mut child, &output, 2);
    interrupt(&child);
    let (status, stderr) = finish(child);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopping after this frame") && stderr.ends_with("dreamreel: interrupted\n"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let done = checkpoint_frames(&output).expect("the checkpoint is kept");
    // The output appears only whole; the frames so far are beside it, partial and playable.
    assert!(!output.exists(), "an interrupted render made its output");
    let partial = dir.path().join("dive.partial.mp4");
    let (frames, width, height) = probe_video(&partial);
    assert!((3..150).contains(&frames), "{frames} frames");
    assert_eq!(frames, done, "the partial file holds exactly the checkpointed frames");
    assert_eq!((width, height), (64, 42));
    assert_eq!(leftovers(dir.path()), [".dive.mp4.dreamreel"], "only the work folder stays");

    let (status, stderr) = finish(render(&["--resume"]).spawn().unwrap());
    assert!(status.success(), "{stderr}");
    assert_eq!(probe_video(&output).0, 150);
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
    assert!(!partial.exists(), "the partial file goes once the output is whole");
}

/// Starts a slow render and, just after a checkpoint, sends two quick Ctrl-Cs (or a SIGKILL).
fn stop_at_once(output: &Path, kill: bool) -> (ExitStatus, String) {
    // About a quarter of a second per frame, so both signals land inside one frame.
    // Each run replaces what the one before left: its output (-y) and its checkpoint (--restart).
    let mut child = tiny_zoom(output, 8, 40, &["--checkpoint-every", "1", "-y", "--restart"]).spawn().unwrap();
    let seen = wait_for_checkpoint(&mut child, output, 0);
    wait_for_checkpoint(&mut child, output, seen);
    if kill {
        child.kill().unwrap();
    } else {
        interrupt(&child);
        std::thread::sleep(Duration::from_millis(20));
        interrupt(&child);
    }
    finish(child)
}

#[test]
fn a_second_ctrl_c_or_a_kill_stops_at_once_leaving_nothing_broken() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("dive.mp4");
    let (status, stderr) = stop_at_once(&output, false);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!output.exists(), "nothing under the output name");

    // A previous complete render survives both a double Ctrl-C and a kill of the next one.
    let (status, stderr) = finish(tiny_zoom(&output, 2, 1, &["--restart"]).spawn().unwrap());
    assert!(status.success(), "{stderr}");
    let previous = std::fs::read(&output).unwrap();
    let (status, stderr) = stop_at_once(&output, false);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(std::fs::read(&output).unwrap(), previous, "a double Ctrl-C clobbered the previous output");
    let (status, _) = stop_at_once(&output, true);
    assert_eq!(status.code(), None, "killed");
    assert_eq!(std::fs::read(&output).unwrap(), previous, "a kill clobbered the previous output");
    assert!(checkpoint_frames(&output).is_some_and(|done| done >= 2), "the checkpoint survives");

    let (status, stderr) = finish(tiny_zoom(&output, 8, 40, &["--checkpoint-every", "1", "--resume"]).spawn().unwrap());
    assert!(status.success(), "{stderr}");
    assert_eq!(probe_video(&output).0, 8);
}

/// Runs the binary with writes past `blocks` 512-byte blocks failing with EFBIG (as on a full disk).
fn with_file_size_limit(blocks: u32, args: &[&str], output: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -f {blocks}; trap '' XFSZ; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_dreamreel"))
        .args(args)
        .arg("-o")
        .arg(output)
        .args(TINY)
        .arg("--quiet")
        .env("XDG_CONFIG_HOME", "/nonexistent/dreamreel-tests")
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_is_a_clear_error_that_keeps_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // A still whose PNG is bigger than 4 KiB.
    let still = dir.path().join("big.png");
    let out = with_file_size_limit(8, &["still", "samples/chelsea.png", "--width", "96"], &still);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(message_problems(&stderr, "big.png: cannot write: File too large"), Vec::<String>::new(), "{stderr}");
    assert!(!still.exists());
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));

    // A video: its 20 KB checkpoint frame and 2 KB segments fit in 30 KiB, the joined output does not.
    let video = dir.path().join("long.mp4");
    let args = ["zoom", "samples/chelsea.png", "--width", "48", "--frames", "60", "--checkpoint-every", "4"];
    let out = with_file_size_limit(60, &args, &video);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(message_problems(&stderr, "long.mp4: "), Vec::<String>::new(), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(!video.exists());
    assert_eq!(checkpoint_frames(&video), Some(60), "the checkpoint is intact");
    assert_eq!(leftovers(dir.path()), [".long.mp4.dreamreel"]);
    let out =
        dreamreel_process().args(args).arg("-o").arg(&video).args(TINY).args(["--quiet", "--resume"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(probe_video(&video).0, 60);
}

#[test]
fn two_renders_of_different_outputs_at_once_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = [dir.path().join("a.mp4"), dir.path().join("b.mkv")];
    let children: Vec<Child> =
        outputs.iter().map(|output| tiny_zoom(output, 12, 1, &["--checkpoint-every", "3"]).spawn().unwrap()).collect();
    for child in children {
        let (status, stderr) = finish(child);
        assert!(status.success(), "{stderr}");
    }
    for output in &outputs {
        assert_eq!(probe_video(output), (12, 64, 42), "{}", output.display());
    }
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}
