//! The studio's HTTP server: a few threads taking requests from `tiny_http` (synchronous, no
//! async runtime: the work is a preview thread and child processes, not many connections).
//! Every request passes [`Access::check`] first; the API answers JSON, its errors one line.
use crate::error::{Error, Result};
use crate::studio::guard::{Access, Folder, Refusal, TOKEN_COOKIE, TOKEN_NAME, WORK_FOLDER};
use crate::studio::look::{CommandLine, Look, output_of};
use crate::studio::preview::Previewer;
use crate::studio::queue::Queue;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tiny_http::{Header, Method, Request, Response};

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/studio.js");
const STYLE: &str = include_str!("assets/studio.css");

/// The largest JSON body the API reads.
const JSON_LIMIT: usize = 1 << 20;
/// Threads answering requests (a preview's pictures, progress, a video's ranges at once).
const WORKERS: usize = 4;

/// How a studio is started.
pub struct StudioOptions {
    pub folder: PathBuf,
    pub listen: SocketAddr,
    /// The largest upload, in bytes.
    pub max_upload: u64,
    /// The program whose commands render the queue (this one).
    pub program: PathBuf,
    /// The token; a random one when `None`.
    pub token: Option<String>,
}

/// A running studio.
pub struct Studio {
    server: Arc<tiny_http::Server>,
    state: Arc<Served>,
    address: SocketAddr,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// What the request threads share.
struct Served {
    folder: Folder,
    access: Access,
    max_upload: u64,
    previewer: Previewer,
    queue: Queue,
    command_line: Arc<dyn CommandLine>,
    plot: Mutex<Option<Vec<u8>>>,
}

impl Studio {
    /// Binds the address and starts serving `options.folder`.
    pub fn start(options: StudioOptions, command_line: Arc<dyn CommandLine>) -> Result<Studio> {
        let folder = Folder::open(&options.folder)?;
        let server = tiny_http::Server::http(options.listen)
            .map_err(|e| Error::setting("listen", format!("cannot listen on {}: {e}", options.listen)))?;
        let address =
            server.server_addr().to_ip().ok_or_else(|| Error::internal("the studio listens on no IP address"))?;
        let token = options.token.unwrap_or_else(Access::random_token);
        let access = Access::new(token, address.ip(), address.port());
        let queue = Queue::start(folder.clone(), options.program, Arc::clone(&command_line));
        let state = Arc::new(Served {
            folder,
            access,
            max_upload: options.max_upload,
            previewer: Previewer::start(),
            queue,
            command_line,
            plot: Mutex::new(None),
        });
        let server = Arc::new(server);
        let workers = (0..WORKERS)
            .filter_map(|n| {
                let (server, state) = (Arc::clone(&server), Arc::clone(&state));
                std::thread::Builder::new().name(format!("studio {n}")).spawn(move || serve(&server, &state)).ok()
            })
            .collect();
        Ok(Studio { server, state, address, workers })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The page's address with the token, to open in a browser.
    pub fn url(&self) -> String {
        let host = match self.address.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => "127.0.0.1".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        format!("http://{host}:{}/?{TOKEN_NAME}={}", self.address.port(), self.state.access.token())
    }

    /// Serves until `stop` is set; then running renders get Ctrl-C and keep their checkpoints.
    pub fn wait(self, stop: &std::sync::atomic::AtomicBool) {
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        self.state.queue.stop_all();
        self.server.unblock();
        for _ in 1..WORKERS {
            self.server.unblock();
        }
        for worker in self.workers {
            let _ = worker.join();
        }
    }
}

fn serve(server: &tiny_http::Server, state: &Served) {
    while let Ok(request) = server.recv() {
        answer(request, state);
    }
}

/// What a route answers.
enum Reply {
    Json(u16, serde_json::Value),
    Bytes(&'static str, Vec<u8>),
    /// A file under the folder, a byte range of it when asked (a video seeks).
    File(PathBuf),
    /// The page, with the token's cookie set when it came in the URL.
    Page(bool),
}

fn header<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str())
}

fn answer(mut request: Request, state: &Served) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let (path, query) = (path.to_string(), query.to_string());
    let checked = state.access.check(
        header(&request, "Host"),
        header(&request, "Origin"),
        header(&request, "Cookie"),
        header(&request, "X-Studio-Token"),
        Some(&query),
    );
    let reply = match checked {
        Err(Refusal::Forbidden(why)) => Reply::Json(403, serde_json::json!({ "error": why })),
        Err(Refusal::Unauthorized) => Reply::Json(
            401,
            serde_json::json!({ "error": "this studio needs its token: open the address it printed, with ?token=" }),
        ),
        Ok(()) => route(&mut request, state, &path, &query).unwrap_or_else(|(status, error)| {
            Reply::Json(status, serde_json::json!({ "error": error.to_string().replace('\n', " ") }))
        }),
    };
    let range = header(&request, "Range").map(str::to_string);
    let response = match reply {
        Reply::Json(status, value) => bytes_response(status, "application/json", value.to_string().into_bytes()),
        Reply::Bytes(kind, bytes) => bytes_response(200, kind, bytes),
        Reply::Page(set_cookie) => {
            let response = bytes_response(200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec());
            match set_cookie {
                true => {
                    let cookie = format!("{TOKEN_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", state.access.token());
                    with_header(response, "Set-Cookie", &cookie)
                }
                false => response,
            }
        }
        Reply::File(path) => match file_response(&path, range.as_deref()) {
            Ok(response) => response,
            Err(error) => bytes_response(
                500,
                "application/json",
                serde_json::json!({ "error": error.to_string() }).to_string().into_bytes(),
            ),
        },
    };
    // A browser that went away is no error of ours.
    let _ = request.respond(response);
}

