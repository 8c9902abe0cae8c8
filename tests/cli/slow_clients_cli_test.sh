#!/usr/bin/env bash
# Real processes over TLS whose local training is slower than the round
# deadline: `biofed server --round-deadline-s 1` and two `biofed client`s
# that each train about 10,000 examples a round on one thread (seconds).
# Every round passes its deadline before any update arrives; the round keeps
# waiting for its live sampled clients (the log says for whom), closes with
# both updates, none dropped, no update refused, and the run completes.
# Before the deadline policy of issue 20 the round was dropped at its
# deadline and the late updates refused ("round 1 is not open").
# Usage: slow_clients_cli_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$2"
source "$source_dir/tests/cli/federation_test_lib.sh"
start_federation_files 2
"$biofed" server --address "127.0.0.1:$port" --credentials "$work/credentials" \
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  --rounds 2 --min-clients 2 --round-deadline-s 1 --client-timeout-s 30 --local-epochs 1 \
  --batch 100 --lr 0.05 --out "$work/out" --threads 1 --linger-s 3 \
  > "$work/server.out" 2> "$work/server.log" &
server=$!
pids+=($server)
for i in 0 1; do
  "$biofed" client --server "localhost:$port" --ca "$work/certs/ca.pem" --token-file "$work/token$i" \
    --num-partitions 6 --partition-index $i --threads 1 --max-unavailable-s 60 \
    > "$work/client$i.out" 2> "$work/client$i.log" &
  pids+=($!)
  client[$i]=$!
done

end=$((SECONDS + 300))
while kill -0 "$server" 2>/dev/null; do
  [[ $SECONDS -ge $end ]] && fail "the federation did not finish within 300 s (a hang)"
  sleep 0.5
done
wait "$server"
code=$?
[[ $code -eq 0 ]] || fail "server exited with $code"
for i in 0 1; do wait "${client[$i]}" || fail "client$i exited with $?"; done
grep -q "deadline passed with 0 of 2 required updates; waiting for client0, client1" "$work/server.log" \
  || fail "no round passed its deadline: training was not slower than the deadline"
echo "ok: a round passed its deadline while both clients were still training"
! grep -q "rejected an update" "$work/server.log" || fail "an update was refused: $(grep 'rejected an update' "$work/server.log" | head -3)"
for r in 1 2; do
  grep "^round $r:" "$work/server.out" | grep -q "2 updates, 0 dropped" \
    || fail "round $r should close with 2 updates, 0 dropped: $(grep "^round $r" "$work/server.out")"
done
python3 - "$work/out/summary.json" <<'PY' || fail "summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
assert [r["round"] for r in s["history"]] == [1, 2], s["history"]
for r in s["history"]:
    assert sorted(r["participants"]) == ["client0", "client1"] and r["dropped"] == [], r
    assert r["seconds"] > 1.0, ("the round did not outlast its deadline", r["seconds"])
print("ok: both rounds closed with both updates after %.1f and %.1f s (deadline 1 s)"
      % tuple(r["seconds"] for r in s["history"]))
PY
echo "all slow-client checks passed"
