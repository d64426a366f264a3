//! `dreamreel studio`: its guards through HTTP (token, Host, Origin, paths, uploads, loopback),
//! its renders against `batch` and the command line (the same frames), and a real browser
//! (headless Chromium over WebDriver) tuning a look, queueing, stopping and resuming a zoom,
//! playing it and saving a screenshot of the page.
use crate::common::{dreamreel_process, one_at_a_time, sorted_pngs};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A studio running as the binary, stopped (Ctrl-C) when dropped.
struct StudioProcess {
    child: Child,
    port: u16,
    token: String,
    url: String,
    stderr: PathBuf,
}

impl StudioProcess {
    fn start(folder: &Path, extra: &[&str], env: &[(&str, &str)]) -> StudioProcess {
        let stderr =
            folder.parent().unwrap().join(format!("studio-{}.log", folder.file_name().unwrap().to_string_lossy()));
        let mut child = dreamreel_process()
            .arg("studio")
            .arg(folder)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://"),
            "the studio printed no address: '{url}' {}",
            std::fs::read_to_string(&stderr).unwrap()
        );
        let rest = url.trim_start_matches("http://");
        let (host, after) = rest.split_once('/').unwrap();
        let port = host.rsplit_once(':').unwrap().1.parse().unwrap();
        let token = after.split_once("token=").unwrap().1.to_string();
        StudioProcess { child, port, token, url, stderr }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A request with the token and the right Host.
    fn api(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let (status, body) =
            http(self.port, method, path, &[("Host", &self.host()), ("X-Studio-Token", &self.token)], body.as_bytes());
        (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }

    /// Polls the queue until render `id` is in `state` (two minutes at most: a guard against a hang).
    fn wait_for(&self, id: u64, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, list) = self.api("GET", "/api/renders", "");
            let render = list["renders"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
            if render["state"] == state {
                return render;
            }
            assert!(render["state"] != "failed", "render {id} failed: {render}");
            assert!(Instant::now() < deadline, "render {id} never became {state}: {render}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for StudioProcess {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a plain socket (any Host and Origin, which clients usually fix):
/// the status and the body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    // A refused upload may be answered before its body is read: the rest may not go through.
    let _ = stream.write_all(body);
    // Read to the end of the body its Content-Length gives: chromedriver keeps the connection open.
    let mut response = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
        let length = head_end.and_then(|end| {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            head.lines().find_map(|line| line.strip_prefix("content-length:")?.trim().parse::<usize>().ok())
        });
        if let (Some(end), Some(length)) = (head_end, length)
            && response.len() >= end + length
        {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => response.extend_from_slice(&chunk[..read]),
        }
    }
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let start = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |at| at + 4);
    (status, response[start..].to_vec())
}

/// A folder with a small picture to dream, inside a temporary folder of its own.
fn media_folder(root: &Path, name: &str) -> PathBuf {
    let folder = root.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let cat = image::open("samples/chelsea.png").unwrap().resize(96, 96, image::imageops::FilterType::Triangle);
    cat.save(folder.join("cat.png")).unwrap();
    folder
}

#[test]
fn the_studio_refuses_what_it_must() {
    let root = tempfile::tempdir().unwrap();
    let folder = media_folder(root.path(), "media");
    std::fs::write(root.path().join("secret.txt"), b"not yours").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), folder.join("link.txt")).unwrap();
    let studio = StudioProcess::start(&folder, &["--port", "0", "--max-upload-mb", "1"], &[]);
    let host = studio.host();
    let token = studio.token.as_str();

    // The default address is loopback, and nothing answers on this machine's other address.
    assert!(studio.url.starts_with("http://127.0.0.1:"), "{}", studio.url);
    let outward = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip());
    if let Ok(ip) = outward
        .as_ref()
        .map_err(|_| ())
        .and_then(|ip| if ip.is_loopback() || ip.is_unspecified() { Err(()) } else { Ok(*ip) })
    {
        assert!(TcpStream::connect((ip, studio.port)).is_err(), "the studio answers on {ip}");
    }

    // No token: 401; a wrong one too; the right one in the header, the URL or the cookie: 200.
    assert_eq!(http(studio.port, "GET", "/api/state", &[("Host", &host)], b"").0, 401);
    assert_eq!(http(studio.port, "GET", "/", &[("Host", &host)], b"").0, 401);
    assert_eq!(http(studio.port, "GET", "/api/state", &[("Host", &host), ("X-Studio-Token", "0000")], b"").0, 401);
    assert_eq!(http(studio.port, "GET", "/api/state", &[("Host", &host), ("X-Studio-Token", token)], b"").0, 200);
    assert_eq!(http(studio.port, "GET", &format!("/?token={token}"), &[("Host", &host)], b"").0, 200);
    let cookie = format!("dreamreel_studio_token={token}");
    assert_eq!(http(studio.port, "GET", "/api/state", &[("Host", &host), ("Cookie", &cookie)], b"").0, 200);

    // Another Host (DNS rebinding) or another page's Origin: 403, even with the token.
    let rebound =
        http(studio.port, "GET", "/api/state", &[("Host", "evil.example:80"), ("X-Studio-Token", token)], b"");
    assert_eq!(rebound.0, 403);
    let cross = [("Host", host.as_str()), ("Origin", "http://evil.example"), ("X-Studio-Token", token)];
    assert_eq!(http(studio.port, "POST", "/api/renders", &cross, b"{}").0, 403);
    let own = [("Host", host.as_str()), ("Origin", &format!("http://{host}")), ("X-Studio-Token", token)];
    assert_eq!(http(studio.port, "GET", "/api/state", &own, b"").0, 200);

    // Paths: inside the folder only.
    let (status, body) = studio.api("GET", "/api/file?path=cat.png", "");
    assert_eq!(status, 200, "{body}");
    for (path, why) in [
        ("../secret.txt", "'..'"),
        ("%2E%2E/secret.txt", "'..'"),
        ("/etc/passwd", "absolute"),
        ("link.txt", "link out"),
    ] {
        let (status, body) = studio.api("GET", &format!("/api/file?path={path}"), "");
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["error"].as_str().unwrap().contains(why), "{path}: {body}");
    }
    let look = |input: &str, output: &str| {
        serde_json::json!({"mode": "zoom", "input": input, "output": output, "frames": 2}).to_string()
    };
    for (input, output) in [("../secret.txt", "a.mp4"), ("cat.png", "../out.mp4"), ("cat.png", "/tmp/out.mp4")] {
        let (status, body) = studio.api("POST", "/api/look", &look(input, output));
        assert_eq!(status, 400, "{input} -> {output}: {body}");
    }
    assert!(!root.path().join("out.mp4").exists());

    // A range of a file, as a video element asks.
    let (status, part) = http(
        studio.port,
        "GET",
        "/api/file?path=cat.png",
        &[("Host", &host), ("X-Studio-Token", token), ("Range", "bytes=1-3")],
        b"",
    );
    assert_eq!((status, part.as_slice()), (206, &b"PNG"[..]));

    // Uploads: capped (1 MiB here), nothing left behind when refused; a small one lands in uploads/.
    let big = vec![7u8; 2 << 20];
    let headers = [("Host", host.as_str()), ("X-Studio-Token", token)];
    assert_eq!(http(studio.port, "POST", "/api/upload?name=big.png", &headers, &big).0, 413);
    assert!(!folder.join("uploads/big.png").exists());
    let small = std::fs::read(folder.join("cat.png")).unwrap();
    let (status, body) = http(studio.port, "POST", "/api/upload?name=small.png", &headers, &small);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(std::fs::read(folder.join("uploads/small.png")).unwrap(), small);
    assert_eq!(http(studio.port, "POST", "/api/upload?name=..%2Fx.png", &headers, &small).0, 400);

    // Bad input: the manifest's one-line error naming the key, never a panic.
    let bad = serde_json::json!({"mode": "zoom", "input": "cat.png", "output": "a.mp4", "frames": 2,
        "settings": {"octaves": "0"}});
    let (status, body) = studio.api("POST", "/api/look", &bad.to_string());
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("octaves: "), "{error}");
    assert_eq!(error.lines().count(), 1);
    let (status, body) = studio.api("POST", "/api/look", "{not json");
    assert_eq!(status, 400, "{body}");
    drop(studio);
    let log = std::fs::read_to_string(root.path().join("studio-media.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn listening_beyond_loopback_warns() {
    let root = tempfile::tempdir().unwrap();
    let folder = media_folder(root.path(), "wide");
    let studio = StudioProcess::start(&folder, &["--listen", "0.0.0.0:0"], &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = String::new();
    while !log.contains("at 0.0.0.0:") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        log = std::fs::read_to_string(&studio.stderr).unwrap();
    }
    assert!(log.contains("warning: --listen 0.0.0.0:0: the studio is reachable from other machines"), "{log}");
    assert!(log.contains("ssh -L"), "{log}");
}

/// The tiny seeded look the render tests dream: a 3-frame zoom of the cat at 64 px, 1 octave.
fn tiny_studio_zoom(output: &str, frames: u64) -> serde_json::Value {
    serde_json::json!({
        "mode": "zoom", "input": "cat.png", "output": output, "frames": frames,
        "settings": {"width": "64", "octaves": "1", "iterations": "2", "step": "0.05", "zoom": "1.05",
                     "seed": "7", "device": "cpu", "threads": "1", "layers": "blocks.4"}
    })
}

fn pixels(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().to_rgb8().into_raw()
}

#[test]
fn the_studio_batch_and_the_command_line_dream_the_same_frames() {
    let root = tempfile::tempdir().unwrap();
    let folder = media_folder(root.path(), "same");
    let studio = StudioProcess::start(&folder, &["--port", "0"], &[]);
    let look = tiny_studio_zoom("studio/%03d.png", 3);
    let (status, exports) = studio.api("POST", "/api/look", &look.to_string());
    assert_eq!(status, 200, "{exports}");
    let (status, queued) = studio.api("POST", "/api/renders", &look.to_string());
    assert_eq!(status, 200, "{queued}");
    let done = studio.wait_for(queued["id"].as_u64().unwrap(), "done");
    assert_eq!(done["progress"]["done"], 3, "{done}");
    assert_eq!(done["command"], exports["command"]);

    // The exported command line, run by hand in the folder (to another output).
    let mut words: Vec<String> = serde_json::from_value(exports["words"].clone()).unwrap();
    assert_eq!(words[0], "dreamreel");
    let at = words.iter().position(|w| w == "-o").unwrap();
    words[at + 1] = "cli/%03d.png".into();
    let status = dreamreel_process().args(&words[1..]).current_dir(&folder).stderr(Stdio::null()).status().unwrap();
    assert!(status.success());

    // The exported manifest line, run by `batch` (to a third output).
    let manifest = exports["manifest"].as_str().unwrap().replace("studio/%03d.png", "batch/%03d.png");
    std::fs::write(folder.join("jobs.toml"), &manifest).unwrap();
    let status = dreamreel_process().args(["batch", "jobs.toml", "-q"]).current_dir(&folder).status().unwrap();
    assert!(status.success(), "{manifest}");

    let frames = |name: &str| sorted_pngs(&folder.join(name));
    assert_eq!(frames("studio").len(), 3);
    for ((studio_frame, cli_frame), batch_frame) in frames("studio").iter().zip(frames("cli")).zip(frames("batch")) {
        assert_eq!(pixels(studio_frame), pixels(&cli_frame), "{}", studio_frame.display());
        assert_eq!(pixels(studio_frame), pixels(&batch_frame), "{}", studio_frame.display());
    }
    // The preset it exports is one the command line takes, and it dreams the same frames.
    std::fs::write(folder.join("look.toml"), exports["preset"].as_str().unwrap()).unwrap();
    let status = dreamreel_process()
        .args(["zoom", "cat.png", "-o", "preset/%03d.png", "--frames", "3", "--preset", "look.toml"])
        .current_dir(&folder)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(pixels(&frames("preset")[2]), pixels(&frames("studio")[2]));
}

/// A WebDriver session of headless Chromium (chromedriver), ended when dropped.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    fn start() -> Browser {
        for program in ["chromium", "chromedriver"] {
            let found = std::process::Command::new("sh").args(["-c", &format!("command -v {program}")]).output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "{program} is missing: the studio's browser test needs Debian's chromium and chromium-driver \
                 (scripts/test.sh installs them: apt-get install chromium chromium-driver)"
            );
        }
        let port = free_port();
        let driver = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut browser = Browser { driver, port, session: String::new() };
        let capabilities = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1050", "--autoplay-policy=no-user-gesture-required"]}}}});
        let created = browser.call("POST", "/session", capabilities);
        browser.session = created["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
        browser
    }

    fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let body = if method == "GET" { String::new() } else { body.to_string() };
        let host = format!("127.0.0.1:{}", self.port);
        let headers = [("Host", host.as_str()), ("Content-Type", "application/json")];
        let (status, answer) = http(self.port, method, path, &headers, body.as_bytes());
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    fn session(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn script(&self, script: &str) -> serde_json::Value {
        self.session("POST", "/execute/sync", serde_json::json!({"script": script, "args": []}))
    }

    /// Clicks the element `css` as a user would (WebDriver scrolls to it and clicks its centre).
    fn click(&self, css: &str) {
        let found = self.session("POST", "/element", serde_json::json!({"using": "css selector", "value": css}));
        let id = found.as_object().and_then(|o| o.values().next()).and_then(|v| v.as_str()).unwrap().to_string();
        self.session("POST", &format!("/element/{id}/click"), serde_json::json!({}));
    }

    /// Waits until `script` (an expression) is true in the page (two minutes at most).
    fn wait_until(&self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.script(&format!("return !!({expression});")) != serde_json::Value::Bool(true) {
            let page = self.script(
                "return document.getElementById('error').textContent + ' | renders: ' + \
                 document.querySelector('#renders tbody').innerText.replace(/\\s+/g, ' ');",
            );
            assert!(Instant::now() < deadline, "the page never showed {what}; its error line and renders: {page}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, path: &Path) {
        let encoded = self.session("GET", "/screenshot", serde_json::Value::Null);
        std::fs::write(path, base64_decoded(encoded.as_str().unwrap())).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let host = format!("127.0.0.1:{}", self.port);
            let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), &[("Host", &host)], b"");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decoded(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| acc | (u32::from(value(c)) << (18 - 6 * i)));
        out.extend(bits.to_be_bytes()[1..chunk.len()].iter());
    }
    out
}

