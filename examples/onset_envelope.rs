//! Prints a sound file's onset envelope and onsets as dreamreel computes them (librosa's
//! `onset_strength` and `onset_detect`, src/frame/onsets.rs), as JSON, for scripts/onset-bench.sh
//! to compare with librosa's: `{"envelope": [...], "onsets": [seconds...]}`.
//!
//!   cargo run --release --example onset_envelope -- FILE
use dreamreel::frame::audio_signals::SAMPLE_RATE;
use dreamreel::frame::onsets::{frames_to_time, onset_detect, onset_strength};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: onset_envelope FILE");
        return ExitCode::from(2);
    };
    let samples = match dreamreel::video::decode_mono(path.as_ref(), SAMPLE_RATE, 0.0, None) {
        Ok(Some(samples)) => samples,
        Ok(None) => {
            eprintln!("onset_envelope: {} has no sound", path.to_string_lossy());
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("onset_envelope: {e}");
            return ExitCode::from(1);
        }
    };
    let envelope = onset_strength(&samples);
    let onsets: Vec<f64> = onset_detect(&envelope).into_iter().map(frames_to_time).collect();
    println!("{}", serde_json::json!({ "envelope": envelope, "onsets": onsets }));
    ExitCode::SUCCESS
}
