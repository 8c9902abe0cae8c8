#!/usr/bin/env bash
# `biofed simulate` end to end on a small configuration (real Fashion-MNIST,
# 2 clients, 3 rounds, short attacks), then its report opened in headless
# Chromium: it must render every chart and image with no console message.
# The study records the version of the binary that ran, which is the source
# tree's at build time.
# Usage: simulate_report_test.sh BIOFED [SOURCE_DIR]
set -u
biofed="$1"
source_dir="${2:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$biofed" simulate --print-config --rounds 7 > "$work/config.json" || fail "--print-config"
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); assert c['rounds']==7 and c['attack_rounds']==[1,-1], c" \
  "$work/config.json" || fail "--print-config does not reflect flags"
"$biofed" simulate --print-config --aggregator trimmed-mean:0.2 | grep -q '"aggregator": "trimmed-mean:0.2"' \
  || fail "--aggregator not in the config"
"$biofed" simulate --aggregator average > "$work/agg.out" 2>&1 && fail "an unknown aggregator was accepted"
grep -q "is not one of" "$work/agg.out" || fail "bad aggregator not explained: $(cat "$work/agg.out")"
# No attack_rounds: the default, first and last (-1), follows the rounds.
echo '{"clients": 2, "rounds": 3, "samples_per_client": 40, "attack_iterations": 25}' > "$work/small.json"
echo '{"clients": 2, "roundz": 3}' > "$work/typo.json"
"$biofed" simulate --config "$work/typo.json" > "$work/typo.out" 2>&1 && fail "an unknown config key was accepted"
grep -q "unknown key 'roundz'" "$work/typo.out" || fail "unknown key not named: $(cat "$work/typo.out")"
echo "ok: config file keys are checked"

"$biofed" simulate --config "$work/small.json" --threads 2 --out "$work/out" > "$work/sim.out" 2> "$work/sim.err" \
  || fail "simulate: $(tail -5 "$work/sim.err")"
grep -q "test accuracy per round" "$work/sim.out" || fail "no accuracy table"
grep -q "^baseline  *3  *c0" "$work/sim.out" || fail "no baseline attack row for round 3: $(cat "$work/sim.out")"
grep -q "^fl+wr+ws  *1  *c0" "$work/sim.out" || fail "no biomod attack row for round 1"
echo "ok: simulate printed the comparison"
# Every connection closed: SQLite's -wal and -shm files go with the last one.
for f in "$work/out/study.db-wal" "$work/out/study.db-shm"; do [[ ! -e "$f" ]] || fail "$f left behind"; done
python3 - "$work/out" <<'PY' || fail "results"
import json, sqlite3, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
assert set(s["federations"]) == {"baseline", "fl+wr+ws"}, s["federations"].keys()
db = sqlite3.connect(out + "/study.db")
assert db.execute("select count(*) from runs where finished = 1").fetchone()[0] == 2
assert db.execute("select count(*) from rounds").fetchone()[0] == 6
rows = db.execute("select psnr, ssim, relative_error_percent, length(png) from attacks").fetchall()
assert len(rows) == 4 and all(r[3] > 0 for r in rows), rows
print("ok: study.db holds 2 finished runs, 6 rounds, 4 scored attacks with images")
PY
"$biofed" simulate --mask oracle > "$work/oracle.out" 2>&1 && fail "mask oracle was accepted in a federation"
grep -q "mask oracle replays a fresh client" "$work/oracle.out" || fail "oracle refusal not explained"
# DP-SGD in every client: the run's epsilon is recorded, and more noise spends less.
"$biofed" simulate --dp-noise 1 > "$work/dp.out" 2>&1 && fail "dp_noise without dp_clip was accepted"
"$biofed" simulate --dp-clip 1 --model resnet20 > "$work/dp.out" 2>&1 && fail "DP-SGD on a BatchNorm model was accepted"
grep -q "without BatchNorm" "$work/dp.out" || fail "BatchNorm refusal not explained: $(cat "$work/dp.out")"
for sigma in 1 2; do
  "$biofed" simulate --config "$work/small.json" --attacked-clients 0 --biomods none --dp-clip 1 --dp-noise $sigma \
    --batch 8 --threads 2 --out "$work/dp$sigma" > "$work/dp$sigma.out" 2>&1 || fail "DP simulate: $(tail -5 "$work/dp$sigma.out")"
  grep -q "baseline: DP-SGD (clip 1, noise $sigma), epsilon" "$work/dp$sigma.out" || fail "no epsilon line"
done
python3 - "$work/dp1/summary.json" "$work/dp2/summary.json" <<'PY' || fail "DP summary"
import json, sys
one, two = (json.load(open(p))["federations"]["baseline"] for p in sys.argv[1:])
assert one["dp_delta"] == 1e-5 and 0 < two["dp_epsilon"] < one["dp_epsilon"], (one, two)
print("ok: DP-SGD runs record epsilon %.3g (sigma 1) > %.3g (sigma 2) at delta 1e-5" % (one["dp_epsilon"], two["dp_epsilon"]))
PY
version=$("$biofed" --version) || fail "--version"
recorded=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select distinct code_version from runs').fetchall())" "$work/out/study.db")
[[ "$recorded" == "[('$version',)]" ]] || fail "study.db records $recorded, the binary is $version"
if [[ -n "$source_dir" ]] && command -v git >/dev/null && git -C "$source_dir" rev-parse 2>/dev/null; then
  tree=$(git -C "$source_dir" describe --always --dirty=+dirty)
  [[ "$version" == *"-$tree" ]] || fail "the binary says $version, the source tree is $tree (stale build-time version)"
fi
echo "ok: study.db records the binary's version $version"
command -v chromium >/dev/null || fail "chromium is not installed (deploy/install-deps.sh test)"
timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/out/report.html" > "$work/dom.html" 2> "$work/chrome.err" || fail "chromium failed"
grep -q 'data-rendered="images 4/4 charts 4"' "$work/dom.html" \
  || fail "report did not render all images and charts: $(grep -o 'data-rendered="[^"]*"' "$work/dom.html")"
if grep -q ":CONSOLE" "$work/chrome.err"; then fail "console messages: $(grep ':CONSOLE' "$work/chrome.err")"; fi
echo "ok: report renders 4 charts and 4 images with no console message"
"$biofed" report "$work/out/missing.db" > /dev/null 2>&1 && fail "report of a missing study succeeded"
echo "all simulate/report checks passed"
