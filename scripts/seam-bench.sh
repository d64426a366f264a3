#!/usr/bin/env bash
# The seam where a part of a film starts inside a shot: a long take rendered whole and as 2 parts
# (part 2 starting at the middle, inside the shot, after a warm-up of W frames, cross-faded over
# CROSSFADE frames with part 1's continuation, then joined), for several W. Frames are blurred by
# a Gaussian of radius width/64 (as BENCHMARKS.md measures loop seams); the seam is the largest mean
# absolute difference between neighbouring frames from the parts' meeting to the fade's end, over
# the median consecutive difference of the one-process render. Also printed: how far part 2's
# frames are from the one-process render's (mean absolute difference, 0-255).
#
#   scripts/seam-bench.sh [CLIP]      (default: OpenCV's vtest.avi, a 795-frame static take)
#   WARMUPS="0 4 12 24" FRAMES=60 WIDTH=160 OCTAVES=2 ITERATIONS=4 THREADS=0 BINARY=... scripts/seam-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bin="${BINARY:-target/release/dreamreel}"
clip="${1:-$DREAMREEL_HOME/samples/vtest.avi}"
warmups="${WARMUPS:-0 4 12 24}"
width="${WIDTH:-160}"
args=(--width "$width" --frames "${FRAMES:-60}" --octaves "${OCTAVES:-2}" --iterations "${ITERATIONS:-4}"
  --device cpu --threads "${THREADS:-0}" --crf 0 -y --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" plan video "$clip" -o "$work/one.mp4" "${args[@]}" --parts 2
"$bin" video "$clip" -o "$work/one.mp4" "${args[@]}"
for w in $warmups; do
  DREAMREEL_PART_WARMUP_FRAMES="$w" "$bin" video "$clip" -o "$work/w$w.mp4" "${args[@]}" --part 1/2
  DREAMREEL_PART_WARMUP_FRAMES="$w" "$bin" video "$clip" -o "$work/w$w.mp4" "${args[@]}" --part 2/2 --join
done
start=$("$bin" plan video "$clip" -o "$work/one.mp4" "${args[@]}" --parts 2 --json |
  "$DREAMREEL_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["parts"][1]["start"])')
"$DREAMREEL_VENV/bin/python" - "$work" "$start" "$width" "${CROSSFADE:-8}" $warmups <<'PY'
import subprocess, sys
import numpy as np
from PIL import Image, ImageFilter

work, start, width, fade = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
warmups = sys.argv[5:]

def frames(path):
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path], capture_output=True, text=True)
    w, h = map(int, probe.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True).stdout
    video = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    blur = ImageFilter.GaussianBlur(radius=width / 64)
    return np.stack([np.asarray(Image.fromarray(f).filter(blur), np.float64) for f in video])

one = frames(f"{work}/one.mp4")
steps = np.abs(np.diff(one, axis=0)).mean(axis=(1, 2, 3))
median = float(np.median(steps))
print(f"part 2 starts at frame {start} (from 0), inside the shot; median step {median:.2f}")
print(f"| warm-up W (cross-fade {fade}) | largest step / median step | largest step | part 2 vs one process (mean abs) |")
print("|---|---|---|---|")
def seam(video):
    return float(max(np.abs(video[j] - video[j - 1]).mean() for j in range(start, start + fade + 1)))

print(f"| one process | {seam(one) / median:.2f} | {seam(one):.2f} | 0 |")
for w in warmups:
    parts = frames(f"{work}/w{w}.mp4")
    worst = seam(parts)
    drift = float(np.abs(parts[start:] - one[start:]).mean())
    print(f"| {w} | {worst / median:.2f} | {worst:.2f} | {drift:.2f} |")
PY
