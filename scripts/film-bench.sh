#!/usr/bin/env bash
# A film in N parts at once against one render, on this machine's CPU: one render at the default
# threads and one at THREADS_PER_PART threads, then N parts as N processes at once
# (THREADS_PER_PART each, 1 by default) and the join, timed with the same clock; prints the wall
# and user CPU times, the speed-ups, where the parts meet, and whether the joined film's decoded frames are
# those of the render at the same threads (--crf 0 keeps them lossless; other thread counts sum
# in another order, and a dream grows the difference).
#
#   scripts/film-bench.sh [CLIP] [N]     (default: bikes.mp4, real footage with cuts; N = 2)
#   WIDTH=128 FRAMES=0 OCTAVES=2 ITERATIONS=3 THREADS_PER_PART=1 BINARY=... scripts/film-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bin="${BINARY:-target/release/dreamreel}"
clip="${1:-$DREAMREEL_HOME/samples/bikes.mp4}"
parts="${2:-2}"
args=(--width "${WIDTH:-128}" --octaves "${OCTAVES:-2}" --iterations "${ITERATIONS:-3}" --device cpu --crf 0 -y --quiet)
if [ "${FRAMES:-0}" != 0 ]; then args+=(--frames "$FRAMES"); fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" plan video "$clip" -o "$work/parts.mp4" "${args[@]}" --parts "$parts"
per_part="${THREADS_PER_PART:-1}"
TIMEFORMAT='%R %U'
# Wall and user CPU seconds of one step (children included), as "wall user".
timed() { { time "$@" > /dev/null; } 2>&1 | tail -1; }
render_parts() {
  for i in $(seq 1 "$parts"); do
    "$bin" video "$clip" -o "$work/parts.mp4" "${args[@]}" --threads "$per_part" --part "$i/$parts" &
  done
  for job in $(jobs -p); do wait "$job"; done
  "$bin" video "$clip" -o "$work/parts.mp4" "${args[@]}" --join
}
read -r default default_user < <(timed "$bin" video "$clip" -o "$work/default.mp4" "${args[@]}")
read -r one one_user < <(timed "$bin" video "$clip" -o "$work/one.mp4" "${args[@]}" --threads "$per_part")
read -r split split_user < <(timed render_parts)
raw() { ffmpeg -v error -i "$1" -f rawvideo -pix_fmt rgb24 - | md5sum | cut -c1-32; }
same=$([ "$(raw "$work/one.mp4")" = "$(raw "$work/parts.mp4")" ] && echo "identical" || echo "DIFFERENT")
echo "one render, default threads: $default s wall, $default_user s user CPU"
echo "one render, $per_part thread(s): $one s wall, $one_user s user CPU"
echo "$parts parts at once, $per_part thread(s) each, and the join: $split s wall, $split_user s user CPU"
echo "speed-up: $(awk "BEGIN { printf \"%.2f\", $default / $split }")x over the default threads, $(awk "BEGIN { printf \"%.2f\", $one / $split }")x over $per_part thread(s)"
echo "joined frames: $same to the one render's at $per_part thread(s)"
