"""librosa 0.11's onset_strength and onset_detect of the test sound that src/frame/onsets.rs's
tests build (decaying notes over a hum), as the fixture tests/fixtures/librosa_onsets.json:

    python scripts/librosa_onset_fixture.py > tests/fixtures/librosa_onsets.json

(in the venv of scripts/onset-bench.sh, which holds librosa 0.11.0)."""
import json, sys
import numpy as np, librosa
RATE = 22050
NOTES = [(0.31, 440, 0.5, 0.3), (0.77, 660, 0.3, 0.2), (1.20, 220, 0.6, 0.5), (1.65, 880, 0.2, 0.1),
         (2.03, 330, 0.4, 0.4), (2.50, 1320, 0.25, 0.15), (2.91, 550, 0.5, 0.3), (3.40, 165, 0.7, 0.6)]
t = np.arange(4 * RATE) / RATE
y = 0.05 * np.sin(2 * np.pi * 110 * t)
for start, hz, amp, decay in NOTES:
    since = t - start
    y += np.where(since >= 0, amp * np.exp(-np.maximum(since, 0) / decay) * np.sin(2 * np.pi * hz * since), 0.0)
y = y.astype(np.float32)
envelope = librosa.onset.onset_strength(y=y, sr=RATE)
frames = librosa.onset.onset_detect(y=y, sr=RATE)
json.dump({"made_by": f"librosa {librosa.__version__}: onset.onset_strength(y=y, sr=22050) and "
           "onset.onset_detect(y=y, sr=22050) of src/frame/onsets.rs's test_sound()",
           "onset_frames": [int(f) for f in frames],
           "envelope": [float(f"{v:.7g}") for v in envelope]}, sys.stdout)
print()
