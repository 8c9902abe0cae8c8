#!/usr/bin/env bash
# One shard of a sharded `biofed sweep`, as a task of a job array: Slurm
# (deploy/slurm/) or a Kubernetes Indexed Job (deploy/k8s/). The scheduler
# says which task this is, from 0 (SLURM_ARRAY_TASK_ID or
# JOB_COMPLETION_INDEX); the task runs shard K = index + 1 of N into
# $BIOFED_STUDIES/shard-K-of-N/study.db, resuming whatever an earlier,
# killed try of the same task left there.
#
# Environment:
#   BIOFED_STUDIES  folder of the shards' studies, on storage every task sees (required)
#   BIOFED_SHARDS   N (default: SLURM_ARRAY_TASK_COUNT)
#   BIOFED_PRESET   sweep preset (default quick)
#   BIOFED_CONFIG   optional JSON config over the preset (biofed sweep --config)
#   BIOFED_JOBS     cells in parallel (default: SLURM_CPUS_PER_TASK, else one per core)
#   BIOFED_DEVICE   cpu (default) or cuda (the GPU variant: one GPU per task)
#   BIOFED          the biofed binary (default: biofed on PATH)
# Arguments are passed on to `biofed sweep` (e.g. --dry-run).
set -euo pipefail

index="${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}"
shards="${BIOFED_SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}"
die() { echo "sweep-shard: $*" >&2; exit 2; }
[[ -n "$index" ]] || die "no task index: set SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (from 0)"
[[ -n "$shards" ]] || die "no shard count: set BIOFED_SHARDS"
[[ -n "${BIOFED_STUDIES:-}" ]] || die "set BIOFED_STUDIES to the folder of the shards' studies"
[[ "$index" =~ ^[0-9]+$ && "$shards" =~ ^[0-9]+$ ]] || die "index '$index' and count '$shards' must be numbers"
(( index < shards )) || die "task index $index is not below the shard count $shards"

shard=$((index + 1))
args=(sweep --preset "${BIOFED_PRESET:-quick}" --shard "$shard/$shards"
      --out "$BIOFED_STUDIES/shard-$shard-of-$shards")
[[ -n "${BIOFED_CONFIG:-}" ]] && args+=(--config "$BIOFED_CONFIG")
[[ -n "${BIOFED_DEVICE:-}" ]] && args+=(--device "$BIOFED_DEVICE")
jobs="${BIOFED_JOBS:-${SLURM_CPUS_PER_TASK:-}}"
[[ -n "$jobs" ]] && args+=(--jobs "$jobs")
exec "${BIOFED:-biofed}" "${args[@]}" "$@"
