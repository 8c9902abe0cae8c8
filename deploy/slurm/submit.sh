#!/usr/bin/env bash
# Submits a sharded `biofed sweep` to Slurm: a job array of N shards and a
# merge-and-report job that runs once all of them succeeded.
#
#   deploy/slurm/submit.sh [options] PRESET N STUDIES_DIR
#
#   --cpus C         CPUs per shard (default 2; also the shard's --jobs)
#   --gpu            the GPU variant: each shard asks --gres=gpu:1 and runs with --device cuda
#                    (its training federations and attacks on the GPU)
#   --config FILE    JSON config over the preset
#   --time T         time limit per shard (sbatch --time)
#   --sbatch "ARGS"  more sbatch arguments for both jobs (e.g. "--partition=long --account=lab")
#   --biofed PATH    the biofed binary (default: build/bin/biofed of this checkout, else biofed on PATH)
#
# Prints the two job ids ("array JOBID", "merge JOBID"). STUDIES_DIR must be
# on storage every node sees. Submitting the same command again after a
# failure (a node lost, a time limit) resumes: finished shards end at once,
# the others go on where they stopped. Results: STUDIES_DIR/study.db and
# STUDIES_DIR/report.html; logs in STUDIES_DIR/logs/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
cpus=2 gpu="" config="" time_limit="" extra="" biofed=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --cpus) cpus="$2"; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --config) config="$(realpath "$2")"; shift 2 ;;
    --time) time_limit="$2"; shift 2 ;;
    --sbatch) extra="$2"; shift 2 ;;
    --biofed) biofed="$(realpath "$2")"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) echo "submit: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $# -eq 3 ]] || { usage >&2; exit 2; }
preset="$1" shards="$2"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit: N must be a positive number, not '$shards'" >&2; exit 2; }
mkdir -p "$3/logs"
studies="$(cd "$3" && pwd)"
if [[ -z "$biofed" ]]; then
  if [[ -x "$here/../../build/bin/biofed" ]]; then biofed="$(realpath "$here/../../build/bin/biofed")"; else biofed="$(command -v biofed || true)"; fi
fi
[[ -n "$biofed" && -x "$biofed" ]] || { echo "submit: no biofed binary (build it, or pass --biofed)" >&2; exit 2; }
# Refuse a bad preset or config here, not in N tasks.
"$biofed" sweep --preset "$preset" ${config:+--config "$config"} ${gpu:+--device cuda} --shard "1/$shards" --dry-run \
  >/dev/null

export BIOFED="$biofed" BIOFED_DEPLOY="$(cd "$here/.." && pwd)" BIOFED_STUDIES="$studies"
export BIOFED_SHARDS="$shards" BIOFED_PRESET="$preset" BIOFED_CONFIG="$config" BIOFED_JOBS="$cpus"
export BIOFED_DEVICE="${gpu:+cuda}"
common=(--parsable --export=ALL)
[[ -n "$time_limit" ]] && common+=(--time "$time_limit")
# shellcheck disable=SC2206  # --sbatch takes a word list on purpose
[[ -n "$extra" ]] && common+=($extra)
array_args=(--array="0-$((shards - 1))" --cpus-per-task="$cpus" --output="$studies/logs/shard-%a.out")
[[ -n "$gpu" ]] && array_args+=(--gres=gpu:1)
array=$(sbatch "${common[@]}" "${array_args[@]}" "$here/sweep-array.sbatch")
array="${array%%;*}"
merge=$(sbatch "${common[@]}" --dependency="afterok:$array" --output="$studies/logs/merge.out" "$here/merge.sbatch")
merge="${merge%%;*}"
echo "array $array"
echo "merge $merge"
