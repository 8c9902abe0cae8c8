#!/usr/bin/env python3
"""Mean and std over seeds of `biofed train --compare` summaries.

usage: aggregate_compare.py DIR   (DIR holds <model>-seed<N>/summary.json)
Prints a Markdown table: final and learning-speed accuracy, learning-speed
epoch and accuracy AUC, baseline vs biomod.
"""
import glob
import json
import os
import re
import statistics
import sys


def stats(values, digits=4):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main(root):
    groups = {}
    for path in sorted(glob.glob(os.path.join(root, "*-seed*", "summary.json"))):
        model = re.sub(r"-seed\d+$", "", os.path.basename(os.path.dirname(path)))
        with open(path) as f:
            summary = json.load(f)
        for arm in ("baseline", "biomod"):
            run = summary["runs"][arm]
            g = groups.setdefault((model, arm), {"final": [], "speed_acc": [], "speed_epoch": [], "auc": [],
                                                 "exhausted": 0, "epochs": len(run["epochs"])})
            g["final"].append(run["epochs"][-1]["test_accuracy"])
            g["speed_acc"].append(run["learning_speed"]["accuracy"])
            g["speed_epoch"].append(float(run["learning_speed"]["epoch"]))
            g["auc"].append(run["accuracy_auc"])
            g["exhausted"] += bool(run["learning_speed"]["patience_exhausted"])
    print("| model | arm | seeds | epochs | final test acc | learning-speed epoch | patience ran out | acc at that epoch | accuracy AUC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (model, arm), g in sorted(groups.items()):
        print(f"| {model} | {arm} | {len(g['final'])} | {g['epochs']} | {stats(g['final'])} | "
              f"{stats(g['speed_epoch'], 1)} | {g['exhausted']}/{len(g['final'])} | {stats(g['speed_acc'])} | "
              f"{stats(g['auc'])} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/experiments/biomod_accuracy")
