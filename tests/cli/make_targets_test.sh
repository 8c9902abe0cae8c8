#!/usr/bin/env bash
# What `make demo` and `make sweep` build: the biofed executable only, not
# every test binary (which cost a fresh machine 18 minutes before its first
# demo); `make test` still builds everything. Reads the Makefile's plan
# (`make -n`), builds nothing.
# Usage: make_targets_test.sh SOURCE_DIR
set -u
source_dir="$1"
fail() { echo "FAIL: $*"; exit 1; }
for goal in demo sweep; do
  plan=$(make -n -C "$source_dir" "$goal" BUILD_DIR=/nonexistent-build 2>&1) || fail "make -n $goal: $plan"
  builds=$(grep -E '^cmake --build' <<< "$plan")
  [[ -n "$builds" ]] || fail "make $goal builds nothing: $plan"
  if grep -qv -- '--target biofed$' <<< "$builds"; then fail "make $goal builds more than biofed: $builds"; fi
done
plan=$(make -n -C "$source_dir" test BUILD_DIR=/nonexistent-build 2>&1) || fail "make -n test: $plan"
grep -qE '^cmake --build /nonexistent-build -j [0-9]+$' <<< "$plan" || fail "make test does not build everything: $plan"
echo "ok: make demo and make sweep build the biofed executable only; make test builds everything"
