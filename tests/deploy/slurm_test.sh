#!/usr/bin/env bash
# A sharded sweep on a real one-node Slurm cluster, the way a user runs one:
# deploy/slurm/local-cluster.sh starts munge, slurmctld and slurmd (root,
# everything under a temporary folder), deploy/slurm/submit.sh submits the
# smoke preset as a 3-task array plus the merge-and-report job. One shard
# is cancelled while it runs (a time limit or a lost node), so the merge job
# can never start; it is cancelled and the same command submitted again,
# which resumes the cancelled shard. Then the merged study must hold exactly
# the cells of a one-process smoke run with the same numbers (the recorded
# rows of tests/testdata/, the tolerance of results_regression_test.sh),
# and a report. Every daemon it started is stopped, also on failure.
# Usage: slurm_test.sh BIOFED SOURCE_DIR   (root only; exit 77 = skipped)
set -u
biofed="$(realpath "$1")"
src="$2"
fail() { echo "FAIL: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "skipped: the one-node Slurm cluster runs as root"; exit 77; }
"$src/deploy/install-deps.sh" slurm || fail "could not install slurm-wlm and munge"

work=$(mktemp -d)
cluster="$work/cluster"
studies="$work/studies"
cleanup() {
  "$src/deploy/slurm/local-cluster.sh" stop "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT
began=$(date +%s)
started=$("$src/deploy/slurm/local-cluster.sh" start "$cluster") || fail "the cluster did not start"
eval "$started"

# Waits until COMMAND succeeds, at most SECONDS.
wait_for() {
  local seconds="$1"; shift
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || return 1
    sleep 0.5
  done
}
job_state() { scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
job_is() { [[ "$(job_state "$1")" == "$2" ]]; }
has_training() {
  python3 -c "import sqlite3,sys; sys.exit(0 if sqlite3.connect(sys.argv[1]).execute('select count(*) from sweep_trainings').fetchone()[0] else 1)" "$1"
}
submit() { "$src/deploy/slurm/submit.sh" --cpus 1 --biofed "$biofed" smoke 3 "$studies"; }

ids=$(submit) || fail "submit: $ids"
array=$(awk '/^array/ {print $2}' <<< "$ids")
merge=$(awk '/^merge/ {print $2}' <<< "$ids")
# Shard 1 trains its victim first (about 10 s); cancel it once the training is stored.
wait_for 120 has_training "$studies/shard-1-of-3/study.db" || fail "shard 1 stored no training in 120 s"
scancel "${array}_0"
wait_for 60 job_is "${array}_0" CANCELLED || fail "shard 1 not cancelled: $(job_state "${array}_0")"
wait_for 120 bash -c "squeue -h -j $array | grep -q . && exit 1 || exit 0" || fail "the array did not end"
[[ "$(job_state "$merge")" == PENDING ]] || fail "the merge job ran after a cancelled shard: $(job_state "$merge")"
scancel "$merge"
[[ ! -e "$studies/study.db" ]] || fail "a merged study exists before every shard finished"
echo "ok: a cancelled shard holds back the merge"

ids=$(submit) || fail "second submit: $ids"
merge=$(awk '/^merge/ {print $2}' <<< "$ids")
wait_for 300 bash -c "[[ \$(scontrol show job $merge -o | grep -o 'JobState=[A-Z]*') =~ COMPLETED|FAILED|CANCELLED|TIMEOUT ]]" \
  || fail "the second merge job did not end in 300 s: $(job_state "$merge")"
[[ "$(job_state "$merge")" == COMPLETED ]] || fail "merge job $(job_state "$merge"): $(cat "$studies/logs/merge.out")"

"$biofed" study info "$studies/study.db" > "$work/info.txt" || fail "study info"
grep -q "all grids: 8 cells, 8 done, 0 missing" "$work/info.txt" || fail "merged study incomplete: $(cat "$work/info.txt")"
grep -q "trainings: 2, 2 done, 0 missing" "$work/info.txt" || fail "trainings missing: $(cat "$work/info.txt")"
[[ -s "$studies/report.html" ]] || fail "no report.html"
tries=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from sweep_invocations').fetchone()[0])" \
  "$studies/shard-1-of-3/study.db")
[[ "$tries" == 2 ]] || fail "shard 1 ran $tries times, expected 2 (cancelled, resubmitted)"
python3 "$src/tests/cli/study_rows.py" compare "$studies/study.db" "$src/tests/testdata/smoke_sweep_rows.json" \
  --rtol 1e-6 --atol 1e-9 || fail "the merged study differs from the one-process smoke rows"
echo "ok: 3 shards on Slurm, one cancelled and resubmitted, merged = one process ($(( $(date +%s) - began )) s)"

# The GPU variant (no GPU node here): what submit.sh --gpu hands to sbatch.
mkdir -p "$work/fake-bin"
cat > "$work/fake-bin/sbatch" <<'FAKE'
#!/usr/bin/env bash
echo "$* BIOFED_DEVICE=$BIOFED_DEVICE" >> "$FAKE_SBATCH_LOG"
echo 77
FAKE
chmod +x "$work/fake-bin/sbatch"
FAKE_SBATCH_LOG="$work/sbatch.log" PATH="$work/fake-bin:$PATH" \
  "$src/deploy/slurm/submit.sh" --gpu --cpus 4 --biofed "$biofed" smoke 2 "$work/gpu-studies" > /dev/null \
  || fail "submit.sh --gpu"
grep -q -- "--array=0-1 --cpus-per-task=4 .*--gres=gpu:1 .*sweep-array.sbatch BIOFED_DEVICE=cuda" "$work/sbatch.log" \
  || fail "the GPU variant's array job: $(cat "$work/sbatch.log")"
grep -q -- "--dependency=afterok:77 .*merge.sbatch" "$work/sbatch.log" || fail "no merge job after the GPU array"
echo "ok: submit.sh --gpu asks one GPU per shard and runs the shards with --device cuda"
