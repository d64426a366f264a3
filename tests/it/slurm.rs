//! A real Slurm cluster on this machine (tests/slurm/run.sh): scripts/slurm-batch.sh as a 2-task
//! array over a 4-job manifest, then a preempted (requeued) job that must resume from its
//! checkpoint; then scripts/slurm-film.sh, one film in 2 parts with one part requeued, joined into
//! the one-process render's frames. Needs root; a cluster that cannot start fails the test, it never skips.
#![cfg(feature = "video")]
use std::process::Command;

#[test]
fn a_slurm_array_renders_a_manifest_and_a_requeued_job_resumes() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slurm/run.sh");
    let out = Command::new("bash").arg(script).arg(env!("CARGO_BIN_EXE_dreamreel")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Slurm test failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("slurm test: 4 jobs rendered in 2 shards"), "{stdout}");
    assert!(stdout.contains("slurm test: the preempted job resumed at frame"), "{stdout}");
    assert!(
        stdout.contains("slurm test: a film in 2 parts, one requeued, joined into the one-process render"),
        "{stdout}"
    );
}
