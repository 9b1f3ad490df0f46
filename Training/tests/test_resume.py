"""A training split over sittings ends with the weights an uninterrupted one ends with.

    python3 -m unittest Training/tests/test_resume.py     (about a minute on 2 cores; needs torch;
                                                           HARK_ESC50 names the dataset if not ../shared)

Three tiny runs of the shipped K recipe (fold 1, 3 epochs, one thread): uninterrupted; stopped after
epoch 1 and resumed; stopped after epoch 2 with a state written every epoch and resumed. Their final
weights, optimiser-dependent as they are, must be equal to the last bit.
"""
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("HARK_ESC50", ROOT.parent / "shared" / "datasets" / "esc50"))
TINY = ["--set", f'data.root="{DATA}"',"--config", str(ROOT / "Training/configs/hark-esc50.toml"), "--set", "data.train_folds=[1]",
        "--set", "data.val_folds=[]", "--set", "data.test_folds=[]", "--set", "train.epochs=3",
        "--set", "train.threads=1"]


def train(out: Path, *extra: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "Training/train.py"), *TINY, "--out", str(out), *extra],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise AssertionError(f"train.py failed: {result.stderr[-2000:]}")
    return result.stdout


def weights(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)["state_dict"]


class ResumeTest(unittest.TestCase):
    def test_a_resumed_run_ends_with_the_uninterrupted_weights(self):
        with tempfile.TemporaryDirectory() as tmp:
            whole, split, late = Path(tmp, "whole"), Path(tmp, "split"), Path(tmp, "late")
            train(whole)
            first = train(split, "--stop-after-epoch", "1", "--set", "train.checkpoint_every=0")
            self.assertIn("sitting ended after epoch 1", first)
            self.assertFalse((split / "checkpoint.pt").exists())
            second = train(split, "--resume", "--set", "train.checkpoint_every=0")
            self.assertIn("resumed after epoch 1", second)
            train(late, "--stop-after-epoch", "2", "--set", "train.checkpoint_every=1")
            train(late, "--resume", "--set", "train.checkpoint_every=1")
            reference = weights(whole)
            for run in (split, late):
                resumed = weights(run)
                self.assertEqual(reference.keys(), resumed.keys())
                for name, tensor in reference.items():
                    self.assertTrue(torch.equal(tensor, resumed[name]), f"{run.name}: {name} differs")
                self.assertFalse((run / "resume.pt").exists())
            # A different run's weights do differ: the comparison can fail.
            other = Path(tmp, "other")
            train(other, "--set", "train.seed=2")
            self.assertFalse(all(torch.equal(t, weights(other)[n]) for n, t in reference.items()))

    def test_weight_averaging_resumes_exactly_and_is_the_result(self):
        """SWA over the last 2 of 3 epochs: a run ended by the clock after its first averaged epoch
        and resumed ends with the uninterrupted run's averaged weights and batch-norm statistics,
        which differ from those of the same run without averaging."""
        swa = ("--set", "train.swa_epochs=2", "--set", "train.checkpoint_every=0", "--set", "train.eval_crops=2")
        with tempfile.TemporaryDirectory() as tmp:
            whole, split = Path(tmp, "whole"), Path(tmp, "split")
            train(whole, *swa)
            first = train(split, *swa, "--stop-after-epoch", "2")
            self.assertIn("sitting ended after epoch 2", first)
            train(split, *swa, "--resume")
            reference, resumed = weights(whole), weights(split)
            for name, tensor in reference.items():
                self.assertTrue(torch.equal(tensor, resumed[name]), f"{name} differs")
            # The clock ends a sitting too: after the first epoch that finishes past the deadline.
            timed = Path(tmp, "timed")
            self.assertIn("sitting ended after epoch 1", train(timed, *swa, "--stop-after-minutes", "0.001"))
            train(timed, *swa, "--resume")
            self.assertTrue(all(torch.equal(t, weights(timed)[n]) for n, t in reference.items()))
            plain = Path(tmp, "plain")
            train(plain, "--set", "train.checkpoint_every=0", "--set", "train.eval_crops=2")
            self.assertFalse(torch.equal(reference["fc.weight"], weights(plain)["fc.weight"]))
            self.assertFalse(torch.equal(reference["bn1.running_mean"], weights(plain)["bn1.running_mean"]))

    def test_a_run_that_cannot_finish_in_time_stops_once_its_pace_is_known(self):
        """--finish-within: three epochs cannot end within a second, so the sitting stops after its
        second epoch (the first, with its warm-up, does not set the pace) with its state written and
        a status of its own; given the time, it finishes."""
        with tempfile.TemporaryDirectory() as tmp:
            late, timely = Path(tmp, "late"), Path(tmp, "timely")
            result = subprocess.run([sys.executable, str(ROOT / "Training/train.py"), *TINY, "--out", str(late),
                                     "--finish-within", "0.015"], capture_output=True, text=True, cwd=ROOT)
            self.assertEqual(result.returncode, 75, result.stderr[-2000:])
            self.assertIn("cannot finish within 0.015 min: 1 epochs left", result.stdout)
            self.assertIn("sitting ended after epoch 2", result.stdout)
            self.assertTrue((late / "resume.pt").exists())
            self.assertFalse((late / "checkpoint.pt").exists())
            self.assertNotIn("cannot finish", train(timely, "--finish-within", "60"))
            self.assertTrue((timely / "checkpoint.pt").exists())

    def test_resuming_under_another_config_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "run")
            train(out, "--stop-after-epoch", "1")
            with self.assertRaises(AssertionError) as refused:
                train(out, "--resume", "--set", "train.lr=0.001")
            self.assertIn("another config", str(refused.exception))
            # How often the run is scored or saved is not the recipe: such a change resumes.
            self.assertIn("resumed after epoch 1", train(out, "--resume", "--set", "train.val_every=5"))


if __name__ == "__main__":
    unittest.main()
