//! The render queue: each render is the `dreamreel` command the page shows, run as a child
//! process of this same program in the folder, one at a time. So a render is exactly what the
//! command line or a batch would render, Stop is Ctrl-C (SIGINT: the child finishes its frame,
//! keeps its checkpoint and exits 130) and Resume is the same command with its resume option.
//! The child reports into two files in its own work folder (progress JSON, latest frame PNG).
use crate::error::{Error, Result};
use crate::studio::guard::Folder;
use crate::studio::look::{CommandLine, shell_line};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// Where a render is.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Running,
    /// Asked to stop: finishing its frame and its checkpoint.
    Stopping,
    /// Stopped with its checkpoint kept: Resume continues it.
    Stopped,
    Done,
    Failed,
}

/// One render of the queue.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Render {
    pub id: u64,
    pub state: State,
    /// The command as the page shows it (run in the folder).
    pub command: String,
    /// The output, relative to the folder.
    pub output: String,
    /// Resuming from its checkpoint (after a stop).
    pub resume: bool,
    /// The last line the render wrote (its error, when it failed).
    pub message: Option<String>,
    pub exit_code: Option<i32>,
    #[serde(skip)]
    words: Vec<String>,
    #[serde(skip)]
    pid: Option<u32>,
}

struct Shared {
    renders: Mutex<Vec<Render>>,
    wake: Condvar,
}

/// The queue and its runner thread.
pub struct Queue {
    shared: Arc<Shared>,
    folder: Folder,
}

impl Queue {
    /// The queue, and the thread that runs its renders one after another with `program`.
    pub fn start(folder: Folder, program: PathBuf, command_line: Arc<dyn CommandLine>) -> Queue {
        let shared = Arc::new(Shared { renders: Mutex::new(Vec::new()), wake: Condvar::new() });
        let runner = (Arc::clone(&shared), folder.clone());
        let _ = std::thread::Builder::new()
            .name("render queue".into())
            .spawn(move || run_queue(&runner.0, &runner.1, &program, &*command_line));
        Queue { shared, folder }
    }

    /// Queues the command `words` (the program's name first) that writes `output`.
    pub fn push(&self, words: Vec<String>, output: String) -> u64 {
        let mut renders = lock(&self.shared.renders);
        let id = renders.last().map_or(1, |r| r.id + 1);
        renders.push(Render {
            id,
            state: State::Queued,
            command: shell_line(&words),
            output,
            resume: false,
            message: None,
            exit_code: None,
            words,
            pid: None,
        });
        self.shared.wake.notify_all();
        id
    }

    pub fn list(&self) -> Vec<Render> {
        lock(&self.shared.renders).clone()
    }

