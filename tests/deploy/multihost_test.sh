#!/usr/bin/env bash
# The deployment on several hosts: the commands the compose services run
# (deploy/run-*.sh), each in its own network namespace joined by veth pairs
# to a private bridge, over TLS with certificates and tokens from
# deploy/init-shared.sh. A server, four clients and the auditor. The first
# client (slot c0) joins, then its host drops off the network before the
# first round opens: it is still sampled (heard from recently), and every
# round must close at its deadline with the other three; the 3-round
# federation completes and the auditor scores its attacks on c1. Needs root (ip netns); otherwise exits 77 (CTest
# reports it skipped, never passed).
# Usage: multihost_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$2"
if [[ $(id -u) -ne 0 ]] || ! ip netns add biofed-probe-$$ 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here (needs root and iproute2)"; exit 77
fi
ip netns del biofed-probe-$$
tag="bf$$"
hosts=(server cut-off h1 h2 h3 auditor)
work=$(mktemp -d)
pids=()
client_pids=()
cleanup() {
  kill -9 "${pids[@]}" 2>/dev/null
  for h in "${hosts[@]}" lan; do ip netns del "$tag-$h" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "--- $f"; tail -5 "$f"; done; exit 1; }

ip netns add "$tag-lan"
ip -n "$tag-lan" link add br0 type bridge
ip -n "$tag-lan" link set br0 up
n=1
for h in "${hosts[@]}"; do
  ip netns add "$tag-$h"
  ip link add "$tag-v$n" type veth peer name "$tag-p$n"
  ip link set "$tag-v$n" netns "$tag-$h"
  ip link set "$tag-p$n" netns "$tag-lan"
  ip -n "$tag-$h" link set "$tag-v$n" name eth0
  ip -n "$tag-$h" addr add "10.77.0.$n/24" dev eth0
  ip -n "$tag-$h" link set eth0 up
  ip -n "$tag-$h" link set lo up
  ip -n "$tag-lan" link set "$tag-p$n" master br0
  ip -n "$tag-lan" link set "$tag-p$n" up
  n=$((n + 1))
done
echo "ok: 6 hosts on a private bridge"

shared="$work/shared"
"$source_dir/deploy/init-shared.sh" "$shared" 4 server 2>/dev/null || fail "init-shared"
export BIOFED_BIN="$biofed" BIOFED_SHARED="$shared" BIOFED_RESULTS="$work/results" BIOFED_THREADS=1
export BIOFED_ROUNDS=3 BIOFED_MIN_CLIENTS=3 BIOFED_CLIENT_TIMEOUT_S=120 BIOFED_LINGER_S=3
export BIOFED_PARTITIONS=4 BIOFED_SERVER=10.77.0.1:50051
deadline=6
export BIOFED_ROUND_DEADLINE_S=$deadline
wait_for() {  # wait_for <file> <pattern> <seconds>
  local end=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [[ $SECONDS -lt $end ]] || return 1
    sleep 0.1
  done
}
ip netns exec "$tag-server" env BIOFED_SERVER_ARGS="--min-available 4" \
  "$source_dir/deploy/run-server.sh" > "$work/server.out" 2> "$work/server.log" &
pids+=($!)
server=$!
start_client() {  # start_client <host>
  ip netns exec "$tag-$1" env BIOFED_CLIENT_NAME="host-$1" BIOFED_CLIENT_ARGS="--server-name server --max-unavailable-s 60" \
    "$source_dir/deploy/run-client.sh" > "$work/client-$1.out" 2> "$work/client-$1.log" &
  pids+=($!)
}
# The host that will become unreachable starts first and so holds slot c0.
start_client cut-off
wait_for "$work/server.log" "client 'c0' joined" 60 || fail "the first client did not join"
ip -n "$tag-cut-off" link set eth0 down
echo "ok: client c0 joined, then its host became unreachable (before any round opened)"
for h in h1 h2 h3; do start_client "$h"; client_pids+=($!); done
ip netns exec "$tag-auditor" env BIOFED_AUDIT_ROUNDS=1,2 BIOFED_AUDIT_CLIENTS=c1 BIOFED_ATTACK_ITERATIONS=50 \
  BIOFED_AUDIT_ARGS="--server-name server" \
  "$source_dir/deploy/run-auditor.sh" > "$work/auditor.out" 2> "$work/auditor.log" &
pids+=($!)
auditor=$!
wait "$server" || fail "server exited with $?"
python3 - "$work/results/server/summary.json" "$deadline" <<'PY' || fail "summary"
import json, sys
s = json.load(open(sys.argv[1])); deadline = float(sys.argv[2])
h = s["history"]
assert [r["round"] for r in h] == [1, 2, 3], h
for r in h:
    assert r["dropped"] == ["c0"] and r["participants"] == ["c1", "c2", "c3"], r
    assert deadline - 0.5 <= r["seconds"] < deadline + 4, "round %d took %.1f s, deadline %g s" % (r["round"], r["seconds"], deadline)
print("ok: 3 rounds, each closed at its deadline (%s s) without the unreachable client"
      % ", ".join("%.1f" % r["seconds"] for r in h))
PY
for p in "${client_pids[@]}"; do wait "$p" || fail "a reachable client exited with $?"; done
wait "$auditor" || fail "auditor exited with $?"
grep -q "^2 updates attacked" "$work/auditor.out" || fail "auditor: $(cat "$work/auditor.out")"
python3 - "$work/results/audit/study.db" <<'PY' || fail "audit study"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select round, client_id, psnr, ssim from attacks order by round").fetchall()
assert [(r[0], r[1]) for r in rows] == [(1, "c1"), (2, "c1")], rows
print("ok: the auditor scored its attacks: " + ", ".join("round %d PSNR %.1f dB" % (r[0], r[2]) for r in rows))
PY
echo "all multi-host checks passed"
