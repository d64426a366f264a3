#!/usr/bin/env bash
# The interrupt harness at length: N points (default 300) of every mode (still, zoom to MP4 and to
# PNG frames, footage with sound, --part, --join, a batch of 3 jobs, -y over a finished output and
# over a sequence folder holding other numbered files), each stopped by SIGINT, SIGTERM or SIGKILL
# at a random moment, rerun with and without --resume, every invariant checked after every step.
# The same test as the suite's sample (tests/it/interrupts.rs), with more points:
#
#     scripts/interrupt-bench.sh [N] [SEED]
#
# Prints the points tried, the violations and the wall and user CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
points="${1:-300}"
seed="${2:-36}"
cargo test --release --test it --no-run --quiet
export DREAMREEL_INTERRUPT_POINTS="$points" DREAMREEL_INTERRUPT_SEED="$seed"
/usr/bin/time -f "interrupt-bench: $points points, seed $seed: %e s wall, %U s user CPU" \
  cargo test --release --quiet --test it interrupts:: -- --nocapture
