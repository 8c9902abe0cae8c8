#!/usr/bin/env bash
# Prepares the secrets of a deployment (in the compose `certs` service's own
# volume; the multi-host test shares them): the development CA and
# certificates, one bearer token per client slot and one for the auditor, and
# the server's credentials file. Idempotent: existing files are kept.
# Everything but the certificates is readable by its owner only; the compose
# `certs` service then hands each service its part (distribute-secrets.sh).
#
#   deploy/init-shared.sh SHARED_DIR MAX_CLIENTS [SERVER_NAME...]
set -euo pipefail
[[ $# -ge 2 && "$1" != "--help" ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; [[ "${1:-}" == "--help" ]]; exit $?; }
shared="$1"; max_clients="$2"; shift 2
here="$(cd "$(dirname "$0")" && pwd)"
names=()
for n in "$@"; do names+=(--server-name "$n"); done
"$here/make-certs.sh" "$shared/certs" "${names[@]}"
umask 077
mkdir -p "$shared/tokens" "$shared/claims"
new_token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for ((i = 0; i < max_clients; i++)); do
  [[ -f "$shared/tokens/c$i" ]] || new_token > "$shared/tokens/c$i"
done
[[ -f "$shared/tokens/auditor" ]] || new_token > "$shared/tokens/auditor"
{
  echo "# name roles token (written by init-shared.sh)"
  for ((i = 0; i < max_clients; i++)); do echo "c$i client $(cat "$shared/tokens/c$i")"; done
  echo "auditor auditor,scorer $(cat "$shared/tokens/auditor")"
} > "$shared/credentials.tmp"
mv "$shared/credentials.tmp" "$shared/credentials"
echo "init-shared: $max_clients client tokens, auditor token, certificates in $shared" >&2
