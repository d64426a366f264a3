#!/usr/bin/env python3
"""Writes Deforum's values for every schedule of the battery (schedules.txt) as a JSON table.

Usage: make_table.py DEFORUM_CHECKOUT [BATTERY] > tests/fixtures/deforum_values.json

DEFORUM_CHECKOUT is a checkout of sd-webui-deforum (see README.md for the commit); its
`scripts/deforum_helpers/animation_key_frames.py` is imported from there, never copied into this
repository. Each line of the battery is `HOW | FRAMES | DIFFERENCE | SCHEDULE`:
- HOW `deforum`: Deforum's `FrameInterpolater(max_frames=FRAMES, seed=42).parse_inbetweens(SCHEDULE)`;
- HOW `numexpr`: `numexpr.evaluate(SCHEDULE)` on each frame with `t` and `max_f` (the language on
  its own, without Deforum's splitting at commas).
The table holds per schedule its `values` (a number per frame; "nan" or "inf" as text) or, where
Deforum refuses it, `refused` (the exception). tests/it/deforum.rs checks dreamreel against it.
"""
import json
import math
import os
import sys
import types
import warnings

import numexpr
import numpy
import pandas

SEED = 42


def deforum_parser(checkout):
    """Deforum's FrameInterpolater, imported from the checkout with the web UI's modules stubbed."""
    modules = types.ModuleType("modules")
    modules.scripts = types.ModuleType("modules.scripts")
    modules.shared = types.ModuleType("modules.shared")
    sys.modules.update({"modules": modules, "modules.scripts": modules.scripts, "modules.shared": modules.shared})
    sys.path.insert(0, os.path.abspath(checkout))
    from scripts.deforum_helpers.animation_key_frames import FrameInterpolater

    return FrameInterpolater


def read_battery(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            how, frames, _, schedule = [part.strip() for part in line.split(" | ", 3)]
            cases.append((how, int(frames), schedule))
    return cases


def number(value):
    return value if math.isfinite(value) else str(value)


def values_of(interpolater, how, frames, schedule):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "deforum":
            series = interpolater(max_frames=frames, seed=SEED).parse_inbetweens(schedule)
            return [float(v) for v in series]
        return [float(numexpr.evaluate(schedule, local_dict={"t": t, "max_f": frames - 1})) for t in range(frames)]


def main():
    checkout = sys.argv[1]
    battery = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                  "schedules.txt")
    interpolater = deforum_parser(checkout)
    rows = []
    for how, frames, schedule in read_battery(battery):
        row = {"how": how, "frames": frames, "schedule": schedule}
        try:
            row["values"] = [number(v) for v in values_of(interpolater, how, frames, schedule)]
        except Exception as e:  # Deforum's refusal, whatever it is (it has no error type of its own)
            row["refused"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    versions = {"numexpr": numexpr.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__,
                "python": sys.version.split()[0]}
    # One schedule per line, so that a change to the battery is a readable diff.
    print("{")
    print(f' "made_by": "scripts/deforum/make_table.py (see scripts/deforum/README.md)",')
    print(f' "versions": {json.dumps(versions)},')
    print(' "schedules": [')
    print(",\n".join("  " + json.dumps(row) for row in rows))
    print(" ]")
    print("}")


if __name__ == "__main__":
    main()
