"""Teachers on a finer frame grid than the student's (V's 11.6-ms frames under K's 23.2-ms ones).

    python3 -m unittest Training/tests/test_teachers.py     (needs torch; no dataset, under a second)
"""
import sys
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hark_train.config import FrontEndConfig, ModelConfig  # noqa: E402
from hark_train.model import HarkResNet  # noqa: E402
from hark_train.teachers import Teacher, TeacherEnsemble, frame_ratio, phase_interleave, phase_stack  # noqa: E402

K = FrontEndConfig(sample_rate=22050, hop_length=512, n_mels=64)      # 216 frames of 23.2 ms
V = FrontEndConfig(sample_rate=44100, hop_length=512, n_mels=128)     # 431 frames of 11.6 ms


class PhaseTest(unittest.TestCase):
    def test_frame_ratio(self):
        self.assertEqual((K.frames, V.frames), (216, 431))
        self.assertEqual(frame_ratio(K, V), 2)
        self.assertEqual(frame_ratio(K, K), 1)
        with self.assertRaises(ValueError):
            frame_ratio(V, K)                                   # a coarser teacher
        with self.assertRaises(ValueError):
            frame_ratio(K, FrontEndConfig(sample_rate=44100, hop_length=384))   # 3/1.5: not whole

    def test_stacked_phases_interleave_back_to_the_teachers_frames(self):
        v = np.random.default_rng(1).standard_normal((3, V.n_mels, V.frames)).astype(np.float32)
        stacked = torch.from_numpy(phase_stack(v, 2, K.frames)).unsqueeze(1)
        self.assertEqual(tuple(stacked.shape), (3, 1, 2 * V.n_mels, K.frames))
        back = phase_interleave(stacked, 2)[:, 0].numpy()
        self.assertTrue(np.array_equal(back[..., :V.frames], v))
        self.assertTrue(np.array_equal(back[..., V.frames], v[..., V.frames - 1]))   # the repeated last frame

    def test_warps_and_noise_only_when_every_teacher_shares_the_students_front_end(self):
        ensemble = TeacherEnsemble.__new__(TeacherEnsemble)   # the rows alone decide; no runs loaded
        ensemble.extra_rows = []
        ensemble.check_augmentations(0.25, 2.0, 0.5)           # K's teachers under K: allowed
        ensemble.extra_rows = [np.zeros((1, 2 * V.n_mels, K.frames), np.float32)]
        ensemble.check_augmentations(0.0, 0.0, 0.0)            # V's rows below, neither: allowed
        for stretch, shift, noise in ((0.25, 0.0, 0.0), (0.0, 2.0, 0.0), (0.0, 0.0, 0.5)):
            with self.assertRaises(ValueError):
                ensemble.check_augmentations(stretch, shift, noise)

    def test_a_student_crop_is_the_teachers_crop_of_the_same_time(self):
        v = np.random.default_rng(2).standard_normal((2, V.n_mels, V.frames)).astype(np.float32)
        stacked = torch.from_numpy(phase_stack(v, 2, K.frames)).unsqueeze(1)
        start, n = 37, 108                                      # a 2.5-s crop of the student's frames
        crop = stacked[..., start:start + n]
        self.assertTrue(np.array_equal(phase_interleave(crop, 2)[:, 0].numpy(), v[..., 2 * start:2 * (start + n)]))
        wrapped = stacked[..., (200 + torch.arange(n)) % K.frames]   # a circular crop across the end
        expected = np.concatenate([v[..., 400:], v[..., -1:], v[..., :2 * (200 + n - K.frames)]], -1)
        self.assertTrue(np.array_equal(phase_interleave(wrapped, 2)[:, 0].numpy(), expected))

    def test_bf16_teachers_give_the_fp32_teachers_targets_within_rounding(self):
        torch.manual_seed(3)
        ensemble = TeacherEnsemble.__new__(TeacherEnsemble)
        ensemble.extra_rows = []
        ensemble.teachers = [Teacher(HarkResNet(ModelConfig(num_classes=50)).eval(), slice(0, K.n_mels), -40.0, 20.0)
                             for _ in range(2)]
        db = -40.0 + 20.0 * torch.randn(4, 1, K.n_mels, 108)
        fp32, bf16 = ensemble.probabilities(db), ensemble.probabilities(db, bf16=True)
        self.assertEqual(bf16.dtype, torch.float32)
        self.assertTrue(torch.allclose(bf16.sum(1), torch.ones(4), atol=1e-5))
        self.assertLess(float((bf16 - fp32).abs().max()), 0.02)
        self.assertFalse(torch.equal(bf16, fp32))               # the autocast did run


