#!/usr/bin/env bash
# Runs the whole test suite (setting up first, so it works on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
cargo test --release "$@"