/// Adds a header; one that is not ASCII (never ours) is left out rather than failing the answer.
fn with_header<R: Read>(mut response: Response<R>, name: &str, value: &str) -> Response<R> {
    if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
        response.add_header(header);
    }
    response
}

fn bytes_response(status: u16, kind: &str, bytes: Vec<u8>) -> Response<std::io::Cursor<Vec<u8>>> {
    let response = Response::from_data(bytes).with_status_code(status);
    let response = with_header(response, "Content-Type", kind);
    let response = with_header(response, "Cache-Control", "no-store");
    with_header(response, "X-Content-Type-Options", "nosniff")
}

/// A file, whole or the one byte range `range` asks (`bytes=START-[END]`).
fn file_response(path: &Path, range: Option<&str>) -> Result<Response<std::io::Cursor<Vec<u8>>>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let kind = content_type(path);
    let asked = range.and_then(|r| r.trim().strip_prefix("bytes=")).and_then(|r| {
        let (start, end) = r.split_once('-')?;
        let start: u64 = start.trim().parse().ok()?;
        let end: u64 = match end.trim() {
            "" => size.checked_sub(1)?,
            end => end.parse::<u64>().ok()?.min(size.checked_sub(1)?),
        };
        (start <= end).then_some((start, end))
    });
    let (status, start, length) = match asked {
        Some((start, end)) => (206, start, end - start + 1),
        None => (200, 0, size),
    };
    let mut bytes = Vec::with_capacity(length as usize);
    file.seek(SeekFrom::Start(start)).map_err(|e| Error::io(path, e))?;
    file.take(length).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    let response = with_header(bytes_response(status, kind, bytes), "Accept-Ranges", "bytes");
    Ok(match status {
        206 => with_header(response, "Content-Range", &format!("bytes {start}-{}/{size}", start + length - 1)),
        _ => response,
    })
}

fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "json" => "application/json",
        "toml" | "txt" => "text/plain; charset=utf-8",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

type Routed = std::result::Result<Reply, (u16, Error)>;

/// A mistake of the page's request: 400, its one-line error.
fn bad(error: Error) -> (u16, Error) {
    let status = match error {
        Error::Internal(_) | Error::Torch(_) | Error::Io { .. } | Error::Write { .. } => 500,
        _ => 400,
    };
    (status, error)
}

fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decoded(value))
    })
}

/// `%2F` and `+` as the characters they stand for.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request's JSON body, at most [`JSON_LIMIT`] bytes.
fn json_body<T: serde::de::DeserializeOwned>(request: &mut Request) -> std::result::Result<T, (u16, Error)> {
    let mut text = Vec::new();
    let read = request.as_reader().take(JSON_LIMIT as u64 + 1).read_to_end(&mut text);
    if read.is_err() || text.len() > JSON_LIMIT {
        return Err((413, Error::setting("body", format!("a request body is at most {JSON_LIMIT} bytes"))));
    }
    serde_json::from_slice(&text).map_err(|e| (400, Error::setting("body", format!("not the JSON expected: {e}"))))
}