class CrossValidatedTeachersTest(unittest.TestCase):
    """A cross-validated student's fold k learns from its teachers' runs of fold k, and only those."""

    def test_each_fold_gets_the_teachers_runs_of_the_same_held_out_fold(self):
        import json
        import tempfile
        from cv import TRAINING, recipe_runs
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp)
            (results / "a.json").write_text(json.dumps({"folds": {
                "1": {"run": "/abs/a/fold1"}, "4": {"run": "Training/runs/val-a"}}}))
            (results / "b.json").write_text(json.dumps({"folds": {"1": {"run": "/abs/b/fold1"}}}))
            self.assertEqual(recipe_runs(results, ["a", "b"], 1), ["/abs/a/fold1", "/abs/b/fold1"])
            self.assertEqual(recipe_runs(results, ["a"], 4), [str(TRAINING.parent / "Training/runs/val-a")])
            with self.assertRaises(SystemExit):
                recipe_runs(results, ["a", "b"], 4)            # b has no run with fold 4 held out
            with self.assertRaises(SystemExit):
                recipe_runs(results, ["c"], 1)                 # never cross-validated

    def test_a_student_fold_whose_teachers_runs_are_gone_stops_before_training(self):
        import contextlib
        import io
        import json
        import tempfile
        from unittest import mock
        import cv
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp) / "results"
            results.mkdir()
            (results / "a.json").write_text(json.dumps({"folds": {"1": {"run": f"{tmp}/gone/fold1"}}}))
            with mock.patch("subprocess.run") as train, contextlib.redirect_stdout(io.StringIO()), \
                    self.assertRaises(SystemExit) as stop:
                cv.main(["--name", "s", "--config", "Training/configs/hark-esc50.toml", "--folds", "1",
                         "--teachers", "a", "--runs", f"{tmp}/runs", "--results", str(results)])
            self.assertIn(f"{tmp}/gone/fold1", str(stop.exception.code))
            train.assert_not_called()

    def test_the_record_names_runs_inside_the_repository_relative_to_it(self):
        import json
        import tempfile
        from cv import TRAINING, recipe_runs, write_results
        with tempfile.TemporaryDirectory() as tmp:
            results = Path(tmp)
            inside = TRAINING / "runs" / "cv" / "x" / "fold1"
            summary = {"folds": {"1": {"run": str(inside), "top1": 0.75, "teachers": [str(inside)]},
                                 "2": {"run": "/elsewhere/fold2", "top1": 0.5},
                                 "4": {"run": "Training/runs/val-x", "top1": 0.5}}}
            write_results(results, "x", summary)
            folds = json.loads((results / "x.json").read_text())["folds"]
            self.assertEqual(folds["1"]["run"], "Training/runs/cv/x/fold1")
            self.assertEqual(folds["1"]["teachers"], ["Training/runs/cv/x/fold1"])
            self.assertEqual(folds["2"]["run"], "/elsewhere/fold2")
            self.assertEqual(folds["4"]["run"], "Training/runs/val-x")
            self.assertEqual(recipe_runs(results, ["x"], 1), [str(inside)])   # and reads back to the same folder


if __name__ == "__main__":
    unittest.main()
