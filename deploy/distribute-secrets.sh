#!/usr/bin/env bash
# Hands each compose service only the secrets it needs (the compose `certs`
# service runs it as root after deploy/init-shared.sh). MASTER is
# init-shared.sh's output and stays in the certs service's own volume; the
# CA key never leaves it. Writes, in volumes mounted under OUT:
#
#   OUT/server/   certs/server.pem, certs/server.key, credentials (the server)
#   OUT/auditor/  certs/ca.pem, tokens/auditor                    (the auditor)
#   OUT/public/   certs/ca.pem                                    (every client)
#   OUT/tokens/   c0 ... c<N-1>: the client tokens    (the token dispenser only)
#
# Secret files are owned by the unprivileged biofed user (uid 10001) with mode
# 0400; certificates are 0444; MASTER becomes root-only. Rewrites the copies
# on every run, so they always match MASTER.
#
#   deploy/distribute-secrets.sh MASTER OUT
set -euo pipefail
[[ $# -eq 2 && "$1" != "--help" ]] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; [[ "${1:-}" == "--help" ]]; exit $?; }
master="$1"; out="$2"
user="${BIOFED_USER:-biofed}"
umask 077

put() {  # put SOURCE DEST MODE: a copy owned by the biofed user
  mkdir -p "$(dirname "$2")"
  chmod 0755 "$(dirname "$2")"
  install -o "$user" -g "$user" -m "$3" "$1" "$2.tmp"
  mv "$2.tmp" "$2"
}

chown -R root:root "$master"
chmod -R go-rwx "$master"
chmod 0755 "$out"

put "$master/certs/server.pem" "$out/server/certs/server.pem" 0444
put "$master/certs/server.key" "$out/server/certs/server.key" 0400
put "$master/credentials" "$out/server/credentials" 0400

put "$master/certs/ca.pem" "$out/auditor/certs/ca.pem" 0444
put "$master/tokens/auditor" "$out/auditor/tokens/auditor" 0400

put "$master/certs/ca.pem" "$out/public/certs/ca.pem" 0444

rm -f "$out/tokens"/c*
n=0
for token in "$master"/tokens/c*; do
  put "$token" "$out/tokens/$(basename "$token")" 0400
  n=$((n + 1))
done
chmod 0755 "$out"/*
echo "distribute-secrets: server, auditor, public ca.pem and $n client tokens for the dispenser" >&2