fn route(request: &mut Request, state: &Served, path: &str, query: &str) -> Routed {
    let get = *request.method() == Method::Get || *request.method() == Method::Head;
    let post = *request.method() == Method::Post;
    match (path, get, post) {
        ("/", true, _) => Ok(Reply::Page(param(query, TOKEN_NAME).is_some())),
        ("/studio.js", true, _) => Ok(Reply::Bytes("text/javascript; charset=utf-8", SCRIPT.as_bytes().to_vec())),
        ("/studio.css", true, _) => Ok(Reply::Bytes("text/css; charset=utf-8", STYLE.as_bytes().to_vec())),
        ("/api/state", true, _) => Ok(Reply::Json(200, overview(state))),
        ("/api/file", true, _) => {
            let name = param(query, "path").unwrap_or_default();
            let path = state.folder.existing(&name).map_err(|e| (403, e))?;
            if !path.is_file() {
                return Err((404, Error::input(name, "not a file")));
            }
            Ok(Reply::File(path))
        }
        ("/api/look", _, true) => {
            let look: Look = json_body(request)?;
            let exports = look.exports(&state.folder, &*state.command_line).map_err(bad)?;
            Ok(Reply::Json(200, serde_json::to_value(exports).unwrap_or_default()))
        }
        ("/api/preview", _, true) => {
            #[derive(serde::Deserialize)]
            struct Asked {
                look: Look,
                width: Option<u32>,
            }
            let asked: Asked = json_body(request)?;
            let width = asked.width.unwrap_or(256).clamp(32, 1024);
            let job = asked.look.as_preview(width).job(&state.folder).map_err(bad)?;
            let id = state.previewer.request(job).map_err(bad)?;
            Ok(Reply::Json(200, serde_json::json!({ "id": id })))
        }
        ("/api/preview", true, _) => {
            Ok(Reply::Json(200, serde_json::to_value(state.previewer.state()).unwrap_or_default()))
        }
        ("/api/preview/picture", true, _) => {
            let id = param(query, "id").and_then(|v| v.parse().ok()).unwrap_or(0);
            let index = param(query, "n").and_then(|v| v.parse().ok()).unwrap_or(0);
            match state.previewer.picture(id, index) {
                Some(png) => Ok(Reply::Bytes("image/png", png)),
                None => Err((404, Error::setting("preview", format!("no picture {index} of preview {id}")))),
            }
        }
        ("/api/plan", _, true) => plan(request, state),
        ("/api/plan.png", true, _) => match state.plot.lock().map(|p| p.clone()).unwrap_or(None) {
            Some(png) => Ok(Reply::Bytes("image/png", png)),
            None => Err((404, Error::setting("plan", "no plan drawn yet"))),
        },
        ("/api/deforum", _, true) => deforum(request, state),
        ("/api/motion", _, true) => motion(request, state),
        ("/api/upload", _, true) => upload(request, state, query),
        ("/api/renders", true, _) => {
            let renders: Vec<serde_json::Value> = state
                .queue
                .list()
                .into_iter()
                .map(|render| {
                    let progress = state.queue.progress(render.id);
                    let mut value = serde_json::to_value(&render).unwrap_or_default();
                    value["progress"] = progress.unwrap_or(serde_json::Value::Null);
                    if render.state == crate::studio::queue::State::Done {
                        value["frames"] = sequence_frames(&state.folder, &render.output).into();
                    }
                    value
                })
                .collect();
            Ok(Reply::Json(200, serde_json::json!({ "renders": renders })))
        }
        ("/api/renders", _, true) => {
            let look: Look = json_body(request)?;
            if look.mode == "still" {
                return Err((400, Error::setting("mode", "the queue renders zoom and video jobs: preview a still")));
            }
            let table = look.table(&state.folder).map_err(bad)?;
            // The output's folder, as a user would make it before the command (inside the folder).
            let target = state.folder.writable(&output_of(&table).to_string_lossy()).map_err(bad)?;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| bad(Error::io(parent, e)))?;
            }
            crate::studio::look::job_of(&table, &state.folder).map_err(bad)?;
            let words = state.command_line.words(&table).map_err(bad)?;
            let id = state.queue.push(words, output_of(&table).to_string_lossy().into_owned());
            Ok(Reply::Json(200, serde_json::json!({ "id": id })))
        }
        (path, get, post) if path.starts_with("/api/renders/") => {
            let rest = &path["/api/renders/".len()..];
            let (id, action) = rest.split_once('/').unwrap_or((rest, ""));
            let id: u64 = id.parse().map_err(|_| (404, Error::setting("render", format!("no render '{id}'"))))?;
            match (action, get, post) {
                ("preview.png", true, _) => match state.queue.preview(id) {
                    Some(png) => Ok(Reply::Bytes("image/png", png)),
                    None => Err((404, Error::setting("render", format!("render {id} has dreamed no frame yet")))),
                },
                ("stop", _, true) => {
                    state.queue.stop(id).map_err(|e| (409, e))?;
                    Ok(Reply::Json(200, serde_json::json!({ "id": id })))
                }
                ("resume", _, true) => {
                    state.queue.resume(id).map_err(|e| (409, e))?;
                    Ok(Reply::Json(200, serde_json::json!({ "id": id })))
                }
                _ => Err((404, Error::setting("render", format!("no such action '{action}'")))),
            }
        }
        _ => Err((404, Error::setting("path", format!("nothing at {path}")))),
    }
}

