//! Presets through the binary: each shipped one renders, flags override them, bad files are named.

use crate::common::{dreamreel, refused_exactly};
use std::collections::HashSet;
use std::path::Path;

/// Shrinks any preset to a quick render, leaving its model, layers, step and jitter alone.
const TINY: [&str; 8] = ["--width", "48", "--octaves", "1", "--iterations", "1", "--device", "cpu"];

/// The names `dreamreel presets` lists (with no user presets).
fn shipped_names(config: &Path) -> Vec<String> {
    let out = dreamreel().arg("presets").env("XDG_CONFIG_HOME", config).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().map(|line| line.split_whitespace().next().unwrap().to_string()).collect()
}

/// `presets show` output, which must itself parse as TOML.
fn show(args: &[&str]) -> toml::Table {
    let out = dreamreel().args(["presets", "show"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

#[test]
fn every_shipped_preset_renders_with_its_own_network_and_layers() {
    let dir = tempfile::tempdir().unwrap();
    let names = shipped_names(dir.path());
    assert!(names.len() >= 6, "{names:?}");
    let mut looks = HashSet::new();
    let mut renders = HashSet::new();
    for name in &names {
        let settings = show(&[name]);
        looks.insert(format!(
            "{} {} {} {} {:?} {:?}",
            settings["model"],
            settings["layers"],
            settings["step"],
            settings["jitter"],
            settings.get("class"),
            settings.get("blur")
        ));
        let out = dir.path().join(format!("{name}.png"));
        dreamreel()
            .args(["still", "samples/chelsea.png", "-o"])
            .arg(&out)
            .args(["--preset", name, "--quiet"])
            .args(TINY)
            .assert()
            .success();
        let image = image::open(&out).unwrap().to_rgb8();
        assert_eq!(image.width(), 48, "{name}");
        renders.insert(image.into_raw());
    }
    // Presets that dream differently (network, layers, step, jitter, class) give different pictures.
    assert_eq!(renders.len(), looks.len(), "{names:?}");
    assert!(looks.len() >= 5, "{looks:?}");
}

#[test]
fn flags_override_the_preset_and_show_parses_back() {
    let classic = show(&["classic"]);
    let overridden = show(&["deep", "--octaves", "7", "--step", "0.05"]);
    assert_eq!(overridden["octaves"].as_integer(), Some(7));
    assert_eq!(overridden["step"].as_float(), Some(0.05));
    assert_eq!(overridden["layers"].as_str(), Some("blocks.14"), "the rest is the preset's");
    assert_ne!(overridden["layers"], classic["layers"]);

    // What `show` prints is a preset file that gives the same settings again.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let text = dreamreel().args(["presets", "show", "zoom-rush", "--seed", "9"]).output().unwrap().stdout;
    std::fs::write(&file, &text).unwrap();
    let again = dreamreel().args(["presets", "show"]).arg(&file).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), String::from_utf8(text).unwrap());
}

#[test]
fn bad_preset_files_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let out = dir.path().join("x.png");
    let out = out.to_str().unwrap();
    let cases = [
        (
            "unknown.toml",
            "description = \"x\"\noctave_scale = 1.2\n",
            "2: unknown key 'octave_scale' (did you mean 'octave-scale'?)",
        ),
        (
            "type.toml",
            "# wrong type\n\nstrength = 1\n",
            "3: unknown key 'strength': keys are the long option names, such as octave-scale",
        ),
        (
            "string.toml",
            "layers = \"stem\"\niterations = \"ten\"\n",
            "2: iterations: at character 1 of 'ten': unknown name 'ten' (use t, s, n, max_f, loud, beat, bass, mid, high, bpm, pi, tau)",
        ),
        ("range.toml", "step = 0.01\n\noctaves = 0\n", "3: octaves: 0 must be at least 1"),
        ("syntax.toml", "octaves = 4\nstep = \n", "2: string values must be quoted, expected literal string"),
    ];
    for (name, text, expected) in cases {
        let path = write(name, text);
        refused_exactly(&["still", "samples/chelsea.png", "-o", out, "--preset", &path], &format!("{path}:{expected}"));
        refused_exactly(&["presets", "show", &path], &format!("{path}:{expected}"));
    }
    refused_exactly(
        &["still", "samples/chelsea.png", "-o", out, "--preset", "nosuch"],
        "--preset: no preset 'nosuch': use one of preview, classic, shallow, deep, gentle, zoom-rush, slow-hq, bananas, class-zoom, guided, fast-zoom, or a .toml file",
    );
    assert!(!Path::new(out).exists());
}

#[test]
fn user_presets_are_listed_marked_and_win_over_shipped_ones() {
    let config = tempfile::tempdir().unwrap();
    let folder = config.path().join("dreamreel").join("presets");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("classic.toml"), "description = \"my classic\"\noctaves = 2\n").unwrap();
    std::fs::write(folder.join("mine.toml"), "description = \"all mine\"\nlayers = \"stem\"\n").unwrap();
    let out = dreamreel().arg("presets").env("XDG_CONFIG_HOME", config.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |name: &str| text.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap().to_string();
    assert!(line("classic").contains("my classic") && line("classic").contains("(user"), "{text}");
    assert!(line("mine").contains("all mine") && line("mine").contains("(user"), "{text}");
    assert!(!line("deep").contains("(user"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("classic ")).count(), 1, "{text}");
    let shown =
        dreamreel().args(["presets", "show", "classic"]).env("XDG_CONFIG_HOME", config.path()).output().unwrap();
    let shown: toml::Table = toml::from_str(&String::from_utf8(shown.stdout).unwrap()).unwrap();
    assert_eq!(shown["octaves"].as_integer(), Some(2));
}
