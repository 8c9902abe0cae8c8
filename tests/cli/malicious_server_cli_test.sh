#!/usr/bin/env bash
# The malicious (imprinting) server is never the default and always says so:
#  - `simulate --server-behaviour imprint --attack imprint`: labelled on
#    stderr and in the table; the baseline's batches are read off exactly,
#    while the attack without that server behaviour, or that behaviour with
#    an optimisation attack, is refused with the reason;
#  - a real `biofed server --malicious-imprint-bins 256` with two `biofed
#    client`s and `biofed audit --attack imprint` over TCP: the server logs
#    that it is malicious, each client warns of the imprint block it was
#    sent, and the auditor recovers every image of every update.
# Usage: malicious_server_cli_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$2"
source "$source_dir/tests/cli/federation_test_lib.sh"

"$biofed" simulate --print-config | grep -q '"server_behaviour": "honest"' || fail "the default server is not honest"
"$biofed" simulate --attack imprint > "$work/refused.out" 2>&1 && fail "the imprint attack ran without a malicious server"
grep -q "needs a malicious server: set server_behaviour imprint" "$work/refused.out" \
  || fail "refusal not explained: $(cat "$work/refused.out")"
"$biofed" simulate --server-behaviour imprint > "$work/refused2.out" 2>&1 && fail "an imprinting server ran with IG"
grep -q "set attack imprint" "$work/refused2.out" || fail "refusal not explained: $(cat "$work/refused2.out")"
echo "ok: the imprinting server is never implied and never mixed with an optimisation attack"

"$biofed" simulate --server-behaviour imprint --attack imprint --clients 2 --rounds 2 --batch 8 \
  --samples-per-client 64 --biomods none --threads 2 --out "$work/sim" > "$work/sim.out" 2> "$work/sim.err" \
  || fail "simulate: $(tail -5 "$work/sim.err")"
grep -q "MALICIOUS server (imprint, 256 bins)" "$work/sim.err" || fail "no malicious label on stderr"
grep -q "MALICIOUS imprinting server" "$work/sim.out" || fail "no malicious label in the table"
python3 - "$work/sim/summary.json" <<'PY' || fail "simulate summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["config"]["server_behaviour"] == "imprint", s["config"]
attacks = s["federations"]["baseline"]["attacks"]
assert len(attacks) == 2, attacks
# Every image read off exactly (>= 60 dB; float32 rounding gives 60-90). The seeds are fixed, so no two of
# the 8 images share an interval of the 256 bins here (a collision would lose both).
assert all(a["recovered_fraction"] == 1.0 and a["psnr"] >= 60 for a in attacks), attacks
print("ok: simulate's imprinting server reads the baseline batches (PSNR %s)" % [round(a["psnr"], 1) for a in attacks])
PY

start_federation_files 2
echo "auditor auditor,scorer auditor-token-0000000000000000" >> "$work/credentials"
echo "auditor-token-0000000000000000" > "$work/token-auditor"
"$biofed" server --address "127.0.0.1:$port" --credentials "$work/credentials" --insecure --malicious-imprint-bins 256 \
  --audit-manifests --mode fedsgd --batch 8 --rounds 2 --min-clients 2 --threads 1 --linger-s 3 \
  > "$work/server.out" 2> "$work/server.log" &
server=$!
pids+=($server)
"$biofed" audit --server "127.0.0.1:$port" --insecure --token-file "$work/token-auditor" --attack imprint \
  --max-unavailable-s 60 --threads 1 --out "$work/audit" > "$work/audit.out" 2> "$work/audit.log" &
auditor=$!
pids+=($auditor)
for i in 0 1; do
  "$biofed" client --server "127.0.0.1:$port" --insecure --token-file "$work/token$i" --num-partitions 2 \
    --partition-index $i --threads 1 --max-unavailable-s 60 > "$work/client$i.out" 2> "$work/client$i.log" &
  pids+=($!)
  client[$i]=$!
done
wait "$server" || fail "server exited with $?"
for i in 0 1; do wait "${client[$i]}" || fail "client$i exited with $?"; done
wait "$auditor" || fail "audit exited with $?: $(cat "$work/audit.log")"
grep -q "MALICIOUS server" "$work/server.log" || fail "the server did not say it is malicious"
for i in 0 1; do
  grep -q "the server's model has an imprint block of 256 bins" "$work/client$i.log" || fail "client$i was not warned"
done
python3 - "$work/audit/study.db" <<'PY' || fail "audit study: $(cat "$work/audit.out")"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select round, client_id, psnr, recovered_fraction from attacks").fetchall()
assert len(rows) == 4, rows  # 2 rounds x 2 clients
assert all(r[3] == 1.0 and r[2] >= 60 for r in rows), rows  # every image, exactly, as above
print("ok: the auditor of a deployed imprinting server reads every update (PSNR %s)" % [round(r[2], 1) for r in rows])
PY
echo "all malicious-server checks passed"
