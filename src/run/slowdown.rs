//! Test hooks that slow a pipeline stage down, so tests can interrupt a render while a slow
//! decoder or encoder holds it up: `DREAMREEL_SLOW_DECODE_MS` and `DREAMREEL_SLOW_ENCODE_MS` add
//! that many milliseconds after each decoded or encoded frame, `DREAMREEL_SLOW_JOIN_MS` before the
//! segments are joined into the output. Unset, they cost one load.
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Copy)]
pub(crate) enum Stage {
    Decode,
    Encode,
    Join,
}

/// Sleeps for the stage's delay, if a test set one.
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
