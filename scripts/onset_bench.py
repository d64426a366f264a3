"""dreamreel's onsets and onset envelope against librosa 0.11's, excerpt by excerpt.

Run by scripts/onset-bench.sh, which installs librosa and mir_eval into a venv of their own and
cuts the excerpts from Debian's game-music packages and espeak-ng's speech; see BENCHMARKS.md for
what it measured.

Each excerpt is a WAV at its source's rate. librosa loads it as `librosa.load(path, sr=22050)`
(soxr_hq, mono) and that exact decoded audio is written to a 22,050 Hz float WAV, which both sides
then read:
- librosa: `onset.onset_strength(y=y, sr=22050)` and `onset.onset_detect(y=y, sr=22050)`;
- dreamreel: `dreamreel plan zoom ... --audio FILE --json` (its `onsets`, what schedules see) and
  the example `onset_envelope` (its `onset_strength`).
mir_eval's onset F-measure (+-50 ms) scores dreamreel's onsets against librosa's; the envelopes are
compared by Pearson correlation. The same excerpt at its source rate, given to dreamreel, measures
the decoder's resampler (FFmpeg's) against librosa's soxr_hq: the column "F (own resampling)".

Exits 1 when a target is missed: mean F >= 0.95, F >= 0.90 and correlation >= 0.99 on every
excerpt, no onset in a steady tone.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import librosa
import mir_eval
import numpy as np
import soundfile

RATE = 22_050
FPS = 24


def plan_onsets(binary, wav, seconds):
    """dreamreel's onsets (seconds) from `plan --json` over the whole frames of `seconds`."""
    duration = np.floor(seconds * FPS) / FPS
    command = [
        binary, "plan", "zoom", "noise", "-o", os.path.join(os.path.dirname(wav), "never.mp4"),
        "--width", "64", "--fps", str(FPS), "--duration", f"{duration:.4f}", "--audio", wav,
        "--zoom", "1+0.1*beat", "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"onset_bench: {' '.join(command)} failed: {done.stderr.strip()}")
    return np.asarray(json.loads(done.stdout).get("onsets", []), dtype=float), duration


def envelope(tool, wav):
    done = subprocess.run(tool + [wav], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"onset_bench: {' '.join(tool)} {wav} failed: {done.stderr.strip()}")
    return np.asarray(json.loads(done.stdout)["envelope"], dtype=float)


def score(reference, ours, end):
    reference = reference[reference < end]
    if len(reference) == 0 and len(ours) == 0:
        return 1.0, 1.0, 1.0
    return mir_eval.onset.f_measure(reference, ours, window=0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dreamreel", required=True, help="the dreamreel binary")
    parser.add_argument("--envelope", required=True, help="the command that prints dreamreel's envelope of a WAV")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("excerpts", nargs="+", help="WAV excerpts at their source's rate, named genre-title.wav")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onset-bench-") as work:
        return measure(args, work)


def measure(args, work):
    tool = args.envelope.split()
    rows = []
    for excerpt in args.excerpts:
        name = os.path.splitext(os.path.basename(excerpt))[0]
        y, _ = librosa.load(excerpt, sr=RATE)
        same = os.path.join(work, f"{name}.wav")
        soundfile.write(same, y, RATE, subtype="FLOAT")
        seconds = len(y) / RATE
        theirs = librosa.onset.onset_detect(y=y, sr=RATE, units="time")
        their_envelope = librosa.onset.onset_strength(y=y, sr=RATE)

        ours, end = plan_onsets(args.dreamreel, same, seconds)
        f, p, r = score(theirs, ours, end)
        our_envelope = envelope(tool, same)
        if len(our_envelope) != len(their_envelope):
            sys.exit(f"onset_bench: {name}: {len(our_envelope)} envelope frames against {len(their_envelope)}")
        correlation = float(np.corrcoef(our_envelope, their_envelope)[0, 1])
        own, _ = plan_onsets(args.dreamreel, excerpt, seconds)
        own_f, _, _ = score(theirs, own, end)
        rows.append(dict(excerpt=name, seconds=round(seconds, 1), librosa=int(np.sum(theirs < end)),
                         dreamreel=len(ours), f=f, precision=p, recall=r, correlation=correlation,
                         own_resampling_f=own_f))

    wav = os.path.join(work, "tone.wav")
    soundfile.write(wav, (0.5 * np.sin(2 * np.pi * 440 * np.arange(3 * RATE) / RATE)).astype(np.float32), RATE,
                    subtype="FLOAT")
    tone_onsets, _ = plan_onsets(args.dreamreel, wav, 3.0)

    print("| excerpt | s | librosa onsets | dreamreel onsets | F | precision | recall | envelope correlation "
          "| F (own resampling) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['excerpt']} | {row['seconds']} | {row['librosa']} | {row['dreamreel']} | {row['f']:.3f} | "
              f"{row['precision']:.3f} | {row['recall']:.3f} | {row['correlation']:.5f} | "
              f"{row['own_resampling_f']:.3f} |")
    mean_f = float(np.mean([row["f"] for row in rows]))
    mean_own = float(np.mean([row["own_resampling_f"] for row in rows]))
    worst_f = min(row["f"] for row in rows)
    worst_correlation = min(row["correlation"] for row in rows)
    print(f"\nmean F {mean_f:.3f} (worst {worst_f:.3f}); worst envelope correlation {worst_correlation:.5f}; "
          f"mean F with FFmpeg's resampling instead of soxr_hq {mean_own:.3f}")
    print(f"onsets in a steady 440 Hz tone: {len(tone_onsets)}")

    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(excerpts=rows, mean_f=mean_f, mean_own_resampling_f=mean_own,
                           tone_onsets=tone_onsets.tolist()), out, indent=1)
    missed = [
        what for what, ok in [
            ("mean F >= 0.95", mean_f >= 0.95),
            ("F >= 0.90 on every excerpt", worst_f >= 0.90),
            ("envelope correlation >= 0.99 on every excerpt", worst_correlation >= 0.99),
            ("no onset in a steady tone", len(tone_onsets) == 0),
        ] if not ok
    ]
    print("\n" + ("all targets met" if not missed else "missed: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
