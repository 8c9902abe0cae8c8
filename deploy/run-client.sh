#!/usr/bin/env bash
# The command of the compose `client` service. A replica gets its client
# token and slot (which also picks its partition) in one of two ways:
# - BIOFED_TOKEN_DISPENSER=HOST:PORT (compose): it asks the token dispenser
#   (deploy/token-dispenser.sh) for one token; it sees no other secret than
#   ca.pem in BIOFED_SHARED.
# - otherwise (hosts sharing the output of deploy/init-shared.sh, as in
#   tests/deploy/multihost_test.sh): it claims the first free slot in the
#   shared directory (an atomic mkdir) and reads that slot's token there.
# Either way `--scale client=N` gives N clients with distinct tokens.
set -euo pipefail
shared="${BIOFED_SHARED:-/shared}"
max="${BIOFED_MAX_CLIENTS:-8}"
me="${BIOFED_CLIENT_NAME:-$(hostname)}"
die() { echo "run-client: $*" >&2; exit 1; }

claim_from_dispenser() {  # sets slot and token_file
  local host="${BIOFED_TOKEN_DISPENSER%:*}" port="${BIOFED_TOKEN_DISPENSER##*:}" name token try
  for ((try = 0; try < 30; try++)); do
    { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null && break
    sleep 1
  done
  (( try < 30 )) || die "cannot reach the token dispenser at $BIOFED_TOKEN_DISPENSER"
  echo claim >&3
  IFS=' ' read -r -t 30 name token <&3 || die "no answer from the token dispenser"
  exec 3<&-
  [[ "$name" =~ ^c[0-9]+$ ]] || die "the token dispenser said: $name $token"
  slot="${name#c}"
  token_file=$(mktemp)  # mode 0600, in this container only
  printf '%s' "$token" > "$token_file"
}

claim_from_shared() {  # sets slot and token_file
  local i
  slot=""
  for ((i = 0; i < max; i++)); do
    if mkdir "$shared/claims/$i" 2>/dev/null; then echo "$me" > "$shared/claims/$i/owner"; slot=$i; break; fi
    if [[ "$(cat "$shared/claims/$i/owner" 2>/dev/null)" == "$me" ]]; then slot=$i; break; fi  # restarted
  done
  [[ -n "$slot" ]] || die "all $max client slots are taken (raise BIOFED_MAX_CLIENTS)"
  token_file="$shared/tokens/c$slot"
}

if [[ -n "${BIOFED_TOKEN_DISPENSER:-}" ]]; then claim_from_dispenser; else claim_from_shared; fi
echo "run-client: $me is client c$slot" >&2
exec "${BIOFED_BIN:-biofed}" client \
  --server "${BIOFED_SERVER:-server:50051}" --ca "$shared/certs/ca.pem" \
  --token-file "$token_file" --dataset "${BIOFED_DATASET:-fashion-mnist}" \
  --num-partitions "${BIOFED_PARTITIONS:-$max}" --partition-index "$slot" --partition "${BIOFED_PARTITION:-iid}" \
  --biomod "${BIOFED_BIOMOD:-none}" --threads "${BIOFED_THREADS:-0}" \
  ${BIOFED_CLIENT_ARGS:-}
