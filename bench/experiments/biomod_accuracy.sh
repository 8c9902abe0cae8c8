#!/usr/bin/env bash
# docs/experiments.md, "Baseline vs FL+WR+WS": `biofed train --compare` for
# three seeds, the MLP (30 epochs, full Fashion-MNIST) and ResNet20 (5
# epochs on the first 10,000 training images), SGD lr 0.01, batch 100, the
# paper's defaults tau 0.18, d_re 14, Gamma 2. Then aggregates mean and std.
# usage: bench/experiments/biomod_accuracy.sh [build-dir] [out-dir]
set -euo pipefail
build="${1:-build}"
out="${2:-results/experiments/biomod_accuracy}"
mkdir -p "$out"
run() {  # run <name> <flags...>
  local name="$1"; shift
  if [[ -s "$out/$name/summary.json" ]]; then echo "skip $name (done)"; return; fi
  "$build/bin/biofed" train --compare --dataset fashion-mnist --lr 0.01 --batch 100 --threads 2 \
    --out "$out/$name" "$@" > "$out/$name.log" 2>&1
  echo "done $name"
}
for seed in 1 2 3; do
  run "mlp-seed$seed" --model mlp --epochs 30 --seed "$seed"
  run "resnet20-seed$seed" --model resnet20 --epochs 5 --train-subset 10000 --seed "$seed"
done
python3 "$(dirname "$0")/aggregate_compare.py" "$out"
