#!/usr/bin/env bash
# The carried-frame schedules of BENCHMARKS.md ("Carried frames need less dreaming"): how a frame
# that starts from the previous dream (a zoom's after the first, footage's followed by the flow) is
# dreamed, each schedule against the full dream of every frame.
#
#   scripts/carry-bench.sh zoom [RUNS]      # default 3: chelsea.png and coffee.png, 6 frames
#   scripts/carry-bench.sh footage [RUNS]   # default 3: bikes.mp4 and vtest.avi, 14 frames with a cut
#   SCHEDULES="full half" scripts/carry-bench.sh zoom   # only these (default: all six)
#   WIDTH=160 scripts/carry-bench.sh zoom   # frame width (default 320; footage: vtest 3/4 of it)
#   OMP_WAIT_POLICY=PASSIVE scripts/carry-bench.sh zoom   # on a crowded machine: idle torch threads
#                                           # sleep instead of spinning, which bills user CPU for nothing
#   SHOTS=docs/carry scripts/carry-bench.sh zoom        # also keep side-by-side stills there
#
# Every render is a whole process (`--device cpu`, torch's default threads), the schedules of one run
# interleaved so a machine's load falls on all of them alike; time per frame is the median over
# runs of wall seconds / frames, user CPU seconds beside. Strength: the reference's objective
# (`deepdream_ref.py`, its own network and layers, as `--objective-of` computes it) summed over
# three late frames of seed 0 (zoom: frames 4-6 of 6; footage: 12-14 of 14, the second shot's), as
# a ratio to the full dream's. Footage: E_warp and structure from `dreamreel compare --json`.
# The footage clips are cut here: bikes.mp4 frames 26-39 (its cut at 30, the 5th), vtest.avi
# frames 0-3 then 400-409 (a cut made at the 5th), vtest 3/4 as wide: about the same pixels.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
mode=${1:-zoom}
runs=${2:-3}
width=${WIDTH:-320}
binary=${DREAMREEL_BIN:-target/release/dreamreel}
reference=${DREAMREEL_REFERENCE:-../shared/reference/deepdream_ref.py}
samples=${CARRY_SAMPLES:-$DREAMREEL_HOME/samples}
[ -x "$binary" ] || { echo "carry-bench: build first (cargo build --release)" >&2; exit 2; }
[ -f "$reference" ] || { echo "carry-bench: reference not found at $reference (set DREAMREEL_REFERENCE)" >&2; exit 2; }
python -c 'import PIL, numpy, efficientnet_lite_pytorch' 2>/dev/null \
  || python -m pip install -q --disable-pip-version-check pillow numpy efficientnet-lite-pytorch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$mode" = footage ]; then
  for clip in bikes.mp4 vtest.avi; do
    [ -f "$samples/$clip" ] || { echo "carry-bench: $samples/$clip is missing: run scripts/test.sh" >&2; exit 2; }
  done
  ffmpeg -v error -y -i "$samples/bikes.mp4" -vf "select='between(n,26,39)',setpts=N/24/TB,scale=$width:-2" -an -r 24 \
    -c:v libx264 -crf 12 -pix_fmt yuv420p "$work/bikes.mp4"
  ffmpeg -v error -y -i "$samples/vtest.avi" \
    -vf "select='between(n,0,3)+between(n,400,409)',setpts=N/10/TB,scale=$((width * 3 / 4 / 2 * 2)):-2" \
    -an -r 10 -c:v libx264 -crf 12 -pix_fmt yuv420p "$work/vtest.mp4"
fi

python - "$mode" "$runs" "$binary" "$reference" "$work" "$width" <<'PY'
import importlib.util, json, os, resource, statistics, subprocess, sys, time
mode, runs, binary, reference, work, width = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
schedules = os.environ.get("SCHEDULES", "full half skip-lowest third long-strides flow").split()
shots = os.environ.get("SHOTS")

spec = importlib.util.spec_from_file_location("deepdream_ref", reference)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
import torch
model = ref.load_model("lite0")

def strength(paths):
    """The reference's --objective-of, summed over `paths`."""
    with torch.no_grad():
        return sum(float(ref.objective(model, ref.read(path, 0), [8, 10])) for path in paths)

def timed(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before

if mode == "zoom":
    frames, late = 6, (4, 5, 6)
    inputs = [("chelsea", "samples/chelsea.png"), ("coffee", "samples/coffee.png")]
    def command(source, out, seed):
        return [binary, "zoom", source, "-o", out, "--width", width, "--frames", str(frames), "--zoom", "1.05",
                "--device", "cpu", "--seed", str(seed), "-y", "--quiet"]
elif mode == "footage":
    frames, late = 14, (12, 13, 14)
    inputs = [("bikes", os.path.join(work, "bikes.mp4")), ("vtest", os.path.join(work, "vtest.mp4"))]
    def command(source, out, seed):
        return [binary, "video", source, "-o", out, "--device", "cpu", "--seed", str(seed), "-y", "--restart", "--quiet"]
else:
    sys.exit(f"carry-bench: unknown mode {mode} (zoom or footage)")

for name, source in inputs:
    times = {s: [] for s in schedules}
    for run in range(runs):
        # The order turns each run, so no schedule always follows the same one.
        order = schedules[run % len(schedules):] + schedules[:run % len(schedules)]
        for schedule in order:
            folder = os.path.join(work, f"{name}-{schedule}-{run}")
            os.makedirs(folder, exist_ok=True)
            out = os.path.join(folder, "%04d.png")
            times[schedule].append(timed(command(source, out, run) + ["--carry", schedule]))
    rows = {}
    for schedule in schedules:
        pattern = os.path.join(work, f"{name}-{schedule}-0", "%04d.png")
        row = {"wall": statistics.median(w for w, _ in times[schedule]) / frames,
               "user": statistics.median(u for _, u in times[schedule]) / frames,
               "strength": strength([pattern.replace("%04d", f"{i:04d}") for i in late])}
        if mode == "footage":
            out = subprocess.run([binary, "compare", "--json", source, pattern], check=True, capture_output=True, text=True)
            report = json.loads(out.stdout)
            row.update(e_warp=report["e_warp"], structure=report["structure"], worst=report["structure_worst"])
        rows[schedule] = row
    base = rows.get("full") or rows[schedules[0]]
    print(f"{name}: {mode}, {frames} frames, {runs} runs (median), strength over frames {late} of seed 0")
    for schedule, row in rows.items():
        line = (f"  {schedule:<13} {row['wall']:.3f} s/frame wall ({row['wall'] / base['wall']:.2f}x), "
                f"{row['user']:.3f} s user; strength {row['strength']:.1f} ({row['strength'] / base['strength']:.3f}x)")
        if mode == "footage":
            line += (f"; E_warp {row['e_warp']:.5f} ({row['e_warp'] / base['e_warp']:.2f}x), "
                     f"structure {row['structure']:.3f} (worst {row['worst']:.3f})")
        print(line, flush=True)
    if shots:
        # A late frame side by side: the full dream on the left, each schedule on the right.
        from PIL import Image
        os.makedirs(shots, exist_ok=True)
        for schedule in schedules:
            if schedule == "full":
                continue
            pair = [Image.open(os.path.join(work, f"{name}-{s}-0", f"{late[-1]:04d}.png")) for s in ("full", schedule)]
            joined = Image.new("RGB", (pair[0].width * 2 + 4, pair[0].height), "white")
            joined.paste(pair[0], (0, 0))
            joined.paste(pair[1], (pair[0].width + 4, 0))
            joined.save(os.path.join(shots, f"{name}-full-vs-{schedule}.png"), optimize=True)
PY
