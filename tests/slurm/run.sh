#!/usr/bin/env bash
# A real Slurm run of scripts/slurm-batch.sh (driven by tests/it/slurm.rs): starts a single-node
# cluster, submits a 4-job manifest as a 2-task array, checks every output and both summaries;
# then preempts a running job with `scontrol requeue` and checks that the requeued job resumes
# from its checkpoint instead of starting again. Any failure, including a cluster that cannot
# start, fails the test: it never skips.
#
#   tests/slurm/run.sh target/release/dreamreel
set -euo pipefail
cd "$(dirname "$0")/../.."
export DREAMREEL="$(realpath "${1:?usage: tests/slurm/run.sh DREAMREEL_BINARY}")"
. tests/slurm/cluster.sh

[ "$(id -u)" = 0 ] || { echo "slurm test: must run as root (it starts slurmctld, slurmd and munged)" >&2; exit 1; }
cluster_install
work=$(mktemp -d /tmp/dreamreel-slurm.XXXXXX)
cleanup() {
  local status=$?
  cluster_stop "$work/cluster"
  if [ $status != 0 ]; then
    echo "slurm test: FAILED; logs:" >&2
    tail -n 30 "$work"/logs/* "$work/cluster/slurmctld.log" "$work/cluster/slurmd.log" >&2 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "slurm test: $*" >&2; exit 1; }

cluster_start "$work/cluster"
mkdir -p "$work/logs" "$work/jobs/out"
ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$work/jobs/still.png"
ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=64x48:rate=10 -frames:v 6 -pix_fmt yuv420p "$work/jobs/clip.mp4"
quick='octaves = 1
iterations = 1
device = "cpu"
threads = 1'
cat > "$work/jobs/manifest.toml" <<TOML
[[job]]
mode = "still"
input = "still.png"
output = "out/still.png"
$quick

[[job]]
mode = "zoom"
input = "noise"
output = "out/zoom.mp4"
frames = 4
width = 48
height = 32
$quick

[[job]]
mode = "video"
input = "clip.mp4"
output = "out/clip.mp4"
$quick

[[job]]
mode = "zoom"
input = "still.png"
output = "out/dive.mp4"
frames = 3
$quick
TOML

# Submits an array over a manifest, with the GPU and CPU requests of slurm-batch.sh undone for
# this GPU-less 2-slot node; prints the job id.
submit() {
  local array="$1" manifest="$2"
  sbatch --parsable --array="$array" --gres=none --cpus-per-task=1 --open-mode=append \
    --output="$work/logs/dreamreel-%A_%a.log" scripts/slurm-batch.sh "$manifest" | cut -d';' -f1
}
wait_gone() {
  local id="$1" deadline=$((SECONDS + 120))
  while [ -n "$(squeue -h -j "$id" 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || fail "job $id still queued or running after 120 s: $(squeue -j "$id")"
    sleep 0.5
  done
}
frames_of() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"
}

# 1: the whole manifest in two shards.
array=$(submit 1-2 "$work/jobs/manifest.toml")
echo "slurm test: array job $array submitted (2 shards of 4 jobs)"
wait_gone "$array"
states=$(scontrol -o show job "$array" | grep -o 'JobState=[A-Z]* .*ExitCode=[0-9:]*' | sed 's/ .*ExitCode=/ /')
[ "$(echo "$states" | grep -c 'JobState=COMPLETED 0:0')" = 2 ] || fail "array tasks did not all complete: $states"
[ -s "$work/jobs/out/still.png" ] || fail "still.png missing"
[ "$(frames_of "$work/jobs/out/zoom.mp4")" = 4 ] || fail "zoom.mp4 should have 4 frames"
[ "$(frames_of "$work/jobs/out/clip.mp4")" = 6 ] || fail "clip.mp4 should have 6 frames"
[ "$(frames_of "$work/jobs/out/dive.mp4")" = 3 ] || fail "dive.mp4 should have 3 frames"
for shard in 1 2; do
  log="$work/logs/dreamreel-${array}_$shard.log"
  # Shard 1 runs jobs 1 and 3, shard 2 jobs 2 and 4: each summary lists its two, both ok.
  [ "$(grep -cE '^[0-9]+ +(still|zoom|video) .* ok ' "$log")" = 2 ] || fail "shard $shard summary: $(cat "$log")"
done
grep -qE '^1 +still .* ok' "$work/logs/dreamreel-${array}_1.log" || fail "job 1 not in shard 1's summary"
grep -qE '^2 +zoom .* ok' "$work/logs/dreamreel-${array}_2.log" || fail "job 2 not in shard 2's summary"
echo "slurm test: 4 jobs rendered in 2 shards"

# 2: preemption. A zoom slowed to ~0.1 s a frame checkpoints every 24 frames; once the first
# checkpoint is written, the running job is requeued (SIGTERM, then run again).
cat > "$work/jobs/long.toml" <<TOML
[[job]]
mode = "zoom"
input = "noise"
output = "out/long.mp4"
frames = 72
width = 48
height = 32
$quick
TOML
export DREAMREEL_SLOW_ENCODE_MS=100
long=$(submit 1-1 "$work/jobs/long.toml")
unset DREAMREEL_SLOW_ENCODE_MS
checkpoint="$work/jobs/out/.long.mp4.dreamreel/checkpoint.json"
deadline=$((SECONDS + 60))
until [ -s "$checkpoint" ]; do
  [ $SECONDS -lt $deadline ] || fail "no checkpoint appeared; job: $(squeue -j "$long")"
  sleep 0.1
done
scontrol requeue "${long}_1"
echo "slurm test: job ${long}_1 requeued after its first checkpoint"
# Slurm holds a requeued job back for a while (BeginTime); a real farm would wait, we need not.
deadline=$((SECONDS + 30))
until squeue -h -j "$long" -o '%T %r' | grep -q 'PENDING'; do
  [ $SECONDS -lt $deadline ] || fail "the requeued job did not go back to the queue: $(squeue -j "$long")"
  sleep 0.2
done
scontrol update JobId="${long}_1" StartTime=now
deadline=$((SECONDS + 120))
until [ -s "$work/jobs/out/long.mp4" ] && [ -z "$(squeue -h -j "$long")" ]; do
  [ $SECONDS -lt $deadline ] || fail "the requeued job did not finish: $(squeue -j "$long")"
  sleep 0.5
done
log="$work/logs/dreamreel-${long}_1.log"
grep -q 'SIGTERM: stopping after this frame' "$log" || fail "the preempted run did not see SIGTERM: $(cat "$log")"
resumed=$(grep -o 'resumed from a checkpoint at frame [0-9]*' "$log" | grep -o '[0-9]*$' || true)
[ -n "$resumed" ] && [ "$resumed" -ge 24 ] || fail "the requeued job did not resume from its checkpoint: $(cat "$log")"
[ "$(frames_of "$work/jobs/out/long.mp4")" = 72 ] || fail "long.mp4 should have 72 frames"
echo "slurm test: the preempted job resumed at frame $resumed and finished all 72 frames"
# 3: one film in 2 parts with scripts/slurm-film.sh: part 1 is requeued after its first
# checkpoint and resumes, the join step waits for both; the film's frames must be those of the
# one-process render (lossless, so the decoded frames compare exactly).
ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=64x48:rate=10 -f lavfi -i smptebars=size=64x48:rate=10 \
  -filter_complex '[0:v]trim=end_frame=24[a];[1:v]trim=end_frame=24,setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1[v]' \
  -map '[v]' -pix_fmt yuv420p "$work/jobs/film.mp4"
film_options=(--octaves 1 --iterations 1 --device cpu --threads 1 --crf 0 --checkpoint-every 4)
"$DREAMREEL" video "$work/jobs/film.mp4" -o "$work/jobs/one.mp4" "${film_options[@]}" --quiet
export DREAMREEL_SLOW_ENCODE_MS=100
submitted=$(SLURM_FILM_SBATCH="--gres=none --cpus-per-task=1" SLURM_FILM_LOGS="$work/logs" \
  scripts/slurm-film.sh "$work/jobs/film.mp4" "$work/jobs/out/film.mp4" 2 "${film_options[@]}")
unset DREAMREEL_SLOW_ENCODE_MS
parts=$(echo "$submitted" | sed -n 's/^parts: array job \([0-9]*\).*/\1/p')
joiner=$(echo "$submitted" | sed -n 's/.*join: job \([0-9]*\)$/\1/p')
[ -n "$parts" ] && [ -n "$joiner" ] || fail "slurm-film.sh did not submit: $submitted"
checkpoint="$work/jobs/out/.film.mp4.dreamreel/.part-0001-of-0002.dreamreel/checkpoint.json"
deadline=$((SECONDS + 60))
until [ -s "$checkpoint" ]; do
  [ $SECONDS -lt $deadline ] || fail "part 1 wrote no checkpoint: $(squeue)"
  sleep 0.1
done
scontrol requeue "${parts}_1"
deadline=$((SECONDS + 30))
until squeue -h -j "$parts" -o '%i %T' | grep -q "_1 PENDING"; do
  [ $SECONDS -lt $deadline ] || fail "the requeued part did not go back to the queue: $(squeue -j "$parts")"
  sleep 0.2
done
scontrol update JobId="${parts}_1" StartTime=now
deadline=$((SECONDS + 120))
until [ -s "$work/jobs/out/film.mp4" ] && [ -z "$(squeue -h -j "$joiner")" ]; do
  [ $SECONDS -lt $deadline ] || fail "the film was not joined: $(squeue); $(cat "$work"/logs/dreamreel-film-*)"
  sleep 0.5
done
log="$work/logs/dreamreel-film-${parts}_1.log"
grep -q 'SIGTERM: stopping after this frame' "$log" || fail "the requeued part did not see SIGTERM: $(cat "$log")"
grep -q 'resumed from a checkpoint' "$log" || fail "the requeued part did not resume: $(cat "$log")"
grep -q '2 parts joined, 48 frames' "$work"/logs/dreamreel-film-*-join.log || fail "join: $(cat "$work"/logs/dreamreel-film-*-join.log)"
raw() { ffmpeg -v error -i "$1" -f rawvideo -pix_fmt rgb24 - | md5sum; }
[ "$(raw "$work/jobs/one.mp4")" = "$(raw "$work/jobs/out/film.mp4")" ] || fail "the joined film's frames differ from the one-process render's"
echo "slurm test: a film in 2 parts, one requeued, joined into the one-process render's frames"
echo "slurm test: passed"
