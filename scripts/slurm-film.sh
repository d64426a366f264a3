#!/usr/bin/env bash
# One film on a Slurm cluster: an array of N parts (`dreamreel video FILM -o OUT --part I/N`),
# each on its own GPU, then a join step that runs once every part has finished
# (`--dependency=afterok`), writing OUT with the film's sound once.
#
#   scripts/slurm-film.sh FILM OUT N [video options...]
#
# A part that is preempted, requeued or stopped by its time limit gets SIGTERM 2 minutes before
# (`--signal=B:TERM@120`), keeps its checkpoint and resumes from it when Slurm runs it again
# (`--requeue`; every part runs with --resume). Extra sbatch options for both steps (a partition,
# an account) go in SLURM_FILM_SBATCH, e.g. SLURM_FILM_SBATCH="--partition=gpu --time=08:00:00".
# The same file is the batch script of both steps: `part` and `join` below.
#
#SBATCH --job-name=dreamreel-film
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --open-mode=append
#SBATCH --signal=B:TERM@120
#SBATCH --requeue
set -euo pipefail
dreamreel="${DREAMREEL:-dreamreel}"

case "${1:-}" in
  part)
    # One array task: part SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (arrays numbered from 1).
    shift
    film="$1" out="$2"
    shift 2
    index="${SLURM_ARRAY_TASK_ID:?a part runs as an array task}"
    count="${SLURM_ARRAY_TASK_COUNT:?a part runs as an array task}"
    exec "$dreamreel" video "$film" -o "$out" --part "$index/$count" --resume "$@"
    ;;
  join)
    shift
    film="$1" out="$2"
    shift 2
    exec "$dreamreel" video "$film" -o "$out" --join "$@"
    ;;
esac

film="${1:?usage: scripts/slurm-film.sh FILM OUT N [video options...]}"
out="${2:?usage: scripts/slurm-film.sh FILM OUT N [video options...]}"
parts="${3:?usage: scripts/slurm-film.sh FILM OUT N [video options...]}"
shift 3
script="$(realpath "$0")"
film="$(realpath "$film")"
out="$(realpath -m "$out")"
logs="${SLURM_FILM_LOGS:-$(dirname "$out")}"
# shellcheck disable=SC2086 # SLURM_FILM_SBATCH is a list of options
array=$(sbatch --parsable --array="1-$parts" ${SLURM_FILM_SBATCH:-} --output="$logs/dreamreel-film-%A_%a.log" \
  "$script" part "$film" "$out" "$@" | cut -d';' -f1)
# shellcheck disable=SC2086
join=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --gres=none ${SLURM_FILM_SBATCH:-} \
  --output="$logs/dreamreel-film-%j-join.log" "$script" join "$film" "$out" "$@" | cut -d';' -f1)
echo "parts: array job $array (1-$parts); join: job $join"
