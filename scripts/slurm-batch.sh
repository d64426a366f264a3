#!/usr/bin/env bash
# Splits a dreamreel batch manifest over a Slurm job array: task I of N renders jobs I, I+N, I+2N ...
# of the manifest (`--shard I/N`, both counted from 1), so the tasks share the work with no
# coordination, no overlap and nothing left out. A rerun of the array skips finished outputs.
#
#   sbatch --array=1-4 scripts/slurm-batch.sh renders/manifest.toml
#
#SBATCH --job-name=dreamreel
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --output=dreamreel-%A_%a.log
#SBATCH --open-mode=append
# SIGTERM 2 minutes before the time limit (and on scancel or preemption): dreamreel finishes its
# frame, keeps the checkpoint and exits 143; a requeued or resubmitted task resumes from it.
#SBATCH --signal=B:TERM@120
#SBATCH --requeue
set -euo pipefail

manifest="${1:?usage: sbatch --array=1-N scripts/slurm-batch.sh MANIFEST.toml [batch options]}"
shift

# Arrays numbered from 1 (--array=1-4) map straight onto --shard; SLURM_ARRAY_TASK_COUNT is N.
# For an array numbered from 0 (--array=0-3) use shard=$((SLURM_ARRAY_TASK_ID + 1)).
shard="${SLURM_ARRAY_TASK_ID:?submit as an array job: sbatch --array=1-N}"
count="${SLURM_ARRAY_TASK_COUNT:?submit as an array job: sbatch --array=1-N}"

# Each task has its own GPU (--gres=gpu:1), which CUDA sees as device 0; with --gres=gpu:2 and
# --devices 0,1 a task would run two jobs at once.
exec "${DREAMREEL:-dreamreel}" batch "$manifest" --shard "$shard/$count" "$@"
