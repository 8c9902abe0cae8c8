#!/usr/bin/env bash
# Runs every libFuzzer program of a fuzz build for SECONDS each, as many at
# once as there are cores. Each grows a working corpus in
# BUILD/fuzz/corpus/<target>/ from the seeds in tests/fuzz/corpus/<target>/;
# a crash, leak, timeout or out-of-memory input lands in
# BUILD/fuzz/artifacts/<target>/ and fails the run, as does an input of
# tests/fuzz/regressions/<target>/ that breaks again. BUILD/fuzz/summary.txt
# lists the executions each target reached.
#   usage: run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
set -euo pipefail
if [[ $# -lt 2 || "$1" == "--help" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  [[ "${1:-}" == "--help" ]] && exit 0 || exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for program in "$build"/bin/fuzz_*; do targets+=("$(basename "$program" | sed 's/^fuzz_//')"); done
fi
out="$build/fuzz"
mkdir -p "$out"

run_one() {
  local target=$1
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
  local rc=0
  # First the inputs that once broke this target, now under the sanitizers.
  local regressions=("$source_dir/tests/fuzz/regressions/$target"/*)
  if [[ -e "${regressions[0]}" ]]; then
    "$build/bin/fuzz_$target" "${regressions[@]}" >"$out/$target.regressions.log" 2>&1 || {
      echo "$target rc=regression-failed executions=0 seconds=0 corpus=0"
      cp "$out/$target.regressions.log" "$out/$target.log"
      return
    }
  fi
  "$build/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$target/" \
      "$out/corpus/$target" "$source_dir/tests/fuzz/corpus/$target" >"$out/$target.log" 2>&1 || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$target.log" | grep -o '[0-9]*$' || echo "?")
  echo "$target rc=$rc executions=$execs seconds=$seconds corpus=$(ls "$out/corpus/$target" | wc -l)"
}
export -f run_one
export build out seconds source_dir

printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_one {}' | sort | tee "$out/summary.txt"
failed=0
while read -r target rc rest; do
  if [[ "$rc" != "rc=0" ]]; then
    failed=1
    echo "=== fuzz_$target failed ($rc); the end of its log:" >&2
    tail -n 40 "$out/$target.log" >&2
    ls -l "$out/artifacts/$target" >&2
  fi
done <"$out/summary.txt"
exit $failed
