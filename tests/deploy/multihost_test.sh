#!/usr/bin/env bash
# The deployment on several hosts: the commands the compose services run
# (deploy/run-*.sh), each in its own network namespace joined by veth pairs
# to a private bridge, over TLS with certificates and tokens from
# deploy/init-shared.sh. A server, four clients and the auditor; client c3's
# host becomes unreachable after round 1: round 2 must close at its deadline
# with the other three, and the 3-round federation completes with the
# auditor's attacks scored. Needs root (ip netns); otherwise exits 77 (CTest
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
hosts=(server c0 c1 c2 c3 auditor)
work=$(mktemp -d)
pids=()
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
export BIOFED_ROUNDS=3 BIOFED_MIN_CLIENTS=3 BIOFED_ROUND_DEADLINE_S=8 BIOFED_CLIENT_TIMEOUT_S=120 BIOFED_LINGER_S=3
export BIOFED_PARTITIONS=4 BIOFED_SERVER=10.77.0.1:50051
deadline=8
ip netns exec "$tag-server" env BIOFED_SERVER_ARGS="--min-available 4" \
  "$source_dir/deploy/run-server.sh" > "$work/server.out" 2> "$work/server.log" &
pids+=($!)
server=$!
for i in 0 1 2 3; do
  ip netns exec "$tag-c$i" env BIOFED_CLIENT_NAME="host-c$i" BIOFED_CLIENT_ARGS="--server-name server --max-unavailable-s 60" \
    "$source_dir/deploy/run-client.sh" > "$work/client$i.out" 2> "$work/client$i.log" &
  pids+=($!)
  client[$i]=$!
done
ip netns exec "$tag-auditor" env BIOFED_AUDIT_ROUNDS=1,2 BIOFED_AUDIT_CLIENTS=c0 BIOFED_ATTACK_ITERATIONS=50 \
  BIOFED_AUDIT_ARGS="--server-name server" \
  "$source_dir/deploy/run-auditor.sh" > "$work/auditor.out" 2> "$work/auditor.log" &
pids+=($!)
auditor=$!

end=$((SECONDS + 180))
until grep -q "^round 1:" "$work/server.out" 2>/dev/null; do
  [[ $SECONDS -lt $end ]] || fail "round 1 did not complete"
  sleep 0.2
done
echo "ok: round 1 completed with 4 clients on 4 hosts"
# c3's host drops off the network while it is sampled for round 2.
ip -n "$tag-c3" link set eth0 down
echo "ok: client c3's host is unreachable"
wait "$server" || fail "server exited with $?"
python3 - "$work/results/server/summary.json" "$deadline" <<'PY' || fail "summary"
import json, sys
s = json.load(open(sys.argv[1])); deadline = float(sys.argv[2])
h = s["history"]
assert [r["round"] for r in h] == [1, 2, 3], h
r2 = h[1]
assert r2["dropped"] == ["c3"] and len(r2["participants"]) == 3, r2
assert r2["seconds"] < deadline + 4, "round 2 took %.1f s, deadline %g s" % (r2["seconds"], deadline)
print("ok: round 2 closed after %.1f s (deadline %g s) without the unreachable client" % (r2["seconds"], deadline))
PY
for i in 0 1 2; do wait "${client[$i]}" || fail "client c$i exited with $?"; done
wait "$auditor" || fail "auditor exited with $?"
grep -q "^2 updates attacked" "$work/auditor.out" || fail "auditor: $(cat "$work/auditor.out")"
python3 - "$work/results/audit/study.db" <<'PY' || fail "audit study"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select round, client_id, psnr, ssim from attacks order by round").fetchall()
assert [(r[0], r[1]) for r in rows] == [(1, "c0"), (2, "c0")], rows
print("ok: the auditor scored its attacks: " + ", ".join("round %d PSNR %.1f dB" % (r[0], r[2]) for r in rows))
PY
echo "all multi-host checks passed"
