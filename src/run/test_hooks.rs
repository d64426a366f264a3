//! The test suite's hooks, in one place: the only seam through which a test reaches into a
//! render (no other production code reads a test variable). Unset, each costs one load.
//! - `DREAMREEL_SLOW_DECODE_MS`, `DREAMREEL_SLOW_ENCODE_MS`: that many milliseconds after each
//!   decoded or encoded frame, `DREAMREEL_SLOW_JOIN_MS` before the segments are joined into the
//!   output, so tests can interrupt a render while a slow stage holds it up.
//! - `DREAMREEL_PART_WARMUP_FRAMES`: the warm-up of a part that starts inside a shot, instead of
//!   `crate::run::parts::WARMUP_FRAMES` (`scripts/seam-bench.sh` measures the seam at each).
//! - `DREAMREEL_TEST_DEVICES_ON_CPU=1`: `--devices` runs its workers with each job's own device,
//!   so parallel jobs (threads, bars, Ctrl-C) are tested on machines without GPUs.
//! - `DREAMREEL_MEMORY_LIMIT_BYTES`: the memory a frame's dream may take, in place of what the
//!   machine has available, so the memory refusal is tested without a frame that needs gigabytes.
//! - `DREAMREEL_TEST_FAIL_SOUND_MUX=1`: the final join fails when it has sound to mux, as a
//!   sound the muxer refuses would, so tests can resume such a render with `--no-audio`.
use std::sync::OnceLock;
#[cfg(feature = "video")]
use std::time::Duration;

#[cfg(feature = "video")]
#[derive(Clone, Copy)]
pub(crate) enum Stage {
    Decode,
    Encode,
    Join,
}

/// Sleeps for the stage's delay, if a test set one.
#[cfg(feature = "video")]
pub(crate) fn pause(stage: Stage) {
    static DELAYS: OnceLock<[Option<Duration>; 3]> = OnceLock::new();
    let delays = DELAYS.get_or_init(|| {
        let read = |name: &str| std::env::var(name).ok()?.parse().ok().map(Duration::from_millis);
        [read("DREAMREEL_SLOW_DECODE_MS"), read("DREAMREEL_SLOW_ENCODE_MS"), read("DREAMREEL_SLOW_JOIN_MS")]
    });
    if let Some(delay) = delays[stage as usize] {
        std::thread::sleep(delay);
    }
}

/// Whether `--devices` workers keep each job's own device (the CPU) instead of `cuda:N`.
pub(crate) fn devices_on_cpu() -> bool {
    static ON_CPU: OnceLock<bool> = OnceLock::new();
    *ON_CPU.get_or_init(|| std::env::var_os("DREAMREEL_TEST_DEVICES_ON_CPU").is_some_and(|v| v == "1"))
}

/// The warm-up of a part that starts inside a shot, when a measurement sets one.
#[cfg(feature = "video")]
pub(crate) fn part_warmup() -> Option<u64> {
    static WARMUP: OnceLock<Option<u64>> = OnceLock::new();
    *WARMUP.get_or_init(|| std::env::var("DREAMREEL_PART_WARMUP_FRAMES").ok()?.parse().ok())
}

/// The memory limit a test set for a frame's dream, if any.
pub(crate) fn memory_limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| std::env::var("DREAMREEL_MEMORY_LIMIT_BYTES").ok()?.parse().ok())
}

/// Whether a test asked the final join to fail when it muxes sound.
#[cfg(feature = "video")]
pub(crate) fn fail_sound_mux() -> bool {
    static FAIL: OnceLock<bool> = OnceLock::new();
    *FAIL.get_or_init(|| std::env::var_os("DREAMREEL_TEST_FAIL_SOUND_MUX").is_some_and(|v| v == "1"))
}
