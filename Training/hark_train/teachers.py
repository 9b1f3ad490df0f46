"""Teachers for distillation: finished runs whose averaged predictions become part of the targets.

Each teacher may have its own front-end (another sample rate or mel count). Its log-mels are
stacked under the student's along the mel axis, so gain, mixup, time shift and the crop — all the
same along that axis — give every teacher exactly the view the student gets; SpecAugment's masks
are applied to the student's rows only, so the teachers judge the unmasked sound.

A teacher whose frames are r times finer than the student's (V's 11.6-ms frames under K's 23.2-ms
ones: r = 2) is stacked as r phases — its frames r·j, r·j+1, … under the student's frame j — and
interleaved back after the augmentation, so a student crop of n frames is the teacher's crop of
r·n frames of the same sound.
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
    phases: int = 1       # its frames per student frame


def frame_ratio(student: FrontEndConfig, teacher: FrontEndConfig) -> int:
    """How many of the teacher's frames fall in one of the student's (a whole number, same window)."""
    ratio = (student.hop_length / student.sample_rate) / (teacher.hop_length / teacher.sample_rate)
    if teacher.window_seconds != student.window_seconds or ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        raise ValueError("a teacher's frames must line up with the student's: the same window, and a whole "
                         "number of its frames in each of the student's")
    return int(round(ratio))


def phase_stack(mels: np.ndarray, phases: int, frames: int) -> np.ndarray:
    """[N, mels, T·phases(ish)] → [N, phases·mels, frames]: phase p holds frames p, p+phases, …,
    the last one repeated where the teacher has fewer than phases·frames."""
    last = mels.shape[-1] - 1
    return np.concatenate([mels[..., np.minimum(np.arange(frames) * phases + p, last)] for p in range(phases)], -2)


def phase_interleave(x: torch.Tensor, phases: int) -> torch.Tensor:
    """[B, 1, phases·mels, n] → [B, 1, mels, phases·n]: the inverse of `phase_stack` on any frame gather."""
    b, c, rows, n = x.shape
    return x.reshape(b, c, phases, rows // phases, n).permute(0, 1, 3, 4, 2).reshape(b, c, rows // phases, n * phases)


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
            try:
                phases = frame_ratio(student_fe, fe)
            except ValueError as e:
                raise ValueError(f"teacher {run}: {e}") from None
            if phases == 1 and fe.frames != student_fe.frames:
                raise ValueError(f"teacher {run}: {fe.frames} frames against the student's {student_fe.frames}")
            if fe not in front_ends:
                mels, _ = load_logmels(root, fe, cache)
                self.extra_rows.append(phase_stack(mels[clip_index], phases, student_fe.frames))
                front_ends.append(fe)
            rows = [f.n_mels * frame_ratio(student_fe, f) for f in front_ends]
            start = sum(rows[:front_ends.index(fe)])
            model.eval().to(memory_format=torch.channels_last)
            self.teachers.append(Teacher(model, slice(start, start + fe.n_mels * phases),
                                         ckpt["normalize"]["mean"], ckpt["normalize"]["std"], phases))

    def check_augmentations(self, time_stretch: float, freq_shift: float, noise_prob: float) -> None:
        """Refuses the warps and background noise when other front-ends' rows sit below the student's:
        one warp over the stacked rows would shift rows across front-ends, and noise levelled on the
        student's rows would be another noise in each teacher's. With the student's front-end alone
        the teachers judge exactly the warped, noisy crop the student sees."""
        if not self.extra_rows:
            return
        if time_stretch > 0 or freq_shift > 0:
            raise ValueError("train.time_stretch/freq_shift need every teacher on the student's front-end "
                             "(a warp over stacked rows would mix front-ends)")
        if noise_prob > 0:
            raise ValueError("train.noise_prob needs every teacher on the student's front-end "
                             "(the other front-ends' rows would need noise of their own)")

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
    def probabilities(self, db: torch.Tensor, bf16: bool = False) -> torch.Tensor:
        """Mean softmax of the teachers on a stacked, augmented batch in dB (on the teachers' device).
        `bf16`: their forward passes under bfloat16 autocast, as the student's own — three fp32
        teachers made a student's epoch 2-3× a plain one's where bf16 is native."""
        device = next(self.teachers[0].model.parameters()).device
        db = db.to(device)
        summed = 0
        for t in self.teachers:
            x = db[:, :, t.rows]
            if t.phases > 1:
                x = phase_interleave(x, t.phases)
            x = ((x - t.mean) / t.std).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = t.model(x)
            summed = summed + torch.softmax(logits.float(), 1)
        return summed / len(self.teachers)