    /// The progress the render's child last reported (JSON), if any.
    pub fn progress(&self, id: u64) -> Option<serde_json::Value> {
        let path =
            self.folder.root().join(crate::studio::guard::WORK_FOLDER).join(render_folder(id)).join("progress.json");
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// The latest frame the render's child dreamed, as PNG.
    pub fn preview(&self, id: u64) -> Option<Vec<u8>> {
        let path =
            self.folder.root().join(crate::studio::guard::WORK_FOLDER).join(render_folder(id)).join("preview.png");
        std::fs::read(path).ok()
    }

    /// Stop: Ctrl-C to a running render (it keeps its checkpoint), a queued one leaves the queue.
    pub fn stop(&self, id: u64) -> Result<()> {
        let mut renders = lock(&self.shared.renders);
        let render = find(&mut renders, id)?;
        match (&render.state, render.pid) {
            (State::Running, Some(pid)) => {
                interrupt(pid)?;
                render.state = State::Stopping;
            }
            (State::Queued, _) => render.state = State::Stopped,
            (state, _) => return Err(Error::setting("render", format!("render {id} is {state:?}, not running"))),
        }
        Ok(())
    }

    /// Resume: a stopped or failed render queued again, continuing from its checkpoint.
    pub fn resume(&self, id: u64) -> Result<()> {
        let mut renders = lock(&self.shared.renders);
        let render = find(&mut renders, id)?;
        if !matches!(render.state, State::Stopped | State::Failed) {
            return Err(Error::setting(
                "render",
                format!("render {id} is {:?}: only a stopped render resumes", render.state),
            ));
        }
        render.state = State::Queued;
        render.resume = true;
        render.message = None;
        render.exit_code = None;
        self.shared.wake.notify_all();
        Ok(())
    }

    /// Ctrl-C to every running render (the studio is closing): each keeps its checkpoint.
    pub fn stop_all(&self) {
        for render in lock(&self.shared.renders).iter_mut().filter(|r| r.state == State::Running) {
            if let Some(pid) = render.pid
                && interrupt(pid).is_ok()
            {
                render.state = State::Stopping;
            }
        }
    }
}

fn find(renders: &mut [Render], id: u64) -> Result<&mut Render> {
    renders.iter_mut().find(|r| r.id == id).ok_or_else(|| Error::setting("render", format!("no render {id}")))
}

fn render_folder(id: u64) -> String {
    format!("renders/{id}")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(unix)]
fn interrupt(pid: u32) -> Result<()> {
    // SAFETY: kill(2) with a child's pid and SIGINT touches no memory of ours.
    let sent = unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    match sent {
        0 => Ok(()),
        _ => {
            Err(Error::internal(format!("cannot interrupt render process {pid}: {}", std::io::Error::last_os_error())))
        }
    }
}

#[cfg(not(unix))]
fn interrupt(pid: u32) -> Result<()> {
    Err(Error::internal(format!("stopping render process {pid} needs a Unix signal")))
}

fn run_queue(shared: &Shared, folder: &Folder, program: &Path, command_line: &dyn CommandLine) {
    loop {
        let (id, words, resume) = {
            let mut renders = lock(&shared.renders);
            loop {
                if let Some(next) = renders.iter_mut().find(|r| r.state == State::Queued) {
                    next.state = State::Running;
                    break (next.id, next.words.clone(), next.resume);
                }
                renders = shared.wake.wait(renders).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        let outcome = run_one(folder, program, command_line, id, &words, resume, &|pid| {
            if let Some(render) = lock(&shared.renders).iter_mut().find(|r| r.id == id) {
                render.pid = Some(pid);
            }
        });
        let mut renders = lock(&shared.renders);
        if let Some(render) = renders.iter_mut().find(|r| r.id == id) {
            render.pid = None;
            let (state, code, message) = match outcome {
                Ok((code, last_line)) => {
                    let state = match code {
                        Some(0) => State::Done,
                        Some(130) => State::Stopped,
                        _ => State::Failed,
                    };
                    (state, code, last_line)
                }
                Err(error) => (State::Failed, None, Some(error.to_string())),
            };
            render.state = state;
            render.exit_code = code;
            render.message = message;
        }
    }
}

/// Runs render `id` to its end: its exit code and the last line it wrote.
fn run_one(
    folder: &Folder,
    program: &Path,
    command_line: &dyn CommandLine,
    id: u64,
    words: &[String],
    resume: bool,
    started: &dyn Fn(u32),
) -> Result<(Option<i32>, Option<String>)> {
    let work = folder.work(&render_folder(id))?;
    let (progress, preview, log) = (work.join("progress.json"), work.join("preview.png"), work.join("log.txt"));
    for stale in [&progress, &preview] {
        let _ = std::fs::remove_file(stale);
    }
    let log_file = std::fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
    let mut child = Command::new(program)
        .args(words.iter().skip(1))
        .args(command_line.watched(resume, &progress, &preview))
        .current_dir(folder.root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| Error::io(program, e))?;
    started(child.id());
    let status = child.wait().map_err(|e| Error::io(program, e))?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let last = text.lines().rev().find(|line| !line.trim().is_empty()).map(|line| line.trim().to_string());
    Ok((status.code().or_else(|| signal_code(&status)), last))
}

#[cfg(unix)]
fn signal_code(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal().map(|signal| 128 + signal)
}

#[cfg(not(unix))]
fn signal_code(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}
