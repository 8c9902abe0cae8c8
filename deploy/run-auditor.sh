#!/usr/bin/env bash
# The command of the compose `auditor` service: attacks the observed updates.
set -euo pipefail
shared="${BIOFED_SHARED:-/shared}"
exec "${BIOFED_BIN:-biofed}" audit \
  --server "${BIOFED_SERVER:-server:50051}" --ca "$shared/certs/ca.pem" \
  --token-file "$shared/tokens/auditor" --dataset "${BIOFED_DATASET:-fashion-mnist}" \
  --rounds "${BIOFED_AUDIT_ROUNDS:-1}" --clients "${BIOFED_AUDIT_CLIENTS:-c0}" \
  --attack "${BIOFED_ATTACK:-ig}" --attack-iterations "${BIOFED_ATTACK_ITERATIONS:-1000}" \
  --out "${BIOFED_RESULTS:-/results}/audit" --threads "${BIOFED_THREADS:-0}" \
  ${BIOFED_AUDIT_ARGS:-}
