#!/usr/bin/env python3
"""Means with 95% confidence intervals, and paired differences against the baseline, of a sweep study.

  paired_intervals.py STUDY.db [--metric M]... [--baseline none] [--where SQL]
  paired_intervals.py STUDY.db --trainings [--baseline none]

Cells are grouped by (model, victim, attack, defense, batch size), an attack run
at several iteration budgets once per budget; inside a
group, one line per mechanism subset: the mean over seeds of each metric with
its 95% interval (Student t, n - 1 degrees of freedom), and the mean of the
per-seed differences against the baseline subset of the same seed, with its
interval (a paired comparison: the same seed gives both the same data and
model). A group whose baseline is not reconstructed (mean PSNR under 20 dB)
is marked: a difference there says nothing about a defense. --trainings
prints the training federations' test accuracy the same way, per (model,
defense, state: mid or converged) with their rounds and how many plateaued:
the accuracy cost of each subset. Markdown on stdout. Standard library only."""
import argparse
import math
import sqlite3
import statistics
import sys

# Two-sided 95% Student t quantiles t(0.975, dof) for dof 1..30; 1.96 beyond.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]
RECONSTRUCTED_PSNR_DB = 20.0


def interval(values):
    """(mean, half-width of the 95% interval); the half-width is nan for fewer than 2 values."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return float("nan"), float("nan")
    mean = statistics.fmean(finite)
    if len(finite) < 2:
        return mean, float("nan")
    t = T975[len(finite) - 2] if len(finite) - 1 <= len(T975) else 1.96
    return mean, t * statistics.stdev(finite) / math.sqrt(len(finite))


def text(mean_half, digits):
    mean, half = mean_half
    if math.isnan(mean):
        return "-"
    if math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def print_trainings(db, baseline):
    """The training federations' test accuracy per (model, defense, state): one line per mechanism
    subset, its rounds, how many of its converged trainings plateaued, its mean over seeds with the
    95% interval and the paired difference against the baseline."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(sweep_trainings)")}
    state = "COALESCE(state, 'mid')" if "state" in columns else "'mid'"
    plateaued = "plateaued" if "plateaued" in columns else "NULL"
    groups = {}
    for model, defense, st, mechanisms, seed, accuracy, rounds, flat in db.execute(
            f"SELECT model, defense, {state}, mechanisms, seed, test_accuracy, rounds, {plateaued} "
            "FROM sweep_trainings"):
        groups.setdefault((model, defense, st), {}).setdefault(mechanisms, {})[seed] = (accuracy, rounds, flat)
    for (model, defense, st), by_mechanisms in sorted(groups.items()):
        print(f"\n**trained {model}, defense {defense}, state {st}: test accuracy**\n")
        print(f"| mechanisms | seeds | rounds | plateaued | accuracy (95% CI) | accuracy − {baseline}, paired |")
        print("|---|---|---|---|---|---|")
        base = by_mechanisms.get(baseline, {})
        for mechanisms in sorted(by_mechanisms, key=lambda m: (m != baseline, len(m), m)):
            seeds = by_mechanisms[mechanisms]
            rounds = sorted({r for _, r, _ in seeds.values()})
            rounds_text = str(rounds[0]) if len(rounds) == 1 else f"{rounds[0]}-{rounds[-1]}"
            flats = sum(1 for _, _, f in seeds.values() if f == "yes")
            flat_text = f"{flats} of {len(seeds)}" if st == "converged" else "-"
            paired = "" if mechanisms == baseline or not base else text(
                interval([a - base[s][0] for s, (a, _, _) in seeds.items() if s in base]), 4)
            print(f"| {mechanisms} | {len(seeds)} | {rounds_text} | {flat_text} | "
                  f"{text(interval([a for a, _, _ in seeds.values()]), 4)} | {paired} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study")
    parser.add_argument("--metric", action="append",
                        help="a sweep_cells column (repeatable; default psnr and recovered_fraction)")
    parser.add_argument("--baseline", default="none", help="the mechanisms the others are paired against")
    parser.add_argument("--where", default="1", help="an SQL condition on sweep_cells, e.g. \"attack = 'ig'\"")
    parser.add_argument("--trainings", action="store_true",
                        help="the training federations' test accuracy instead of the attacked cells")
    args = parser.parse_args()
    metrics = args.metric or ["psnr", "recovered_fraction"]
    db = sqlite3.connect(f"file:{args.study}?mode=ro", uri=True)
    if args.trainings:
        if args.where != "1" or args.metric:
            sys.exit("paired_intervals.py: --where and --metric apply to the attacked cells, not to --trainings")
        print_trainings(db, args.baseline)
        return 0
    columns = {r[1] for r in db.execute("PRAGMA table_info(sweep_cells)")}
    for m in metrics + ["psnr"]:
        if m not in columns:
            sys.exit(f"paired_intervals.py: {args.study} has no sweep_cells column '{m}'")
    rows = db.execute(f"SELECT model, victim, attack, defense, batch_size, mechanisms, seed, iterations, psnr, "
                      f"{', '.join(metrics)} FROM sweep_cells WHERE {args.where}").fetchall()
    budgets = {}
    for model, victim, attack, defense, batch, mechanisms, seed, iterations, *_ in rows:
        budgets.setdefault(attack, set()).add(iterations)
    groups = {}
    for model, victim, attack, defense, batch, mechanisms, seed, iterations, psnr, *values in rows:
        # An attack run at several budgets is one group per budget, never pooled.
        if len(budgets[attack]) > 1:
            attack = f"{attack}, {iterations} iterations"
        groups.setdefault((model, victim, attack, defense, batch), {}).setdefault(mechanisms, {})[seed] = (
            psnr, [float("inf") if v is None and m == "dp_epsilon" else v for m, v in zip(metrics, values)])
    digits = {"recovered_fraction": 2, "ssim": 3}
    for key in sorted(groups, key=lambda k: tuple((0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x))
                                                  for x in k)):
        model, victim, attack, defense, batch = key
        by_mechanisms = groups[key]
        base = by_mechanisms.get(args.baseline, {})
        # +inf (an exact recovery) counts as reconstructed; interval() leaves non-finite values out.
        base_values = [p for p, _ in base.values() if p is not None and not math.isnan(p)]
        base_psnr = statistics.fmean(base_values) if base_values else float("nan")
        note = ""
        if base and not base_psnr >= RECONSTRUCTED_PSNR_DB:
            note = f" — baseline not reconstructed (mean PSNR {base_psnr:.1f} dB < {RECONSTRUCTED_PSNR_DB:.0f}): no conclusion"
        print(f"\n**{model}, victim {victim}, attack {attack}, defense {defense}, B = {batch}**{note}\n")
        header = ["mechanisms", "seeds"] + [f"{m} (95% CI)" for m in metrics] + [
            f"{m} − {args.baseline}, paired" for m in metrics]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        order = sorted(by_mechanisms, key=lambda m: (m != args.baseline, len(m), m))
        for mechanisms in order:
            cells = by_mechanisms[mechanisms]
            line = [mechanisms, str(len(cells))]
            for i, m in enumerate(metrics):
                line.append(text(interval([v[i] for _, v in cells.values()]), digits.get(m, 1)))
            for i, m in enumerate(metrics):
                if mechanisms == args.baseline or not base:
                    line.append("")
                    continue
                paired = [cells[s][1][i] - base[s][1][i] for s in cells if s in base
                          and cells[s][1][i] is not None and base[s][1][i] is not None]
                line.append(text(interval(paired), digits.get(m, 1)))
            print("| " + " | ".join(line) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
