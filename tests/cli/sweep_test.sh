#!/usr/bin/env bash
# `biofed sweep` end to end on a small grid (real Fashion-MNIST): the config
# checks, an uninterrupted run, the same sweep killed (SIGKILL) halfway and
# resumed (only the missing cells run, and every result equals the
# uninterrupted run's), Ctrl-C's clean stop, a study refusing other shared
# settings, and the report rendered in headless Chromium.
# Usage: sweep_test.sh BIOFED
set -u
biofed="$1"
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
count_cells() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from sweep_cells').fetchone()[0])" "$1" 2>/dev/null || echo 0; }

"$biofed" sweep --help | grep -q -- "--preset" || fail "--help"
"$biofed" sweep --preset quick --dry-run | grep -q "^168 attack cells, 32 training federations" || fail "quick dry run"
cat > "$work/small.json" <<'JSON'
{"train_rounds": 4, "train_clients": 2, "eval_every": 2, "attack_iterations": 40,
 "grids": [{"models": ["mlp"], "mechanisms": ["none", "fl", "wr,ws", "fl,wr,ws"], "victims": ["untrained", "trained"],
            "batch_sizes": [1, 2], "seeds": [1, 2], "defenses": ["none", "topk:0.1"]},
           {"models": ["resnet20"], "mechanisms": ["none", "ws"], "victims": ["untrained"], "batch_sizes": [1],
            "seeds": [1], "attack_iterations": 3}]}
JSON
total=66  # 4 mechanisms x 2 victims x 2 batches x 2 seeds x 2 defenses + 2
"$biofed" sweep --config "$work/small.json" --print-config > "$work/printed.json" || fail "--print-config"
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); assert c['train_rounds']==4 and len(c['grids'])==2 and c['grids'][1]['attack_iterations']==3, c" \
  "$work/printed.json" || fail "--print-config does not show the file's keys"
echo '{"grids": [{"modelz": ["mlp"]}]}' > "$work/typo.json"
"$biofed" sweep --config "$work/typo.json" --out "$work/typo" > "$work/typo.out" 2>&1 && fail "an unknown grid key was accepted"
grep -q "grid 1: unknown key 'modelz'" "$work/typo.out" || fail "unknown key not named: $(cat "$work/typo.out")"
echo "ok: help, dry run, print-config and key checks"

"$biofed" sweep --config "$work/small.json" --out "$work/a" --jobs 2 > "$work/a.out" 2> "$work/a.err" \
  || fail "uninterrupted sweep: $(tail -5 "$work/a.err")"
grep -q "ran 16 trainings and $total cells" "$work/a.err" || fail "uninterrupted counts: $(tail -3 "$work/a.err")"
# Two budgets of one attack (the MLP's and the ResNet's grids) are reported apart.
grep -q "^mlp  *trained  *ig, 40 iterations  *topk:0.1  *fl+wr+ws  *4 " "$work/a.out" \
  || fail "no summary row: $(cat "$work/a.out")"
# A 3-iteration attack does not reconstruct ResNet20's baseline, and the table says so.
grep -A2 "^resnet20 .*ig, 3 iterations" "$work/a.out" | grep -q "attack fails on the baseline.*no privacy conclusion" \
  || fail "no baseline verdict: $(cat "$work/a.out")"
echo "ok: uninterrupted sweep of $total cells"

# The same sweep, SIGKILLed once about half of its cells are in the study.
"$biofed" sweep --config "$work/small.json" --out "$work/b" --jobs 2 > /dev/null 2> "$work/b1.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(count_cells "$work/b/study.db")" -ge $((total / 2)) ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -9 $pid 2>/dev/null || fail "the sweep finished before it could be killed"
wait $pid 2>/dev/null
done_before=$(count_cells "$work/b/study.db")
[ "$done_before" -ge $((total / 2)) ] && [ "$done_before" -lt $total ] || fail "killed with $done_before of $total cells"
"$biofed" sweep --config "$work/small.json" --out "$work/b" --jobs 1 > "$work/b.out" 2> "$work/b2.err" \
  || fail "resumed sweep: $(tail -5 "$work/b2.err")"
grep -q "^\[ *[0-9]*s\] $total cells ($done_before already in the study)" "$work/b2.err" \
  || fail "resume did not find the $done_before finished cells: $(head -2 "$work/b2.err")"
grep -q "and $((total - done_before)) cells in" "$work/b2.err" || fail "resume ran other than the missing cells: $(tail -2 "$work/b2.err")"
python3 - "$work/a/study.db" "$work/b/study.db" <<'PY' || fail "resumed results differ"
import sqlite3, sys
cols = ("key, mse, psnr, ssim, relative_error_percent, label_accuracy, objective, update_norm, png")
a = sqlite3.connect(sys.argv[1]).execute(f"select {cols} from sweep_cells order by key").fetchall()
b = sqlite3.connect(sys.argv[2]).execute(f"select {cols} from sweep_cells order by key").fetchall()
assert len(a) == len(b) == 66, (len(a), len(b))
for x, y in zip(a, b):
    assert x == y, (x[:8], y[:8])
t = "key, test_accuracy, accuracy_curve_json, model_state"
assert sqlite3.connect(sys.argv[1]).execute(f"select {t} from sweep_trainings order by key").fetchall() == \
       sqlite3.connect(sys.argv[2]).execute(f"select {t} from sweep_trainings order by key").fetchall()
print("ok: killed at", sys.argv[2], "and resumed: all 66 cells and 16 trained models equal the uninterrupted run's")
PY
echo "ok: killed with $done_before/$total cells done, the restart ran the other $((total - done_before)) only"

# Ctrl-C stops cleanly with exit 130 and a resumable study.
"$biofed" sweep --config "$work/small.json" --out "$work/c" --jobs 2 > /dev/null 2> "$work/c.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(count_cells "$work/c/study.db")" -ge 4 ] && break
  sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "Ctrl-C exit code $rc: $(tail -3 "$work/c.err")"
grep -q "run the same command again to resume" "$work/c.err" || fail "no resume hint"
echo "ok: Ctrl-C stops with exit 130 and a resume hint"

sed 's/"train_rounds": 4/"train_rounds": 5/' "$work/small.json" > "$work/other.json"
"$biofed" sweep --config "$work/other.json" --out "$work/a" > "$work/other.out" 2>&1 && fail "other shared settings accepted"
grep -q "other shared settings" "$work/other.out" || fail "settings mismatch not explained: $(cat "$work/other.out")"
echo "ok: a study refuses other shared settings"

command -v chromium >/dev/null || fail "chromium is not installed (deploy/install-deps.sh test)"
# 5 groups x 3 bar charts (gradient error, relative error, PSNR), 1 privacy-accuracy and 1 accuracy-curve
# chart; one image per group and mechanisms.
timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/a/report.html" > "$work/dom.html" 2> "$work/chrome.err" || fail "chromium failed"
grep -q 'data-rendered="images 18/18 charts 17"' "$work/dom.html" \
  || fail "report did not render all images and charts: $(grep -o 'data-rendered="[^"]*"' "$work/dom.html")"
if grep -q ":CONSOLE" "$work/chrome.err"; then fail "console messages: $(grep ':CONSOLE' "$work/chrome.err")"; fi
"$biofed" report "$work/b/study.db" --out "$work/b.html" > /dev/null || fail "biofed report on a sweep study"
grep -q "Privacy against accuracy" "$work/b.html" || fail "the report command did not render the sweep report"
echo "all sweep checks passed"
