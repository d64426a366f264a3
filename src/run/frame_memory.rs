//! Whether a job's frame can be dreamed at all, decided from its size before the first dream: a
//! side under the network's least is refused, and so is a CPU dream that would need more memory
//! than the machine has available (it would swap for hours or be killed), unless `--tile` dreams
//! the frame in pieces.
use crate::engine::objective::MIN_SIDE;
use crate::error::{Error, Result, mention};
use crate::job::render_job::Job;

/// What a CPU dream takes beside its frame: the process, libtorch and the network (about 560 MB
/// measured with Lite0).
const BASE_BYTES: u64 = 560 << 20;

/// What a CPU dream takes per pixel of its frame: the network's activations and their gradients
/// at the largest octave. Measured as the peak RSS of `still --iterations 1 --device cpu` with
/// Lite0 (`/usr/bin/time -v`) at 960, 1600 and 2400 pixels wide (1.3, 2.5 and 5.0 GB): 1.07 to
/// 1.18 KB a pixel over the base.
const BYTES_PER_PIXEL: u64 = 1150;

/// The memory a CPU dream of a `width` x `height` frame needs, by the measure above.
pub fn dream_bytes(width: u32, height: u32) -> u64 {
    BASE_BYTES + BYTES_PER_PIXEL * u64::from(width) * u64::from(height)
}

/// Refuses a frame of `width` x `height` that `job` cannot dream: too small for the network, or
/// (on the CPU, without `--tile`) needing more memory than is available.
pub(crate) fn check_frame(job: &Job, width: u32, height: u32) -> Result<()> {
    if i64::from(width.min(height)) < MIN_SIDE {
        let why = format!("a {width}x{height} frame is too small to dream: it needs at least {MIN_SIDE} pixels a side");
        // The input's own size when no --width was given: name the file, and what would help.
        return Err(match (job.frame_format().width, job.source().file()) {
            (None, Some(input)) => {
                Error::input(input, format!("{why}: give a larger {} to scale it up", mention("width")))
            }
            _ => Error::setting("width", why),
        });
    }
    let on_cpu = crate::model::device::resolve_device(job.dream().device()).is_ok_and(|d| d == tch::Device::Cpu);
    if job.dream().tile().is_some() || !on_cpu {
        return Ok(());
    }
    let Some(available) = crate::run::test_hooks::memory_limit().or_else(available_bytes) else { return Ok(()) };
    let needed = dream_bytes(width, height);
    if needed <= available {
        return Ok(());
    }
    let gb = |bytes: u64| bytes as f64 / 1e9;
    Err(Error::setting(
        "tile",
        format!(
            "a {width}x{height} frame's dream needs about {:.1} GB and {:.1} GB is available: give {} 512 \
             (dreams the frame in pieces) or a smaller {}",
            gb(needed),
            gb(available),
            mention("tile"),
            mention("width")
        ),
    ))
}

/// The memory this process may still take: the kernel's `MemAvailable`, or less under a cgroup's
/// limit (a Slurm job, a container). `None` when neither can be read.
fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kilobytes = meminfo.lines().find_map(|line| line.strip_prefix("MemAvailable:"))?;
    let available = kilobytes.trim().trim_end_matches("kB").trim().parse::<u64>().ok()? * 1024;
    // A cgroup's limit less the memory its processes hold (not its page cache, which is given back).
    let max = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|t| t.trim().parse::<u64>().ok());
    let stat = std::fs::read_to_string("/sys/fs/cgroup/memory.stat").unwrap_or_default();
    let anon = stat.lines().find_map(|line| line.strip_prefix("anon ")?.trim().parse::<u64>().ok()).unwrap_or(0);
    let cgroup_left = max.map(|max| max.saturating_sub(anon));
    Some(cgroup_left.map_or(available, |left| left.min(available)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_the_pixels() {
        // The measured peaks: 2400x1600 took 5.0 GB, and the 5000x3326 reached 11 GB and more.
        assert!((4.5e9..5.5e9).contains(&(dream_bytes(2400, 1600) as f64)));
        assert!(dream_bytes(5000, 3326) > 11_000_000_000);
        assert!(available_bytes().is_some_and(|bytes| bytes > 0));
    }
}