#[test]
fn a_browser_tunes_a_look_queues_a_zoom_stops_resumes_and_plays_it() {
    let _cores = one_at_a_time();
    let root = tempfile::tempdir().unwrap();
    let folder = media_folder(root.path(), "browser");
    // Each frame's encoding slowed, so the test sees the render running before it ends.
    let studio = StudioProcess::start(&folder, &["--port", "0"], &[("DREAMREEL_SLOW_ENCODE_MS", "1500")]);
    let browser = Browser::start();
    browser.session("POST", "/url", serde_json::json!({"url": studio.url}));
    browser.wait_until(
        "the folder's files",
        "[...document.querySelectorAll('#input option')].some(o => o.value === 'cat.png')",
    );

    // Tune a look on the tiny still: its octaves appear as they finish.
    browser.script(
        "const set = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); };
         set('input', 'cat.png'); set('octaves', '2'); set('iterations', '2'); set('layers', 'blocks.4');
         set('seed', '7'); set('device', 'cpu'); set('preview-width', '96');",
    );
    browser.click("#preview-button");
    browser.wait_until(
        "the preview's two octaves",
        "document.querySelectorAll('#preview-pictures img').length === 2 && \
         [...document.querySelectorAll('#preview-pictures img')].every(i => i.complete && i.naturalWidth > 0) && \
         document.getElementById('preview-status').textContent.startsWith('done')",
    );

    // Queue a 6-frame zoom (1 octave), see its progress and live frame, stop it, resume it.
    browser.script(
        "const set = (id, v) => { document.getElementById(id).value = v; };
         set('mode', 'zoom'); set('frames', '6'); set('octaves', '1'); set('zoom', '1.05'); set('width', '64');
         set('output', 'renders/zoom.mp4');",
    );
    browser.click("#queue-button");
    browser.wait_until(
        "the command line",
        "document.getElementById('export-command').textContent.startsWith('dreamreel zoom cat.png')",
    );
    browser.wait_until(
        "progress and the live frame",
        "(() => { const row = document.querySelector('#renders tr[data-id=\"1\"]'); if (!row) return false;
                  const live = row.querySelector('img.live');
                  return row.dataset.state === 'running' && /^[1-5]\\/6 frames/.test(row.querySelector('.progress').textContent)
                         && live.complete && live.naturalWidth > 0; })()",
    );
    browser.click("#renders tr[data-id=\"1\"] button.stop");
    browser.wait_until(
        "the render stopped",
        "document.querySelector('#renders tr[data-id=\"1\"]').dataset.state === 'stopped'",
    );
    let output = folder.join("renders/zoom.mp4");
    let kept = crate::common::checkpoint_frames(&output).expect("the stopped render kept its checkpoint");
    assert!((1..6).contains(&kept), "checkpoint at {kept} frames");
    browser.click("#renders tr[data-id=\"1\"] button.resume");
    browser
        .wait_until("the render done", "document.querySelector('#renders tr[data-id=\"1\"]').dataset.state === 'done'");
    let log = std::fs::read_to_string(folder.join(".dreamreel-studio/renders/1/log.txt")).unwrap();
    assert!(log.contains(&format!("resumed from a checkpoint: {kept} frames were done before")), "{log}");

    // The finished output plays in the page.
    browser.wait_until(
        "the output playing",
        "(() => { const v = document.querySelector('#renders tr[data-id=\"1\"] video');
                  return v && v.readyState >= 2 && v.duration > 0.2 && !v.error; })()",
    );
    browser.wait_until(
        "the live frame of the end",
        "document.querySelector('#renders tr[data-id=\"1\"] .progress').textContent.startsWith('6/6')",
    );
    // The plan's plot.
    browser.click("#plan-button");
    browser.wait_until("the plan's plot", "document.getElementById('plan-img').naturalWidth > 0");
    browser.click("#export-button");
    browser.wait_until("the preset", "document.getElementById('export-preset').textContent.includes('octaves = 1')");
    let shot = root.path().join("studio.png");
    browser.screenshot(&shot);
    let picture = image::open(&shot).unwrap();
    assert!(picture.width() >= 1000, "screenshot {}x{}", picture.width(), picture.height());
    if std::env::var_os("DREAMREEL_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        std::fs::copy(&shot, "docs/studio.png").unwrap();
    }
}
