#!/usr/bin/env bash
# The results of the project's two reference runs stay what they were when
# their rows were recorded (tests/testdata/, by tests/cli/study_rows.py
# export): `biofed sweep --preset smoke` and `biofed simulate` with its
# defaults (fixed seed). A refactor that changes a number shows here, row and
# column named. Tolerance: relative 1e-6, room for float32 summation order
# (LibTorch threads pinned to 2), far below any effect the studies report.
# Usage: results_regression_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$2"
rows="$source_dir/tests/cli/study_rows.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$biofed" sweep --preset smoke --jobs 2 --out "$work/smoke" > "$work/smoke.out" 2>&1 \
  || fail "smoke sweep: $(tail -5 "$work/smoke.out")"
python3 "$rows" compare "$work/smoke/study.db" "$source_dir/tests/testdata/smoke_sweep_rows.json" \
  --rtol 1e-6 --atol 1e-9 || fail "the smoke sweep's rows changed"
"$biofed" simulate --threads 2 --out "$work/sim" > "$work/sim.out" 2>&1 \
  || fail "simulate: $(tail -5 "$work/sim.out")"
python3 "$rows" compare "$work/sim/study.db" "$source_dir/tests/testdata/simulate_default_rows.json" \
  --rtol 1e-6 --atol 1e-9 || fail "the default simulation's rows changed"
echo "ok: smoke sweep and default simulation rows unchanged"
