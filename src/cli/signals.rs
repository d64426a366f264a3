//! Ctrl-C and SIGTERM for the binary. The first asks the render to finish its frame, close its
//! files and keep its checkpoint; a second one stops at once. SIGTERM is what Slurm sends at a
//! time limit, on `scancel` and on preemption, so it acts as the first Ctrl-C and exits 143.
//!
//! The handler is installed first thing in `main`, so a signal at any moment after the start ends
//! the process with 130 or 143, never by the signal itself. Until a command polls the flag (a
//! render, a batch), a signal stops the process at once: it has written nothing yet.
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static CANCEL: AtomicBool = AtomicBool::new(false);
/// The first signal received (0: none yet): it decides the exit code.
static FIRST: AtomicI32 = AtomicI32::new(0);
/// Whether a command polls [`CANCEL`]: before that, a signal ends the process at once.
static POLLED: AtomicBool = AtomicBool::new(false);

/// Returns the flag the library polls; from now on a first signal asks the work to stop cleanly.
pub fn cancel_on_signals() -> &'static AtomicBool {
    install();
    POLLED.store(true, Ordering::SeqCst);
    &CANCEL
}

/// Starts listening for SIGINT and SIGTERM (once): the first thing `main` does.
pub fn install() {
    static LISTEN: Once = Once::new();
    LISTEN.call_once(|| match Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            let listener = std::thread::Builder::new().name("signals".into()).spawn(move || {
                for signal in signals.forever() {
                    on_signal(signal);
                }
            });
            if let Err(e) = listener {
                eprintln!("dreamreel: cannot watch for Ctrl-C ({e}): it will stop the render at once");
            }
        }
        Err(e) => eprintln!("dreamreel: cannot watch for Ctrl-C ({e}): it will stop the render at once"),
    });
}

fn on_signal(signal: i32) {
    let name = if signal == SIGTERM { "SIGTERM" } else { "Ctrl-C" };
    if FIRST.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        eprintln!("dreamreel: {name} again: stopped at once");
        exit_at_once(128 + signal);
    }
    if !POLLED.load(Ordering::SeqCst) {
        // Nothing polls the flag yet (arguments, the network loading): nothing written to clean up.
        eprintln!("\ndreamreel: {name}: stopped");
        exit_at_once(128 + signal);
    }
    CANCEL.store(true, Ordering::SeqCst);
    eprintln!("\ndreamreel: {name}: stopping after this frame (again to stop at once)");
}

/// The exit code of an interrupted run: 130 after Ctrl-C, 143 after SIGTERM; others unchanged.
pub fn exit_code(code: u8) -> u8 {
    match FIRST.load(Ordering::SeqCst) {
        signal if code == 130 && signal == SIGTERM => 128 + SIGTERM as u8,
        _ => code,
    }
}

/// Ends the process without running exit handlers: `std::process::exit` runs libtorch's static
/// destructors while the dream thread still uses them, which crashed (SIGSEGV) on a second Ctrl-C.
fn exit_at_once(code: i32) -> ! {
    unsafe extern "C" {
        fn _exit(code: i32) -> !;
    }
    // SAFETY: _exit only ends the process; every output is a temporary name until renamed.
    unsafe { _exit(code) }
}
