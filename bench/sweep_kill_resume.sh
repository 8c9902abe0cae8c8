#!/usr/bin/env bash
# The issue's check on a whole preset: run `biofed sweep --preset PRESET`
# into OUT, SIGKILL it once half of its cells are in the study, rerun the
# same command, and compare every cell and trained model with the study of
# an uninterrupted run (REFERENCE/study.db), ignoring only timings.
# Usage: bench/sweep_kill_resume.sh BIOFED PRESET OUT REFERENCE_DIR
set -u
biofed="$1" preset="$2" out="$3" reference="$4"
count() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from sweep_cells').fetchone()[0])" "$1" 2>/dev/null || echo 0; }
total=$("$biofed" sweep --preset "$preset" --dry-run | awk '{print $1}')
rm -rf "$out"
start=$(date +%s)
"$biofed" sweep --preset "$preset" --out "$out" > /dev/null 2> "$out.first.log" &
pid=$!
until [ "$(count "$out/study.db")" -ge $((total / 2)) ]; do
  kill -0 $pid 2>/dev/null || { echo "the sweep ended before half its cells"; exit 1; }
  sleep 1
done
kill -9 $pid
wait $pid 2>/dev/null
killed=$(count "$out/study.db")
echo "killed after $(( $(date +%s) - start )) s with $killed of $total cells in the study"
"$biofed" sweep --preset "$preset" --out "$out" > "$out.table.txt" 2> "$out.second.log" || { tail -5 "$out.second.log"; exit 1; }
echo "restart: $(head -1 "$out.second.log" | sed 's/^\[ *[0-9]*s\] //')"
echo "restart: $(grep 'biofed sweep: ran' "$out.second.log")"
echo "total wall time $(( $(date +%s) - start )) s"
python3 - "$reference/study.db" "$out/study.db" <<'PY'
import sqlite3, sys
cols = "key, mse, psnr, ssim, relative_error_percent, best_psnr, label_accuracy, objective, update_norm, png"
a = sqlite3.connect(sys.argv[1]).execute(f"select {cols} from sweep_cells order by key").fetchall()
b = sqlite3.connect(sys.argv[2]).execute(f"select {cols} from sweep_cells order by key").fetchall()
differ = [x[0] for x, y in zip(a, b) if x != y]
t = "key, test_accuracy, accuracy_curve_json, model_state"
ta = sqlite3.connect(sys.argv[1]).execute(f"select {t} from sweep_trainings order by key").fetchall()
tb = sqlite3.connect(sys.argv[2]).execute(f"select {t} from sweep_trainings order by key").fetchall()
print(f"cells: {len(a)} uninterrupted, {len(b)} resumed, {len(differ)} differ; "
      f"trainings: {len(ta)} and {len(tb)}, {'identical' if ta == tb else 'DIFFERENT'}")
sys.exit(0 if len(a) == len(b) and not differ and ta == tb else 1)
PY
