#!/usr/bin/env bash
# Renders the main job with the default look and says where the result is.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p out
target/release/dreamreel still samples/chelsea.png -o out/demo.png --width 512
echo "demo: wrote $(pwd)/out/demo.png"
