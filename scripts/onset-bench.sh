#!/usr/bin/env bash
# dreamreel's onsets and tempo against librosa's (mir_eval, F-measure within +-50 ms) on ten
# tracks of real music from Debian's game-music packages, 30 s excerpts and whole, and on click
# tracks from 60 to 200 BPM. Figures in BENCHMARKS.md ("Onsets and tempo of real music").
#
#   scripts/onset-bench.sh [target/release/dreamreel]
#
# Needs apt-get (to download the .deb files; nothing is installed), ffmpeg, python3 and PyPI.
# The music is unpacked under $ONSET_WORK (default /tmp/onset-bench), librosa 0.11.0 and
# mir_eval 0.8.2 go into the venv $ONSET_VENV (default /tmp/onset-venv), never the project's.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/release/dreamreel}"
work="${ONSET_WORK:-/tmp/onset-bench}"
venv="${ONSET_VENV:-/tmp/onset-venv}"
[ -x "$binary" ] || { echo "onset-bench: no dreamreel binary at '$binary' (cargo build --release)" >&2; exit 2; }

if ! "$venv/bin/python" -c "import librosa, mir_eval, soundfile" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q librosa==0.11.0 mir_eval==0.8.2 soundfile
fi

packages=(fretsonfire-songs-muldjord fretsonfire-songs-sectoid asc-music singularity-music wesnoth-1.16-music)
mkdir -p "$work/debs" "$work/media" "$work/tracks"
for package in "${packages[@]}"; do
  if ! ls "$work/debs/${package}_"*.deb >/dev/null 2>&1; then
    (cd "$work/debs" && apt-get download "$package" 2>/dev/null) || {
      apt-get update -qq && (cd "$work/debs" && apt-get download "$package")
    }
  fi
  dpkg-deb -x "$work/debs/${package}_"*.deb "$work/media"
done

games="$work/media/usr/share/games"
songs="$games/fretsonfire/data/songs"
wesnoth="$games/wesnoth/1.16/data/core/music"
singularity="$games/singularity/music"
# decode NAME INPUT...: mono 22,050 Hz WAV; Frets on Fire songs are a backing and a guitar track, mixed.
decode() {
  local name="$1"; shift
  local out="$work/tracks/$name.wav"
  [ -s "$out" ] && return
  if [ "$#" -eq 2 ]; then
    ffmpeg -v error -y -i "$1" -i "$2" -filter_complex amix=inputs=2:normalize=0 -ac 1 -ar 22050 "$out"
  else
    ffmpeg -v error -y -i "$1" -ac 1 -ar 22050 "$out"
  fi
}
decode metal-chaos_god "$songs/muldjord/chaos_god/song.ogg" "$songs/muldjord/chaos_god/guitar.ogg"
decode metal-metal_madness "$songs/sectoid/Metal madness/song.ogg" "$songs/sectoid/Metal madness/guitar.ogg"
decode electronic-machine_wars "$games/asc/music/machine_wars.mp3"
decode electronic-media_threat "$singularity/Media Threat.ogg"
decode orchestral-battle "$wesnoth/battle.ogg"
decode orchestral-the_city_falls "$wesnoth/the_city_falls.ogg"
decode folk-traveling_minstrels "$wesnoth/traveling_minstrels.ogg"
decode folk-knalgan_theme "$wesnoth/knalgan_theme.ogg"
decode ambient-nebula "$singularity/Nebula.ogg"
decode ambient-deprecation "$singularity/Deprecation.ogg"

exec "$venv/bin/python" scripts/onset_bench.py --dreamreel "$binary" --json "$work/figures.json" "$work"/tracks/*.wav
