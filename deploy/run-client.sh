#!/usr/bin/env bash
# The command of the compose `client` service. Each replica claims the first
# free client slot in the shared volume (an atomic mkdir), so
# `--scale client=N` gives N clients with distinct tokens and partitions.
set -euo pipefail
shared="${BIOFED_SHARED:-/shared}"
max="${BIOFED_MAX_CLIENTS:-8}"
me="${BIOFED_CLIENT_NAME:-$(hostname)}"
slot=""
for ((i = 0; i < max; i++)); do
  if mkdir "$shared/claims/$i" 2>/dev/null; then echo "$me" > "$shared/claims/$i/owner"; slot=$i; break; fi
  if [[ "$(cat "$shared/claims/$i/owner" 2>/dev/null)" == "$me" ]]; then slot=$i; break; fi  # restarted
done
[[ -n "$slot" ]] || { echo "run-client: all $max client slots are taken (raise BIOFED_MAX_CLIENTS)" >&2; exit 1; }
echo "run-client: $me is client c$slot" >&2
exec "${BIOFED_BIN:-biofed}" client \
  --server "${BIOFED_SERVER:-server:50051}" --ca "$shared/certs/ca.pem" \
  --token-file "$shared/tokens/c$slot" --dataset "${BIOFED_DATASET:-fashion-mnist}" \
  --num-partitions "${BIOFED_PARTITIONS:-$max}" --partition-index "$slot" --partition "${BIOFED_PARTITION:-iid}" \
  --biomod "${BIOFED_BIOMOD:-none}" --threads "${BIOFED_THREADS:-0}" \
  ${BIOFED_CLIENT_ARGS:-}
