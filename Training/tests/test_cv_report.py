"""The paired comparison of cross-validated recipes (Training/cv_report.py): numpy only, runs in CI.

    python3 -m unittest Training/tests/test_cv_report.py
"""
import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cv_report import align, bootstrap_interval, mcnemar_p, per_fold  # noqa: E402


class McNemarTest(unittest.TestCase):
    def test_exact_binomial_tail(self):
        self.assertEqual(mcnemar_p(0, 0), 1.0)
        self.assertAlmostEqual(mcnemar_p(5, 0), 2 / 32)          # all five discordant clips one way
        self.assertAlmostEqual(mcnemar_p(0, 5), 2 / 32)
        self.assertAlmostEqual(mcnemar_p(1, 9), 2 * 11 / 1024)   # P(X ≤ 1), X ~ Bin(10, 1/2), two-sided
        self.assertEqual(mcnemar_p(10, 10), 1.0)


class BootstrapTest(unittest.TestCase):
    def test_interval_brackets_the_difference_and_sees_a_clear_gain(self):
        rng = np.random.default_rng(1)
        folds = np.repeat([1, 2, 3, 4], 400)
        control = rng.random(1600) < 0.77
        better = control | (rng.random(1600) < 0.25)            # ~+5.7 points, never worse on a clip
        low, high = bootstrap_interval(control, better, folds)
        diff = better.mean() - control.mean()
        self.assertLess(low, diff)
        self.assertGreater(high, diff)
        self.assertGreater(low, 0)
        noisy = rng.random(1600) < 0.77                          # an unrelated run of equal skill
        low, high = bootstrap_interval(control, noisy, folds)
        self.assertLess(low, 0)
        self.assertGreater(high, 0)
        self.assertEqual(bootstrap_interval(control, control, folds), (0.0, 0.0))


class AlignTest(unittest.TestCase):
    def test_rows_are_matched_by_clip_whatever_their_order(self):
        names = np.array([f"{i}-clip.ogg" for i in range(20)])
        order = np.random.default_rng(2).permutation(20)
        a = {"filenames": names}
        b = {"filenames": names[order][:15]}                      # another order, some clips missing
        ia, ib = align(a, b)
        self.assertEqual(len(ia), 15)
        self.assertTrue(np.array_equal(a["filenames"][ia], b["filenames"][ib]))

    def test_per_fold_scores(self):
        probs = np.eye(4)[[0, 1, 2, 3, 0, 0]]
        r = {"probs": probs, "targets": np.array([0, 1, 2, 0, 0, 1]), "folds": np.array([1, 1, 1, 2, 2, 2])}
        self.assertEqual(per_fold(r), {1: 1.0, 2: 1 / 3})


if __name__ == "__main__":
    unittest.main()