/// A few frames of the look's motion, small: a zoom or video render of at most six frames at
/// the preview's width into the studio's folder, queued as any render (the same command).
fn motion(request: &mut Request, state: &Served) -> Routed {
    #[derive(serde::Deserialize)]
    struct Asked {
        look: Look,
        width: Option<u32>,
    }
    let Asked { mut look, width } = json_body(request)?;
    if look.mode == "still" {
        return Err((400, Error::setting("mode", "a still has no motion: pick zoom or video")));
    }
    let width = width.unwrap_or(256).clamp(32, 1024);
    let asked_width = look.settings.get("width").and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()));
    look.settings.insert("width".into(), asked_width.map_or(width as u64, |w| w.min(width as u64)).into());
    look.settings.remove("height");
    look.frames = Some(look.frames.unwrap_or(MOTION_FRAMES).min(MOTION_FRAMES));
    let number = state.queue.list().len() + 1;
    // The frames' folder made here, as for any render's output folder.
    state.folder.work(&format!("motion/{number}")).map_err(bad)?;
    look.output = format!("{WORK_FOLDER}/motion/{number}/%03d.png");
    let table = look.table(&state.folder).map_err(bad)?;
    crate::studio::look::job_of(&table, &state.folder).map_err(bad)?;
    let words = state.command_line.words(&table).map_err(bad)?;
    let id = state.queue.push(words, output_of(&table).to_string_lossy().into_owned());
    Ok(Reply::Json(200, serde_json::json!({ "id": id })))
}

/// The frames a motion preview dreams.
const MOTION_FRAMES: u64 = 6;

/// The frames of an image-sequence output (`folder/%03d.png`), relative to the folder.
fn sequence_frames(folder: &Folder, output: &str) -> Vec<String> {
    let Some((parent, name)) = output.rsplit_once('/') else { return Vec::new() };
    if !name.contains('%') {
        return Vec::new();
    }
    let Ok(path) = folder.existing(parent) else { return Vec::new() };
    let mut frames: Vec<String> = std::fs::read_dir(&path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && !n.starts_with('.'))
        .map(|n| format!("{parent}/{n}"))
        .collect();
    frames.sort();
    frames
}

/// The folder's media, the presets and the models, for the page's choices.
fn overview(state: &Served) -> serde_json::Value {
    let mut files = Vec::new();
    list_files(state.folder.root(), state.folder.root(), 0, &mut files);
    let presets: Vec<serde_json::Value> = crate::config::presets::list()
        .unwrap_or_default()
        .into_iter()
        .map(|p| serde_json::json!({ "name": p.name, "description": p.description() }))
        .collect();
    let models: Vec<&str> = crate::model::kind::ModelKind::ALL.iter().map(|m| m.name()).collect();
    serde_json::json!({
        "folder": state.folder.root().display().to_string(),
        "files": files,
        "presets": presets,
        "models": models,
        "max_upload": state.max_upload,
        "video": cfg!(feature = "video"),
    })
}

/// Files under `folder` (not the studio's own, no links followed), at most 4 folders deep and 2000 in all.
fn list_files(root: &Path, folder: &Path, depth: usize, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if found.len() >= 2000 {
            return;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if name.starts_with('.') || kind.is_symlink() {
            continue;
        }
        let path = entry.path();
        if kind.is_dir() && depth < 4 {
            list_files(root, &path, depth + 1, found);
        } else if kind.is_file() {
            found.push(path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned());
        }
    }
}

