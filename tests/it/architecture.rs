//! The layout holds: no import circle among the library's modules, each layer importing only the
//! layers below it (`error.rs` below them all, importing none), `mod.rs` files that only declare,
//! `src/run/` never naming `Settings`, at most 13 entries under `src/`; the integration tests one
//! binary (`tests/it/`) with no figure harness or wall-time assertion in it, and no test helper
//! defined twice.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers from the top down: a file may import from its own folder's files and from the
/// folders after its own, never from one before it.
const LAYERS: [&str; 9] = ["studio", "run", "job", "config", "engine", "video", "frame", "model", "output"];

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/run/batch.rs` -> `run::batch`; `src/video/mod.rs` -> `video`.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix("src").unwrap().with_extension("");
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| *p != "mod").collect();
    parts.join("::")
}

/// The library modules a file names through `crate::` paths (in `use` lines or inline), outside
/// its unit tests, resolved to the longest module that exists.
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            if let Some(module) =
                (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|m| modules.contains(m))
            {
                found.insert(module);
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.retain(|f| !f.starts_with("src/cli") && !f.ends_with("main.rs"));
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    files
        .iter()
        .map(|file| {
            let module = module_of(file);
            let mut used = imports(&fs::read_to_string(file).unwrap(), &modules);
            used.remove(&module);
            (module, used)
        })
        .collect()
}

#[test]
fn no_module_imports_itself_back_through_others() {
    let graph = graph();
    // Depth-first search for a back edge, reporting the circle it closes.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            return Some(path[at..].iter().cloned().chain([module.to_string()]).collect());
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    assert!(graph.len() > 30, "found only {} modules", graph.len());
    for module in graph.keys() {
        if let Some(circle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let rank = |module: &str| {
        let top = module.split("::").next().unwrap();
        LAYERS.iter().position(|layer| *layer == top).unwrap_or(LAYERS.len())
    };
    let mut wrong = Vec::new();
    let graph = graph();
    // The crate's error type stands below every layer: it imports none of them (the layers'
    // own error types convert into it where they are defined).
    assert_eq!(graph.get("error"), Some(&BTreeSet::new()), "error.rs imports from the layers");
    for (module, used) in graph {
        for other in used {
            let (from, to) = (rank(&module), rank(&other));
            let same_folder = module.split("::").next() == other.split("::").next();
            if !same_folder && to <= from {
                wrong.push(format!("{module} -> {other}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports pointing up or sideways: {wrong:?}");
}

#[test]
fn mod_files_only_declare_their_modules() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mod_files: Vec<&PathBuf> = files.iter().filter(|f| f.ends_with("mod.rs")).collect();
    assert!(mod_files.len() >= 8, "found only {} mod.rs files", mod_files.len());
    let mut wrong = Vec::new();
    for file in mod_files {
        let text = fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > 40 {
            wrong.push(format!("{}: {lines} lines", file.display()));
        }
        // Doc comments, attributes, module declarations and re-exports (a `pub use {` block's
        // lines are indented), nothing else.
        let declares = |line: &str| {
            line.is_empty()
                || line.starts_with("//")
                || line.starts_with("#[")
                || line.starts_with("#![")
                || ["mod ", "pub mod ", "pub(crate) mod ", "pub use ", "pub(crate) use "]
                    .iter()
                    .any(|p| line.starts_with(p))
                || line.starts_with(' ')
                || line == "};"
        };
        if let Some(line) = text.lines().find(|line| !declares(line)) {
            wrong.push(format!("{}: '{line}'", file.display()));
        }
    }
    assert!(wrong.is_empty(), "mod.rs files that do more than declare: {wrong:?}");
}

#[test]
fn running_a_job_never_reads_the_raw_settings() {
    // `run/` asks the decided job (its source, output, dream spec and per-frame plan).
    let mut files = Vec::new();
    rust_files(Path::new("src/run"), &mut files);
    assert!(files.len() > 8, "found only {} files in src/run", files.len());
    let naming: Vec<String> = files
        .iter()
        .filter(|f| fs::read_to_string(f).unwrap().contains("Settings"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(naming.is_empty(), "src/run files naming Settings: {naming:?}");
}

#[test]
fn src_has_at_most_thirteen_entries() {
    // Twelve, and the studio: a second front end beside the command line, over the same jobs.
    let entries: Vec<String> =
        fs::read_dir("src").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(entries.len() <= 13, "{} entries under src/: {entries:?}", entries.len());
}

#[test]
fn no_test_helper_is_defined_twice() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut twice = Vec::new();
    let mut files = Vec::new();
    rust_files(Path::new("tests"), &mut files);
    rust_files(Path::new("benches"), &mut files);
    assert!(files.len() > 10, "found only {} test files", files.len());
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        // Top-level helpers only: test functions and nested helpers are each file's own.
        let mut after_test_attribute = false;
        for line in text.lines() {
            if line.starts_with("#[test]") {
                after_test_attribute = true;
                continue;
            }
            let Some(rest) = line.strip_prefix("fn ").or_else(|| line.strip_prefix("pub fn ")) else {
                if !line.starts_with("#[") {
                    after_test_attribute = false;
                }
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !after_test_attribute {
                let place = file.display().to_string();
                if let Some(first) = seen.insert(name.clone(), place.clone()) {
                    twice.push(format!("{name} in {first} and {place}"));
                }
            }
            after_test_attribute = false;
        }
    }
    assert!(twice.is_empty(), "test helpers defined twice: {twice:?}");
}

#[test]
fn the_library_needs_no_clap() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let using: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with("src/cli") && !f.ends_with("main.rs"))
        .filter(|f| fs::read_to_string(f).unwrap().contains("clap::"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(using.is_empty(), "library files using clap (offer enums through src/cli/choices.rs): {using:?}");
}

#[test]
fn the_integration_tests_are_one_binary_of_modules() {
    // Each file directly under tests/ would be a binary of its own, linking libtorch again.
    let binaries: Vec<String> = fs::read_dir("tests")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(binaries.is_empty(), "test binaries beside tests/it/: {binaries:?}");
    let main = fs::read_to_string("tests/it/main.rs").unwrap();
    let mut files = Vec::new();
    rust_files(Path::new("tests/it"), &mut files);
    let undeclared: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "main" && !main.lines().any(|line| line == format!("mod {name};")))
        .collect();
    assert!(undeclared.is_empty(), "files under tests/it/ that main.rs does not declare (never run): {undeclared:?}");
}

#[test]
fn no_test_is_a_figure_harness_or_times_itself() {
    let mut files = Vec::new();
    rust_files(Path::new("tests/it"), &mut files);
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("architecture.rs")) {
        for (number, line) in fs::read_to_string(file).unwrap().lines().enumerate() {
            // An ignored test is a figure to measure (benches/figures.rs); `elapsed()` a wall time
            // that a busy machine stretches: count frames or read the checkpoint instead.
            if line.trim_start().starts_with("#[ignore") || line.contains(".elapsed()") {
                found.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "figure harnesses or wall times in tests/it/: {found:#?}");
}

/// The string literals of Rust source `text`, outside comments (doc comments included) and
/// outside its `#[cfg(test)]` module.
fn string_literals(text: &str) -> Vec<String> {
    // The test module: a `#[cfg(..test..)]` line over a `mod`.
    let lines: Vec<&str> = text.lines().collect();
    let tests =
        lines.windows(2).position(|w| w[0].starts_with("#[cfg(") && w[0].contains("test") && w[1].starts_with("mod "));
    let code = lines[..tests.unwrap_or(lines.len())].join("\n");
    let code = code.as_str();
    let chars: Vec<char> = code.chars().collect();
    let (mut found, mut i) = (Vec::new(), 0);
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            // A char literal ('"', '\''); a lifetime ('a) has no closing quote two on.
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 3,
            'r' if matches!(chars.get(i + 1), Some('"' | '#')) && (i == 0 || !chars[i - 1].is_alphanumeric()) => {
                let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
                let start = i + 2 + hashes;
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let rest: String = chars[start.min(chars.len())..].iter().collect();
                let end = rest.find(&close).unwrap_or(rest.len());
                found.push(rest[..end].to_string());
                i = start + rest[..end].chars().count() + close.chars().count();
            }
            '"' => {
                let mut literal = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        literal.push(chars[i]);
                        i += 1;
                    }
                    if i < chars.len() {
                        literal.push(chars[i]);
                    }
                    i += 1;
                }
                found.push(literal);
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

#[test]
fn the_library_names_settings_by_key_never_by_flag() {
    // Below `cli/` a message mentions a setting's key (`error::mention`); the binary words it as
    // `--key`, a manifest as the key. Files other branches of issue 31 still reword, until merged.
    const PENDING: &[&str] = &["src/output.rs", "src/run/film.rs", "src/run/batch.rs", "src/config/schedule.rs"];
    let is_flag = |literal: &str| {
        let bytes = literal.as_bytes();
        bytes.windows(3).any(|w| w[0] == b'-' && w[1] == b'-' && w[2].is_ascii_lowercase())
    };
    assert_eq!(
        string_literals("let a = \"--zoom\"; // \"--b\"\n/// \"--c\"\nlet c = '\"'; r#\"--d\"#"),
        ["--zoom", "--d"]
    );
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut flags = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with("src/cli") && !f.ends_with("main.rs")) {
        if PENDING.iter().any(|pending| file == Path::new(pending)) {
            continue;
        }
        let text = fs::read_to_string(file).unwrap();
        for literal in string_literals(&text).into_iter().filter(|l| is_flag(l)) {
            flags.push(format!("{}: \"{literal}\"", file.display()));
        }
    }
    assert!(flags.is_empty(), "strings below src/cli naming --flags: {flags:#?}");
}
