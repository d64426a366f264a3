#!/usr/bin/env bash
# dreamreel's onsets and onset envelope against librosa 0.11's (mir_eval F within +-50 ms, envelope
# correlation) on 30 s excerpts of real music from Debian's game-music packages and on speech
# from espeak-ng. Figures in BENCHMARKS.md ("Onsets as librosa finds them").
#
#   scripts/onset-bench.sh [target/release/dreamreel]
#
# Needs apt-get (to download the .deb files; nothing is installed), ffmpeg, python3 and PyPI.
# The media are unpacked under $ONSET_WORK (default /tmp/onset-bench), librosa 0.11.0 and
# mir_eval 0.8.2 go into the venv $ONSET_VENV (default /tmp/onset-venv), never the project's.
# dreamreel's envelope comes from the example `onset_envelope` (built here).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/release/dreamreel}"
work="${ONSET_WORK:-/tmp/onset-bench}"
venv="${ONSET_VENV:-/tmp/onset-venv}"
[ -x "$binary" ] || { echo "onset-bench: no dreamreel binary at '$binary' (cargo build --release)" >&2; exit 2; }
cargo build --release --quiet --example onset_envelope
envelope_tool="$(dirname "$binary")/examples/onset_envelope"

if ! "$venv/bin/python" -c "import librosa, mir_eval, soundfile" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q librosa==0.11.0 mir_eval==0.8.2 soundfile
fi

packages=(fretsonfire-songs-muldjord fretsonfire-songs-sectoid asc-music singularity-music wesnoth-1.16-music
  espeak-ng libespeak-ng1 espeak-ng-data libpcaudio0 libsonic0)
mkdir -p "$work/debs" "$work/media" "$work/excerpts"
for package in "${packages[@]}"; do
  if ! ls "$work/debs/${package}_"*.deb >/dev/null 2>&1; then
    (cd "$work/debs" && apt-get download "$package" 2>/dev/null) || {
      apt-get update -qq && (cd "$work/debs" && apt-get download "$package")
    }
  fi
  dpkg-deb -x "$work/debs/${package}_"*.deb "$work/media"
done

media="$work/media"
games="$media/usr/share/games"
songs="$games/fretsonfire/data/songs"
wesnoth="$games/wesnoth/1.16/data/core/music"
singularity="$games/singularity/music"
# excerpt NAME INPUT...: 30 s from 60 s in, at the source's rate, as 32-bit float WAV; Frets on
# Fire songs are a backing and a guitar track, mixed.
excerpt() {
  local name="$1"; shift
  local out="$work/excerpts/$name.wav"
  [ -s "$out" ] && return
  if [ "$#" -eq 2 ]; then
    ffmpeg -v error -y -ss 60 -t 30 -i "$1" -ss 60 -t 30 -i "$2" \
      -filter_complex amix=inputs=2:normalize=0 -c:a pcm_f32le "$out"
  else
    ffmpeg -v error -y -ss 60 -t 30 -i "$1" -c:a pcm_f32le "$out"
  fi
}
excerpt metal-chaos_god "$songs/muldjord/chaos_god/song.ogg" "$songs/muldjord/chaos_god/guitar.ogg"
excerpt metal-metal_madness "$songs/sectoid/Metal madness/song.ogg" "$songs/sectoid/Metal madness/guitar.ogg"
excerpt electronic-machine_wars "$games/asc/music/machine_wars.mp3"
excerpt electronic-media_threat "$singularity/Media Threat.ogg"
excerpt orchestral-battle "$wesnoth/battle.ogg"
excerpt orchestral-the_city_falls "$wesnoth/the_city_falls.ogg"
excerpt folk-traveling_minstrels "$wesnoth/traveling_minstrels.ogg"
excerpt folk-knalgan_theme "$wesnoth/knalgan_theme.ogg"
excerpt ambient-silvan_sanctuary "$wesnoth/silvan_sanctuary.ogg"
excerpt ambient-nebula "$singularity/Nebula.ogg"
excerpt ambient-deprecation "$singularity/Deprecation.ogg"
# Speech: espeak-ng reading this script's own comments, in two voices, 30 s each.
speak() {
  local name="$1" voice="$2"
  local out="$work/excerpts/$name.wav"
  [ -s "$out" ] && return
  sed -n 's/^# \{0,1\}//p' "$0" | tr '\n' ' ' \
    | LD_LIBRARY_PATH="$media/usr/lib/x86_64-linux-gnu" "$media/usr/bin/espeak-ng" \
      --path="$media/usr/lib/x86_64-linux-gnu/espeak-ng-data" -v "$voice" -s 165 --stdout \
    | ffmpeg -v error -y -i - -t 30 -c:a pcm_f32le "$out"
}
speak speech-en en-us
speak speech-en_gb_f en-gb+f3

exec "$venv/bin/python" scripts/onset_bench.py --dreamreel "$binary" --envelope "$envelope_tool" \
  --json "$work/figures.json" "$work"/excerpts/*.wav
