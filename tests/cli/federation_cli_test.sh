#!/usr/bin/env bash
# Real processes over TLS: `biofed server` and three `biofed client`s on
# loopback. One client is killed (SIGKILL) after round 1: round 2 closes at
# its deadline with the other two. The server is killed (SIGKILL) after
# round 2 and restarted with the same checkpoint: it resumes at round 3, the
# clients reconnect, and the run completes. Usage: federation_cli_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$2"
source "$source_dir/tests/cli/federation_test_lib.sh"
start_federation_files 3
server_args=(server --address "127.0.0.1:$port" --credentials "$work/credentials"
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key"
  --rounds 3 --min-clients 2 --min-available 3 --round-deadline-s 6 --client-timeout-s 3
  --batch 100 --lr 0.05 --checkpoint "$work/server.ckpt" --out "$work/out" --threads 1 --linger-s 3)
"$biofed" "${server_args[@]}" > "$work/server1.out" 2> "$work/server1.log" &
server=$!
pids+=($server)
for i in 0 1 2; do
  "$biofed" client --server "localhost:$port" --ca "$work/certs/ca.pem" --token-file "$work/token$i" \
    --num-partitions 3 --partition-index $i --threads 1 --max-unavailable-s 60 \
    > "$work/client$i.out" 2> "$work/client$i.log" &
  pids+=($!)
  client[$i]=$!
done

wait_for "$work/server1.out" "^round 1:" 120 || fail "round 1 did not complete"
kill -9 "${client[2]}"
echo "ok: round 1 completed; client2 killed"
wait_for "$work/server1.out" "^round 2:" 60 || fail "round 2 did not complete after a client died"
grep "^round 2:" "$work/server1.out" | grep -q "2 updates, 1 dropped" || fail "round 2 should close with 2 updates, 1 dropped: $(grep '^round 2' "$work/server1.out")"
echo "ok: round 2 closed at its deadline with the two live clients"
kill -9 "$server"
wait "$server" 2>/dev/null
echo "ok: server killed after round 2"

# Two clients are left: the restarted server opens rounds with two.
"$biofed" "${server_args[@]}" --min-available 2 > "$work/server2.out" 2> "$work/server2.log" &
server=$!
pids+=($server)
wait_for "$work/server2.log" "resumed from .* after round 2" 30 || fail "restarted server did not resume after round 2"
echo "ok: restarted server resumed after round 2"
wait "$server"
code=$?
[[ $code -eq 0 ]] || fail "server exited with $code"
grep -q "^round 3:" "$work/server2.out" || fail "round 3 missing after the restart"
for i in 0 1; do wait "${client[$i]}" || fail "client$i exited with $?"; done
python3 - "$work/out/summary.json" <<'PY' || fail "summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
rounds = [r["round"] for r in s["history"]]
assert rounds == [1, 2, 3], rounds
assert s["history"][1]["dropped"] == ["client2"], s["history"][1]
print("ok: summary.json holds rounds 1-3; final test accuracy %.4f" % s["history"][-1]["test_accuracy"])
PY
echo "all federation CLI checks passed"
