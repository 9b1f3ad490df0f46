"""The paired comparison of cross-validated recipes (Training/cv_report.py): numpy only, runs in CI.

    python3 -m unittest Training/tests/test_cv_report.py
"""
import sys
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cv_report import align, bootstrap_interval, load, mcnemar_p, per_fold  # noqa: E402


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


class MeanOfTwoTest(unittest.TestCase):
    def test_a_plus_b_averages_the_two_recipes_clip_by_clip(self):
        import json
        import tempfile
        names = np.array(["1-a.ogg", "1-b.ogg", "2-c.ogg"])
        a = {"probs": np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]], np.float32), "targets": np.array([0, 0, 1]),
             "folds": np.array([1, 1, 2]), "filenames": names}
        b = {"probs": np.array([[0.3, 0.7], [0.2, 0.8], [0.3, 0.7]], np.float32), "targets": np.array([1, 0, 0]),
             "folds": np.array([2, 1, 1]), "filenames": names[[2, 0, 1]]}   # stored in another order
        b["targets"], b["folds"] = a["targets"][[2, 0, 1]], a["folds"][[2, 0, 1]]
        with tempfile.TemporaryDirectory() as tmp:
            for name, rows in (("a", a), ("b", b)):
                np.savez(Path(tmp, f"{name}.npz"), **rows)
                Path(tmp, f"{name}.json").write_text(json.dumps({"name": name}))
            pair = load("a+b", Path(tmp))
        self.assertEqual(pair["name"], "a+b")
        self.assertTrue(np.array_equal(pair["filenames"], names))
        # 1-a: (0.9 + 0.2) / 2 = 0.55 for class 0; 1-b: (0.4 + 0.3) / 2; 2-c: (0.2 + 0.3) / 2.
        self.assertTrue(np.allclose(pair["probs"][:, 0], [0.55, 0.35, 0.25]))
        self.assertEqual(per_fold(pair), {1: 0.5, 2: 1.0})


if __name__ == "__main__":
    unittest.main()
