#!/usr/bin/env bash
# Renders the main job with the default look and says where the result is.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p out
# A two-second dream zoom into the cat, 320 pixels wide, with the default look.
# -y: a rerun replaces the last demo; --restart: an interrupted one starts afresh.
target/release/dreamreel zoom samples/chelsea.png -o out/demo.mp4 --width 320 --duration 2 -y --restart
echo "demo: wrote $(pwd)/out/demo.mp4"
