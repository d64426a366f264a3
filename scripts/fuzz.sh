#!/usr/bin/env bash
# The fuzz tests at length: the suite's bounded property tests of what reads outside input
# (schedules and expressions, Deforum and Parseq files, presets, manifests, corrupted clips and
# stills in tests/it/fuzz.rs; the .pth reader in src/model/weights.rs), each with its case count
# multiplied by M (default 100), then the schedule parser timed on growing inputs (linear or not).
#
#     scripts/fuzz.sh [M]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export DREAMREEL_FUZZ_CASES="${1:-100}"
cargo build --release --quiet
/usr/bin/time -f "fuzz .pth: %e s wall, %U s user CPU" \
  cargo test --release --quiet --lib weights::tests::fuzzed -- --nocapture
/usr/bin/time -f "fuzz readers: %e s wall, %U s user CPU" \
  cargo test --release --quiet --test it fuzz:: -- --nocapture

# Growing schedules read through the binary (a preset file: no argument-length limit): keyframes
# by the thousand, a flat call of many arguments, a sum at the depth bound repeated as keyframes.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for n in 1000 10000 100000; do
  for shape in keyframes arguments sums; do
    python3 - "$dir/p.toml" "$n" "$shape" <<'PY'
import sys
path, n, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if shape == "keyframes":
    text = ", ".join(f"{i}:(1.0+0.001*sin(t))" for i in range(n))
elif shape == "arguments":
    text = "0:(max(" + ",".join("1.01" for _ in range(n)) + "))"
else:
    text = ", ".join(f"{i}:(1" + "+0.0001" * 200 + ")" for i in range(n // 100))
open(path, "w").write(f'zoom = "{text}"\n')
PY
    bytes=$(stat -c %s "$dir/p.toml")
    /usr/bin/time -f "schedule $shape n=$n ($bytes bytes): %e s wall, %U s user CPU, %M KB" \
      target/release/dreamreel plan zoom noise -o "$dir/z.mp4" --frames 2 --preset "$dir/p.toml" >/dev/null 2>"$dir/err" \
      || true
    tail -1 "$dir/err"
  done
done
