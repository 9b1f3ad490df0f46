"""A fine-tuning (train.init_from) starts from its run's weights, and refuses a run trained on other folds.

    python3 -m unittest Training/tests/test_init_from.py     (about a minute on 2 cores; needs torch;
                                                              HARK_ESC50 names the dataset if not ../shared)
"""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_resume import DATA, ROOT, train, weights  # noqa: E402


class InitFromTest(unittest.TestCase):
    def test_a_fine_tuning_starts_from_the_run_it_names(self):
        with tempfile.TemporaryDirectory() as tmp:
            base, tuned, fresh = Path(tmp, "base"), Path(tmp, "tuned"), Path(tmp, "fresh")
            train(base, "--set", "train.epochs=1")
            # At a learning rate of zero (weight decay scales with it) the weights stay the starting run's.
            train(tuned, "--set", "train.epochs=1", "--set", "train.lr=0.0",
                  "--set", f'train.init_from="{base}"')
            train(fresh, "--set", "train.epochs=1", "--set", "train.lr=0.0", "--set", "train.seed=2")
            start, after, other = weights(base), weights(tuned), weights(fresh)
            convs = [n for n, t in start.items() if n.endswith("weight") and t.dim() == 4]
            self.assertTrue(convs)
            for name in convs:
                self.assertTrue(torch.equal(start[name], after[name]), f"{name} moved")
            # Without init_from the same run starts elsewhere: the comparison above can fail.
            self.assertFalse(all(torch.equal(start[n], other[n]) for n in convs))

    def test_a_run_trained_on_other_folds_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp, "base")
            train(base, "--set", "train.epochs=1")
            result = subprocess.run(
                [sys.executable, str(ROOT / "Training/train.py"), "--config", str(ROOT / "Training/configs/hark-esc50.toml"),
                 "--set", f'data.root="{DATA}"', "--set", "data.train_folds=[2]", "--set", "data.val_folds=[]", "--set", "data.test_folds=[]",
                 "--set", "train.epochs=1", "--set", f'train.init_from="{base}"', "--out", str(Path(tmp, "leak"))],
                capture_output=True, text=True, cwd=ROOT)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("was trained on folds [1]", result.stderr)


if __name__ == "__main__":
    unittest.main()
