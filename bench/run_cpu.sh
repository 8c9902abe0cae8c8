#!/usr/bin/env bash
# Runs the CPU benchmarks with 2 LibTorch threads and prints their figures.
# usage: bench/run_cpu.sh [build-dir] [extra Google Benchmark flags]
set -euo pipefail
build="${1:-build}"
shift || true
export BIOFED_BENCH_THREADS="${BIOFED_BENCH_THREADS:-2}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "threads: $BIOFED_BENCH_THREADS"
for b in "$build"/bin/biofed_*_bench; do
  echo "== $(basename "$b")"
  "$b" "$@"
done
