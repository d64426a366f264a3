#!/usr/bin/env python3
"""Compares dreamreel's schedules with Deforum's, frame by frame.

Each line of the battery (schedules.txt) is `HOW | FRAMES | DIFFERENCE | SCHEDULE`:
- HOW `deforum`: the schedule goes through Deforum's own keyframe parser (deforum_keyframes.py,
  copied from sd-webui-deforum) over FRAMES frames; `numexpr`: a bare expression that numexpr
  evaluates on each frame with `t` and `max_f` (the language without Deforum's splitting at commas).
- DIFFERENCE `-`: dreamreel must give Deforum's values; otherwise the README's name for a
  deliberate difference, which the schedule must show (a mark that no longer differs is stale).
dreamreel's values come from `dreamreel plan zoom noise ... --json`, under `--zoom` when Deforum's
values fit its range (0.5-2), else `--rotate` (within 180).

Usage: compare.py DREAMREEL [BATTERY] [--verbose]. Prints one line per schedule that fails and the
figures; exits 1 when a schedule that must agree does not (or a difference mark is stale).
"""
import concurrent.futures
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numexpr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deforum_keyframes import FrameInterpolater  # noqa: E402

SEED = 42
TOLERANCE = 1e-9


def read_battery(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            how, frames, difference, schedule = [part.strip() for part in line.split(" | ", 3)]
            assert how in ("deforum", "numexpr"), f"line {number}: {how}"
            cases.append({"line": number, "how": how, "frames": int(frames), "difference": difference,
                          "schedule": schedule})
    return cases


def deforum_values(case):
    """Deforum's per-frame values, or the exception it raised."""
    n = case["frames"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if case["how"] == "deforum":
                series = FrameInterpolater(max_frames=n, seed=SEED).parse_inbetweens(case["schedule"])
                return [float(v) for v in series], None
            values = []
            for t in range(n):
                values.append(float(numexpr.evaluate(case["schedule"], local_dict={"t": t, "max_f": n - 1})))
            return values, None
        except Exception as e:  # Deforum's refusal, whatever it is (it has no error type of its own)
            return None, f"{type(e).__name__}: {e}"


def dreamreel_values(binary, case, option, scratch):
    command = [binary, "plan", "zoom", "noise", "-o", os.path.join(scratch, "x.mp4"), "--frames",
               str(case["frames"]), "--width", "64", f"--{option}={case['schedule']}", "--json"]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()
    frames = json.loads(run.stdout)["frames"]
    return [float(frame[option]) for frame in frames], None


def option_for(values):
    if all(0.5 <= v <= 2.0 for v in values):
        return "zoom"
    if all(abs(v) <= 180.0 for v in values):
        return "rotate"
    return None


def first_difference(ours, theirs):
    if len(ours) != len(theirs):
        return f"{len(ours)} frames against {len(theirs)}"
    for frame, (a, b) in enumerate(zip(ours, theirs)):
        if not (math.isfinite(b) and abs(a - b) <= TOLERANCE * max(1.0, abs(b))):
            return f"frame {frame}: {a!r} against Deforum's {b!r}"
    return None


def judge(binary, case, scratch):
    theirs, refused = deforum_values(case)
    case["deforum_error"] = refused
    if refused:
        case["outcome"] = "deforum refuses"
        return case
    option = option_for(theirs)
    if option is None:
        case["outcome"] = "no option fits"
        case["detail"] = f"Deforum's values span {min(theirs)}..{max(theirs)}"
        return case
    ours, error = dreamreel_values(binary, case, option, scratch)
    difference = error or first_difference(ours, theirs)
    case["detail"] = difference
    case["outcome"] = "differ" if difference else "agree"
    return case


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    binary = args[0]
    battery = args[1] if len(args) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.txt")
    cases = read_battery(battery)
    with tempfile.TemporaryDirectory() as scratch, concurrent.futures.ThreadPoolExecutor(2) as pool:
        judged = list(pool.map(lambda case: judge(binary, case, scratch), cases))
    accepted = [c for c in judged if c["outcome"] != "deforum refuses"]
    agree = [c for c in accepted if c["outcome"] == "agree"]
    failures = []
    for case in judged:
        documented = case["difference"] != "-"
        where = f"line {case['line']} ({case['how']}, {case['frames']} frames) {case['schedule']!r}"
        if case["outcome"] in ("differ", "no option fits") and not documented:
            failures.append(f"DIFFERS {where}: {case['detail']}")
        elif case["outcome"] == "agree" and documented:
            failures.append(f"STALE MARK {where}: marked '{case['difference']}' but agrees")
        elif verbose:
            print(f"{case['outcome']:>16}  {where}: {case.get('detail') or case['deforum_error'] or ''}")
    for failure in failures:
        print(failure)
    documented = [c for c in accepted if c["outcome"] != "agree" and c["difference"] != "-"]
    print(f"{len(judged)} schedules; Deforum accepts {len(accepted)}; dreamreel agrees on {len(agree)} of "
          f"{len(accepted)}; {len(documented)} differ as the README lists; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
