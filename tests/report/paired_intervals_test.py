"""report/paired_intervals.py on a study written here: its means, intervals and paired
differences against values worked out by hand (Student t with 2 degrees of freedom,
t(0.975, 2) = 4.303), and its mark on a group whose baseline is not reconstructed."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "report", "paired_intervals.py")


def write_study(path, rows):
    """rows: (model, victim, attack, defense, batch, mechanisms, seed, psnr, recovered[, iterations])."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sweep_cells (model TEXT, victim TEXT, attack TEXT, defense TEXT, batch_size INTEGER, "
               "mechanisms TEXT, seed INTEGER, psnr REAL, recovered_fraction REAL, iterations INTEGER)")
    db.executemany("INSERT INTO sweep_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [r if len(r) == 10 else (*r, 500) for r in rows])
    db.commit()
    db.close()


def table_rows(output):
    """The table lines of the output as lists of cells, by the mechanisms column."""
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| mechanisms"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


class PairedIntervalsTest(unittest.TestCase):
    def run_script(self, rows, *args):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "study.db")
            write_study(path, rows)
            done = subprocess.run([sys.executable, SCRIPT, path, *args], capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stderr)
            return done.stdout

    def test_means_intervals_and_paired_differences(self):
        # Baseline PSNR 30, 32, 34 (mean 32, sd 2); fl 31, 34, 37: differences 1, 2, 3 (mean 2, sd 1).
        rows = [("mlp", "untrained", "ig", "none", 4, "none", s, 30.0 + 2 * i, 1.0) for i, s in enumerate([1, 2, 3])]
        rows += [("mlp", "untrained", "ig", "none", 4, "fl", s, 31.0 + 3 * i, 0.5) for i, s in enumerate([1, 2, 3])]
        out = self.run_script(rows, "--metric", "psnr")
        table = table_rows(out)
        # 4.303 * 2 / sqrt(3) = 4.969; 4.303 * 1 / sqrt(3) = 2.484.
        self.assertEqual(table["none"][1:3], ["3", "32.0 ± 5.0"])
        self.assertEqual(table["fl"][1:4], ["3", "34.0 ± 7.5", "2.0 ± 2.5"])
        self.assertNotIn("not reconstructed", out)

    def test_a_group_whose_baseline_is_not_reconstructed_is_marked(self):
        rows = [("mlp", "untrained", "ig", "dp:1:1", 1, m, s, 9.0, 0.0) for m in ["none", "fl"] for s in [1, 2]]
        out = self.run_script(rows)
        self.assertIn("baseline not reconstructed", out)

    def test_an_attack_at_two_budgets_is_two_groups(self):
        # The same seeds at 1000 and 4000 iterations: pooled, the 4000-iteration rows would
        # overwrite the others seed by seed; kept apart, each budget has its own mean.
        rows = [("alexnet", "untrained", "ig", "none", 1, "none", s, 10.0 + i, 0.0, 1000) for i, s in enumerate([1, 2])]
        rows += [("alexnet", "untrained", "ig", "none", 1, "none", s, 30.0 + i, 1.0, 4000) for i, s in enumerate([1, 2])]
        out = self.run_script(rows, "--metric", "psnr")
        self.assertIn("attack ig, 1000 iterations", out)
        self.assertIn("attack ig, 4000 iterations", out)
        self.assertIn("| none | 2 | 10.5", out)
        self.assertIn("| none | 2 | 30.5", out)

    def test_training_accuracy_and_its_paired_cost(self):
        # Baseline 0.80, 0.82, 0.84 (mean 0.82, sd 0.02); fl 0.79, 0.80, 0.81: differences -0.01, -0.02,
        # -0.03 (mean -0.02, sd 0.01). Half-widths 4.303 * 0.02 / sqrt(3) = 0.0497, 4.303 * 0.01 / sqrt(3) = 0.0248.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "study.db")
            write_study(path, [])
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE sweep_trainings (model TEXT, defense TEXT, rounds INTEGER, mechanisms TEXT, "
                       "seed INTEGER, test_accuracy REAL)")
            db.executemany("INSERT INTO sweep_trainings VALUES (?, ?, ?, ?, ?, ?)",
                           [("mlp", "none", 200, "none", s, a) for s, a in [(1, 0.80), (2, 0.82), (3, 0.84)]] +
                           [("mlp", "none", 200, "fl", s, a) for s, a in [(1, 0.79), (2, 0.80), (3, 0.81)]])
            db.commit()
            db.close()
            done = subprocess.run([sys.executable, SCRIPT, path, "--trainings"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        table = table_rows(done.stdout)
        self.assertIn("trained mlp, defense none, state mid", done.stdout)
        self.assertEqual(table["none"][1:5], ["3", "200", "-", "0.8200 ± 0.0497"])
        self.assertEqual(table["fl"][1:6], ["3", "200", "-", "0.8000 ± 0.0248", "-0.0200 ± 0.0248"])

    def test_an_exactly_recovered_baseline_is_reconstructed(self):
        # PSNR +inf (zero error) is the best reconstruction there is, not a missing value.
        rows = [("mlp", "untrained", "imprint", "none", 4, m, s, float("inf"), 1.0) for m in ["none", "fl"]
                for s in [1, 2]]
        self.assertNotIn("not reconstructed", self.run_script(rows))

    def test_an_unknown_metric_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "study.db")
            write_study(path, [])
            done = subprocess.run([sys.executable, SCRIPT, path, "--metric", "nonsense"], capture_output=True,
                                  text=True)
            self.assertNotEqual(done.returncode, 0)
            self.assertIn("nonsense", done.stderr)


if __name__ == "__main__":
    unittest.main()
