#!/usr/bin/env bash
# Objects from noise, measured. First the speed: one default `still noise --class C --width 224`
# (the whole process) against the reference recipe's 256 steps (class_ref.py), one after the
# other, wall clock and CPU seconds. Then recognition: classes the issue's first measurement did
# not use, default settings, 224 px, dreamed with Lite0, named by Lite1 and Lite2 (which never saw
# them); seeds outermost, so a run cut short still covers every class once.
#
#   REFERENCE_SCRIPT=path/to/class_ref.py scripts/class_bench.sh [OUT_DIR]      (CPU, 2 threads)
# Environment: BIN (default $CARGO_TARGET_DIR/release/dreamreel), SEEDS (default "1 2"), CLASSES
# (names; write a space in a name as '_', e.g. American_lobster), EXTRA (more options for every dream, e.g. "--steps 96"), REFERENCE_SCRIPT unset: no timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/dreamreel}
OUT=${1:-/tmp/dreamreel-class-bench}
SEEDS=${SEEDS:-"1 2"}
CLASSES=${CLASSES:-"pineapple broccoli orange ladybug monarch starfish jellyfish peacock hummingbird cheeseburger"}
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
export XDG_CONFIG_HOME=/nonexistent
if [ -n "${REFERENCE_SCRIPT:-}" ]; then
  # shellcheck disable=SC2086
  /usr/bin/time -f "dreamreel whole process: %e s wall, %U+%S s CPU" "$BIN" still noise --class pineapple \
    --width 224 --seed 1 --device cpu --threads 2 -o "$OUT/timed.png" -y --quiet $EXTRA
  /usr/bin/time -f "reference whole process: %e s wall, %U+%S s CPU" "$DREAMREEL_VENV/bin/python" \
    "$REFERENCE_SCRIPT" --class 953 --seed 1 --steps 256 --size 224 --threads 2 --output "$OUT/reference.png"
fi
top() { "$BIN" classify "$1" --model "$2" --top 1 --json --device cpu \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])'; }
total=0; lite1=0; lite2=0
for seed in $SEEDS; do
  for word in $CLASSES; do
    class=${word//_/ }
    file="$OUT/$word-$seed.png"
    # shellcheck disable=SC2086
    "$BIN" still noise --class "$class" --width 224 --seed "$seed" --device cpu --threads 2 -o "$file" -y --quiet $EXTRA
    one=$(top "$file" lite1); two=$(top "$file" lite2)
    total=$((total + 1))
    [ "$one" = "$class" ] && lite1=$((lite1 + 1))
    [ "$two" = "$class" ] && lite2=$((lite2 + 1))
    echo "$class seed $seed: lite1 '$one', lite2 '$two' (so far: lite1 $lite1/$total, lite2 $lite2/$total)"
  done
done
echo "recognised: lite1 $lite1/$total, lite2 $lite2/$total"
