#!/usr/bin/env bash
# The compose `tokens` service: hands each client replica exactly one client
# token, once. It listens on a network that only the client replicas join
# (compose network `enroll`) and identifies a replica by its source address
# there, which an unprivileged container without capabilities cannot forge
# or change. The first request from an address claims the lowest free token
# c<K>; later requests from the same address (a restarted replica) get the
# same one; when all are claimed it answers with an error. Claims live in the
# dispenser's own container (/tmp), so a new deployment starts afresh. At
# most 16 connections are served at once, each for at most 10 s.
#
# Protocol (one line each way, plain TCP): the client sends "claim", the
# dispenser answers "c<K> <token>" or "error <message>". A connection that
# sends nothing (the health check) claims nothing.
#
#   deploy/token-dispenser.sh serve TOKENS_DIR [PORT]   listen (default port 7000)
#   deploy/token-dispenser.sh handle TOKENS_DIR         one connection (run by socat)
set -euo pipefail
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 2 ]] || { usage >&2; exit 2; }
command="$1"; tokens="$2"
claims="${BIOFED_CLAIMS_DIR:-/tmp/claims}"

serve() {
  mkdir -p "$claims"
  local n
  n=$(find "$tokens" -maxdepth 1 -name 'c*' | wc -l)
  (( n > 0 )) || { echo "token-dispenser: no client tokens in $tokens" >&2; exit 1; }
  echo "token-dispenser: $n client tokens, listening on port ${1:-7000}" >&2
  exec socat "TCP-LISTEN:${1:-7000},fork,reuseaddr,max-children=16" "EXEC:$0 handle $tokens"
}

handle() {
  local peer="${SOCAT_PEERADDR:-}" request name="" i
  [[ "$peer" =~ ^[0-9a-fA-F:.]+$ ]] || { echo "error no peer address"; exit 0; }
  IFS= read -r -t 10 request || exit 0
  [[ "$request" == claim ]] || { echo "error unknown request"; exit 0; }
  exec 9>"$claims/.lock"
  flock 9
  if [[ -f "$claims/peer-$peer" ]]; then
    name=$(<"$claims/peer-$peer")
  else
    for ((i = 0; ; i++)); do
      [[ -f "$tokens/c$i" ]] || break
      [[ -e "$claims/slot-c$i" ]] || { name="c$i"; break; }
    done
    [[ -n "$name" ]] || { echo "error all client tokens are claimed"; echo "token-dispenser: none left for $peer" >&2; exit 0; }
    echo "$peer" > "$claims/slot-$name"
    echo "$name" > "$claims/peer-$peer"
  fi
  echo "$name $(<"$tokens/$name")"
  echo "token-dispenser: $name to $peer" >&2
}

case "$command" in
  serve) serve "${3:-}" ;;
  handle) handle ;;
  *) usage >&2; exit 2 ;;
esac
