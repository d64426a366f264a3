#!/usr/bin/env bash
# The CPU comparison against the PyTorch reference (../shared/reference/deepdream_ref.py), in one
# run on this machine, at the same settings and thread count, and the pipeline's overhead.
#
#   scripts/bench.sh [RUNS]      # RUNS seeds each (default 3), runs interleaved
#   THREADS=2 scripts/bench.sh   # both at 2 torch threads (default: each program's own default)
#   BINARY=old/dreamreel scripts/bench.sh   # another build of dreamreel against the same reference
#   DREAMREEL_ARGS="--carry skip-lowest" scripts/bench.sh   # extra options for dreamreel's zoom
#   ZOOM_ONLY=1 scripts/bench.sh   # the zoom against the reference, not the footage overhead
#
# 1. Dream zoom, 320px wide, Lite0, blocks 8 and 10, 4 octaves x 1.4, 10 iterations, step 0.02,
#    jitter 16, 5 frames zoom 1.05, written as PNG frames, `--colors free` (the reference
#    does not settle colours). dreamreel is timed as a whole
#    process (start-up, load, every frame, PNG writing) divided by the frames; the reference prints
#    its own median seconds per frame after a warm-up frame. User CPU seconds of each whole process
#    are printed beside (user/wall above the thread count means threads fighting). Both last
#    frames are scored with the reference's --objective-of, so a faster render must still dream as hard.
# 2. Footage: a 30-frame 320px clip with sound through `dreamreel video`; the share of wall time
#    that is not dream compute (decode, encode, copies not overlapped).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
. scripts/env.sh
runs=${1:-3}
reference=${DREAMREEL_REFERENCE:-../shared/reference/deepdream_ref.py}
[ -f "$reference" ] || { echo "bench: reference not found at $reference (set DREAMREEL_REFERENCE)" >&2; exit 2; }
python -c 'import PIL, numpy, efficientnet_lite_pytorch' 2>/dev/null \
  || python -m pip install -q --disable-pip-version-check pillow numpy efficientnet-lite-pytorch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python - "$reference" "$work" "$runs" <<'PY'
import json, os, re, resource, statistics, subprocess, sys, time
reference, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
binary = os.environ.get("BINARY", "target/release/dreamreel")
threads = os.environ.get("THREADS")
ref_threads = ["--threads", threads] if threads else []
dr_threads = ["--threads", threads] if threads else []
dr_extra = os.environ.get("DREAMREEL_ARGS", "").split()

def user_cpu():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
settings = ["--octaves", "4", "--octave-scale", "1.4", "--iterations", "10", "--step", "0.02", "--jitter", "16"]
frames = 5

def objective_of(path):
    out = subprocess.run(["python", reference, "--objective-of", path], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["objective"]

rows = []
for seed in range(runs):
    ref_dir = os.path.join(work, f"ref{seed}"); os.makedirs(ref_dir)
    cpu = user_cpu(); started = time.perf_counter()
    out = subprocess.run(["python", reference, "--input", "samples/chelsea.png", "--width", "320", "--frames", str(frames),
                          "--zoom", "1.05", "--layers", "8,10", "--seed", str(seed),
                          "--output-dir", ref_dir] + ref_threads + settings, check=True, capture_output=True, text=True)
    ref_wall, ref_cpu = time.perf_counter() - started, user_cpu() - cpu
    ref = json.loads(out.stdout)
    ref_obj = objective_of(os.path.join(ref_dir, f"frame_{frames - 1:05d}.png"))
    dr_dir = os.path.join(work, f"dr{seed}")
    cpu = user_cpu(); started = time.perf_counter()
    subprocess.run([binary, "zoom", "samples/chelsea.png", "-o", os.path.join(dr_dir, "%05d.png"), "--width", "320",
                    "--frames", str(frames), "--zoom", "1.05", "--layers", "blocks.8,blocks.10",
                    "--device", "cpu", "--seed", str(seed), "--colors", "free", "--quiet"] + dr_threads + settings + dr_extra,
                   check=True)
    dr_wall, dr_cpu = time.perf_counter() - started, user_cpu() - cpu
    dr_seconds = dr_wall / frames
    dr_obj = objective_of(os.path.join(dr_dir, f"{frames:05d}.png"))
    rows.append((seed, ref["seconds_per_frame"], dr_seconds, ref_obj, dr_obj))
    print(f"seed {seed}: reference {ref['seconds_per_frame']:.3f} s/frame (process {ref_wall:.1f} s wall, "
          f"{ref_cpu:.1f} s user), objective {ref_obj:.1f} | dreamreel {dr_seconds:.3f} s/frame (whole process "
          f"{dr_wall:.1f} s wall, {dr_cpu:.1f} s user), objective {dr_obj:.1f}")

ref_time = statistics.median(r[1] for r in rows); dr_time = statistics.median(r[2] for r in rows)
ref_obj = statistics.mean(r[3] for r in rows); dr_obj = statistics.mean(r[4] for r in rows)
print(f"zoom 320px: dreamreel {dr_time:.3f} s/frame vs reference {ref_time:.3f} s/frame: "
      f"time ratio {dr_time / ref_time:.2f} (goal <= 0.65); objective ratio {dr_obj / ref_obj:.2f} (goal >= 0.9)")

if os.environ.get("ZOOM_ONLY"):
    sys.exit(0)
clip = os.path.join(work, "clip.mp4")
subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24", "-f", "lavfi",
                "-i", "sine=frequency=440", "-t", str(30 / 24), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                clip], check=True)
out = subprocess.run([binary, "video", clip, "-o", os.path.join(work, "dreamed.mp4"), "--device", "cpu"] + dr_threads,
                     check=True, capture_output=True, text=True)
line = out.stderr.strip().splitlines()[-1]
share = float(re.search(r"dreaming (\d+(?:\.\d+)?)% of the time", line).group(1))
print(f"footage 30 frames 320x180 (defaults): {line}")
print(f"footage: {100 - share:.1f}% of the wall time is not dream compute")
PY