/// The look's plan drawn (`plan --plot`): every frame's values of its schedules.
#[cfg(feature = "video")]
fn plan(request: &mut Request, state: &Served) -> Routed {
    let look: Look = json_body(request)?;
    if look.mode == "still" {
        return Err((400, Error::setting("mode", "a still has no plan: pick zoom or video")));
    }
    let job = look.job(&state.folder).map_err(bad)?;
    let plan = crate::run::per_frame::plan_of_job(&job).map_err(bad)?;
    crate::run::dream_setup::check_plan(job.dream(), &plan).map_err(bad)?;
    let path = state.folder.work("plan").map_err(bad)?.join("plan.png");
    crate::job::plot::draw(&plan, &path).map_err(bad)?;
    let png = std::fs::read(&path).map_err(|e| bad(Error::io(&path, e)))?;
    if let Ok(mut plot) = state.plot.lock() {
        *plot = Some(png);
    }
    Ok(Reply::Json(200, serde_json::json!({ "frames": plan.frames(), "plan": plan.json() })))
}

#[cfg(not(feature = "video"))]
fn plan(_request: &mut Request, _state: &Served) -> Routed {
    Err((400, Error::setting("plan", "this dreamreel was built without video")))
}

/// A Deforum settings file or Parseq's frames under the folder, as the settings it gives.
fn deforum(request: &mut Request, state: &Served) -> Routed {
    #[derive(serde::Deserialize)]
    struct Asked {
        path: String,
        frames: Option<u64>,
    }
    let asked: Asked = json_body(request)?;
    let path = state.folder.existing(&asked.path).map_err(bad)?;
    let settings = crate::config::deforum::read(&path, asked.frames).map_err(bad)?;
    let patch = serde_json::to_value(&settings.patch).unwrap_or_default();
    let given: serde_json::Map<String, serde_json::Value> = match patch {
        serde_json::Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => serde_json::Map::new(),
    };
    Ok(Reply::Json(
        200,
        serde_json::json!({ "settings": given, "frames": settings.frames, "ignored": settings.ignored }),
    ))
}

/// An upload into `uploads/` under the folder: at most the studio's cap (413 past it).
fn upload(request: &mut Request, state: &Served, query: &str) -> Routed {
    let name = param(query, "name").unwrap_or_default();
    let allowed = name.chars().all(|c| c.is_ascii_alphanumeric() || "._- ".contains(c));
    if name.is_empty() || name.starts_with('.') || !allowed {
        return Err((400, Error::setting("name", "an upload's name: letters, digits, '.', '_', '-' and spaces")));
    }
    let too_big = || (413, Error::setting("upload", format!("an upload is at most {} bytes", state.max_upload)));
    if request.body_length().is_some_and(|length| length as u64 > state.max_upload) {
        return Err(too_big());
    }
    let relative = format!("uploads/{name}");
    let target = state.folder.writable(&relative).map_err(|e| (403, e))?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| bad(Error::io(parent, e)))?;
    }
    // Into a temporary name, renamed when whole: a refused upload leaves nothing.
    let partial = state.folder.work("uploads").map_err(bad)?.join(format!("{name}.partial"));
    let mut file = std::fs::File::create(&partial).map_err(|e| bad(Error::io(&partial, e)))?;
    let copied = std::io::copy(&mut request.as_reader().take(state.max_upload + 1), &mut file);
    drop(file);
    match copied {
        Ok(bytes) if bytes > state.max_upload => {
            let _ = std::fs::remove_file(&partial);
            Err(too_big())
        }
        Ok(_) => {
            std::fs::rename(&partial, &target).map_err(|e| bad(Error::io(&target, e)))?;
            Ok(Reply::Json(200, serde_json::json!({ "path": relative })))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(bad(Error::io(&partial, e)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_value_is_decoded() {
        assert_eq!(percent_decoded("a%2Fb+c%20d"), "a/b c d");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(param("x=1&path=clips%2Fa.mp4", "path").as_deref(), Some("clips/a.mp4"));
    }

    #[test]
    fn studio_files_stay_out_of_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(WORK_FOLDER)).unwrap();
        std::fs::write(dir.path().join(WORK_FOLDER).join("x.png"), b"x").unwrap();
        std::fs::write(dir.path().join("a.png"), b"x").unwrap();
        let mut found = Vec::new();
        list_files(dir.path(), dir.path(), 0, &mut found);
        assert_eq!(found, ["a.png"]);
    }
}
