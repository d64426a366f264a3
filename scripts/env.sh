# Sourced by the other scripts: where dreamreel's toolchain pieces live, and how to build against them.
# DREAMREEL_HOME holds the torch venv and the converted weights, outside the repository.
export DREAMREEL_HOME="${DREAMREEL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/dreamreel}"
export DREAMREEL_VENV="$DREAMREEL_HOME/venv"
export DREAMREEL_MODELS="${DREAMREEL_MODELS:-$DREAMREEL_HOME/models}"
export LIBTORCH_USE_PYTORCH=1
export LIBTORCH_BYPASS_VERSION_CHECK="${LIBTORCH_BYPASS_VERSION_CHECK:-0}"
case ":$PATH:" in
  *":$DREAMREEL_VENV/bin:"*) ;;
  *) export PATH="$DREAMREEL_VENV/bin:$PATH" ;;
esac
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
