#!/usr/bin/env bash
# The command of the compose `server` service, configured by the environment
# (deploy/.env.example documents every variable).
set -euo pipefail
shared="${BIOFED_SHARED:-/shared}"
exec "${BIOFED_BIN:-biofed}" server \
  --address "${BIOFED_LISTEN:-0.0.0.0:50051}" \
  --credentials "$shared/credentials" \
  --tls-cert "$shared/certs/server.pem" --tls-key "$shared/certs/server.key" \
  --model "${BIOFED_MODEL:-mlp}" --dataset "${BIOFED_DATASET:-fashion-mnist}" \
  --rounds "${BIOFED_ROUNDS:-20}" --min-clients "${BIOFED_MIN_CLIENTS:-2}" \
  --mode "${BIOFED_MODE:-fedsgd}" --lr "${BIOFED_LR:-0.1}" --batch "${BIOFED_BATCH:-4}" \
  --round-deadline-s "${BIOFED_ROUND_DEADLINE_S:-300}" --client-timeout-s "${BIOFED_CLIENT_TIMEOUT_S:-60}" \
  --checkpoint "${BIOFED_RESULTS:-/results}/server.ckpt" --out "${BIOFED_RESULTS:-/results}/server" \
  --audit-manifests --threads "${BIOFED_THREADS:-0}" --linger-s "${BIOFED_LINGER_S:-10}" \
  ${BIOFED_SERVER_ARGS:-}
