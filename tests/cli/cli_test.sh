#!/usr/bin/env bash
# End-to-end checks of the biofed command line: --help everywhere, clear
# errors with the right exit codes, and a short training run that writes
# summary.json.
set -u
biofed="$1"
failures=0
check() {  # check <description> <expected exit code> <command...>
  local description="$1" expected="$2"
  shift 2
  "$@" >/tmp/biofed-cli-out.$$ 2>&1
  local code=$?
  if [[ $code -ne $expected ]]; then
    echo "FAIL: $description (exit $code, expected $expected)"; cat /tmp/biofed-cli-out.$$
    failures=$((failures + 1))
  else
    echo "ok: $description"
  fi
}
expect_output() {  # expect_output <description> <pattern>
  if grep -q -- "$2" /tmp/biofed-cli-out.$$; then echo "ok: $1"; else
    echo "FAIL: $1: output lacks '$2'"; cat /tmp/biofed-cli-out.$$; failures=$((failures + 1)); fi
}

check "top-level help" 0 "$biofed" --help
for cmd in $("$biofed" --help | awk '/^commands:/{f=1;next} f && /^  [a-z]/{print $1}'); do
  check "$cmd --help" 0 "$biofed" "$cmd" --help
  expect_output "$cmd --help shows usage" "usage: biofed $cmd"
done
check "unknown command" 2 "$biofed" frobnicate
check "unknown flag" 2 "$biofed" train --frobnicate 3
expect_output "unknown flag is named" "unknown flag --frobnicate"
check "bad number" 2 "$biofed" train --lr fast
check "missing data dir" 1 "$biofed" train --data-dir /nonexistent
expect_output "missing file is named" "/nonexistent/train-images-idx3-ubyte"
check "bad biomod" 1 "$biofed" train --biomod fl,xx
expect_output "bad biomod item is named" "bad --biomod item 'xx'"
check "bad threat-model switch" 2 "$biofed" attack --local-hyperparameters maybe
expect_output "bad switch is named" "--local-hyperparameters: expected known or unknown, got 'maybe'"
check "known labels with an estimated batch size" 1 "$biofed" attack --batch-size estimated --labels known --attack-iterations 1
expect_output "the contradiction is explained" "known labels give the batch size away"
check "WS that cannot divide" 1 "$biofed" train --biomod ws --gamma 3 --train-subset 100
expect_output "WS error names the layer" "fc1 has 1000 outputs"
out=$(mktemp -d)
check "short training run" 0 "$biofed" train --train-subset 1000 --epochs 1 --threads 2 --biomod fl,wr,ws --out "$out"
if [[ -s "$out/summary.json" ]] && grep -q '"rejuvenated_fraction_per_step"' "$out/summary.json"; then
  echo "ok: summary.json written with per-layer insight"
else
  echo "FAIL: summary.json missing or incomplete"; failures=$((failures + 1))
fi
check "info models" 0 "$biofed" info models
expect_output "info lists resnet56" "resnet56"
rm -rf "$out" /tmp/biofed-cli-out.$$
echo "cli: $failures failed"
[[ $failures -eq 0 ]]
