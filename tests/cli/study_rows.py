#!/usr/bin/env python3
"""The result rows of a study database, for comparing studies across code versions.

  study_rows.py export STUDY.db                 rows as JSON on stdout
  study_rows.py compare STUDY.db EXPECTED.json  [--rtol R] [--atol A]

A row is keyed by what identifies it (a sweep cell's key; a simulate run's
name with the round and client); timings, code versions, images and model
blobs are left out. `compare` exits 1 and names every difference: a row
missing or extra, a text field not equal, or a number outside
atol + rtol * |expected|."""
import argparse
import json
import math
import sqlite3
import sys

# Per table: the key columns, then the compared columns. Everything else
# (seconds, code_version, png, model_state, started_utc) is left out.
TABLES = {
    "sweep_cells": (["key"], [
        "model", "mechanisms", "victim", "attack", "batch_size", "seed", "defense", "iterations",
        "labels", "fl_factors_known", "batch_size_known", "mse", "psnr", "ssim",
        "relative_error_percent", "best_psnr", "label_accuracy", "objective_name", "objective",
        "update_norm"]),
    "sweep_trainings": (["key"], [
        "model", "mechanisms", "defense", "seed", "rounds", "test_accuracy", "test_loss",
        "accuracy_curve_json"]),
    "rounds": (["run", "round"], [
        "test_accuracy", "test_loss", "train_loss", "examples", "participants", "dropped",
        "rejected"]),
    "attacks": (["run", "round", "client_id", "attack"], [
        "iterations", "labels", "fl_factors_known", "batch_size_known",
        "local_hyperparameters_known", "batchnorm_mode", "batch_size", "local_steps", "mse",
        "psnr", "ssim", "relative_error_percent", "best_psnr", "label_accuracy",
        "objective_name", "objective"]),
}

# simulate's rows name their run by the run's name (ids depend on order).
RUN_NAME = "(SELECT name FROM runs WHERE runs.id = run_id) AS run"


def export(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out = {}
    for table, (keys, columns) in TABLES.items():
        if table not in tables:
            continue
        select = [RUN_NAME if k == "run" else k for k in keys] + columns
        rows = {}
        for values in db.execute(f"SELECT {', '.join(select)} FROM {table}"):
            key = "|".join(str(v) for v in values[:len(keys)])
            rows[key] = dict(zip(columns, values[len(keys):]))
        out[table] = rows
    return out


def numbers(value):
    """A JSON text of numbers (an accuracy curve) as a flat list, else None."""
    if not isinstance(value, str) or not value.startswith("["):
        return None
    try:
        flat = []
        for item in json.loads(value):
            flat.extend(item if isinstance(item, list) else [item])
        return [float(x) for x in flat]
    except (ValueError, TypeError):
        return None


def close(a, b, rtol, atol):
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= atol + rtol * abs(b)


def compare(actual, expected, rtol, atol):
    problems = []
    for table, rows in expected.items():
        got = actual.get(table, {})
        for key in sorted(set(rows) - set(got)):
            problems.append(f"{table} {key}: missing")
        for key in sorted(set(got) - set(rows)):
            problems.append(f"{table} {key}: not expected")
        for key in sorted(set(rows) & set(got)):
            for column, want in rows[key].items():
                have = got[key].get(column)
                want_list, have_list = numbers(want), numbers(have)
                if want_list is not None and have_list is not None:
                    same = len(want_list) == len(have_list) and all(
                        close(h, w, rtol, atol) for h, w in zip(have_list, want_list))
                else:
                    same = close(have, want, rtol, atol)
                if not same:
                    problems.append(f"{table} {key} {column}: {have!r}, expected {want!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="rows of STUDY.db as JSON")
    e.add_argument("study")
    c = sub.add_parser("compare", help="STUDY.db against EXPECTED.json")
    c.add_argument("study")
    c.add_argument("expected")
    c.add_argument("--rtol", type=float, default=1e-6)
    c.add_argument("--atol", type=float, default=1e-9)
    args = parser.parse_args()
    if args.command == "export":
        json.dump(export(args.study), sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    with open(args.expected) as f:
        expected = json.load(f)
    problems = compare(export(args.study), expected, args.rtol, args.atol)
    rows = sum(len(r) for r in expected.values())
    if problems:
        print(f"{len(problems)} differences from {args.expected} ({rows} rows):")
        print("\n".join(problems))
        return 1
    print(f"{args.study}: the {rows} rows of {args.expected} within rtol {args.rtol}, atol {args.atol}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
