"""Cross-validation over sittings: a fold scored in an earlier sitting, on a machine since handed back.

    python3 -m unittest Training/tests/test_cv.py     (needs torch; no dataset, under a second)
"""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cv import kept_from_record  # noqa: E402

CONFIG = "Training/configs/hark-esc50.toml"
SETTINGS = ['train.precision="bf16"', "train.epochs=1000"]
RECORD = {"config": CONFIG, "set": SETTINGS, "folds": {"1": {"run": "Training/runs/cv/x/fold1", "top1": 0.745}}}


class KeptFromRecordTest(unittest.TestCase):
    def test_a_recorded_fold_whose_run_is_gone_is_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertTrue(kept_from_record(RECORD, CONFIG, SETTINGS, 1, Path(tmp) / "fold1"))

    def test_a_fold_never_recorded_is_trained(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertFalse(kept_from_record(RECORD, CONFIG, SETTINGS, 2, Path(tmp) / "fold2"))
            self.assertFalse(kept_from_record({}, CONFIG, SETTINGS, 1, Path(tmp) / "fold1"))

    def test_a_run_on_this_machine_is_scored_from_its_checkpoint_not_the_record(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "fold1"
            run.mkdir()
            (run / "checkpoint.pt").write_bytes(b"")
            self.assertFalse(kept_from_record(RECORD, CONFIG, SETTINGS, 1, run))

    def test_another_recipe_under_the_same_name_is_not_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "fold1"
            self.assertFalse(kept_from_record(RECORD, CONFIG, SETTINGS + ["train.noise_prob=0.5"], 1, run))
            self.assertFalse(kept_from_record(RECORD, "Training/configs/hark-esc50-m.toml", SETTINGS, 1, run))

    def test_a_later_sitting_keeps_a_recorded_fold_of_a_recipe_given_without_val_every(self):
        # cv.py adds its own val_every to the settings it trains with; the record holds them as given.
        import contextlib
        import io
        import json
        import cv
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results"
            results.mkdir()
            (results / "x.json").write_text(json.dumps(RECORD))
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                cv.main(["--name", "x", "--config", CONFIG, "--folds", "1", "--score-only",
                         "--runs", str(Path(tmp) / "runs"), "--results", str(results),
                         *[a for s in SETTINGS for a in ("--set", s)]])
            self.assertIn("fold 1: kept from", out.getvalue())
            self.assertNotIn("not finished", out.getvalue())


if __name__ == "__main__":
    unittest.main()
