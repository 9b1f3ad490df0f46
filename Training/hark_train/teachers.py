"""Teachers for distillation: finished runs whose averaged predictions become part of the targets.

Each teacher may have its own front-end (another sample rate or mel count). Its log-mels are
stacked under the student's along the mel axis, so gain, mixup, time shift and the crop — all the
same along that axis — give every teacher exactly the view the student gets; SpecAugment's masks
are applied to the student's rows only, so the teachers judge the unmasked sound.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .config import FrontEndConfig, frontend_from_dict
from .data import load_logmels
from .model import HarkResNet, load_run


@dataclass
class Teacher:
    model: HarkResNet
    rows: slice           # its log-mel rows in the stacked batch
    mean: float
    std: float


class TeacherEnsemble:
    def __init__(self, run_dirs: list[str], student_fe: FrontEndConfig, train_folds: list[int],
                 root: str, cache: str, clip_index: np.ndarray):
        """Loads each run's checkpoint; `clip_index` selects the training clips in the student's order.

        A teacher must have been trained on a subset of the student's training folds, so no
        validation or test clip reaches the student through it.
        """
        self.teachers: list[Teacher] = []
        self.extra_rows: list[np.ndarray] = []   # log-mels of front-ends other than the student's
        front_ends: list[FrontEndConfig] = [student_fe]
        for run in run_dirs:
            model, ckpt = load_run(run)
            cfg = ckpt["config"]
            folds = cfg["data"]["train_folds"]
            if not set(folds) <= set(train_folds):
                raise ValueError(f"teacher {run} was trained on folds {folds}, "
                                 f"not a subset of the student's {train_folds}")
            fe = frontend_from_dict(cfg["frontend"])
            if fe.frames != student_fe.frames or fe.hop_length / fe.sample_rate != \
                    student_fe.hop_length / student_fe.sample_rate:
                raise ValueError(f"teacher {run}: its frames must line up with the student's in time")
            if fe not in front_ends:
                mels, _ = load_logmels(root, fe, cache)
                self.extra_rows.append(mels[clip_index])
                front_ends.append(fe)
            start = sum(f.n_mels for f in front_ends[:front_ends.index(fe)])
            model.eval().to(memory_format=torch.channels_last)
            self.teachers.append(Teacher(model, slice(start, start + fe.n_mels),
                                         ckpt["normalize"]["mean"], ckpt["normalize"]["std"]))

    def stack(self, student_db: torch.Tensor) -> torch.Tensor:
        """The student's training log-mels [N, 1, mels, T] with the other front-ends' rows below."""
        extra = [torch.from_numpy(m).unsqueeze(1) for m in self.extra_rows]
        return torch.cat([student_db, *extra], 2)

    def to(self, device: torch.device) -> "TeacherEnsemble":
        """Moves the teachers' networks where the student trains."""
        for t in self.teachers:
            t.model.to(device)
        return self

    @torch.no_grad()
    def probabilities(self, db: torch.Tensor) -> torch.Tensor:
        """Mean softmax of the teachers on a stacked, augmented batch in dB (on the teachers' device)."""
        db = db.to(next(self.teachers[0].model.parameters()).device)
        summed = 0
        for t in self.teachers:
            x = ((db[:, :, t.rows] - t.mean) / t.std).contiguous(memory_format=torch.channels_last)
            summed = summed + torch.softmax(t.model(x), 1)
        return summed / len(self.teachers)
