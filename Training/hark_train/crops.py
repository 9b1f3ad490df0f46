"""Test-time crop averaging: a window's class probabilities as the mean over evenly spaced crops.

A model trained on random crops (`train.crop_frames`) scores best when it sees crops at test time
too. Crop k of n over a window of T frames starts at floor(k * T / n) and wraps around the end,
as the training crops do; the Swift `Classifier` places them the same way.
"""
from __future__ import annotations

import torch


def crop_starts(total: int, count: int) -> list[int]:
    return [(k * total) // count for k in range(count)]


def crop_probabilities(model, x: torch.Tensor, frames: int, count: int, loudest: int = 0) -> torch.Tensor:
    """Mean softmax over `count` circular crops of `frames` frames; x is [B, 1, mels, T] normalised.

    With 0 < `loudest` < `count`, the mean is over each window's `loudest` crops only, a crop's
    level being the mean of its (normalised) log-mel; ties go to the earlier crop."""
    total = x.shape[-1]
    if count <= 1 or frames <= 0 or frames >= total:
        return torch.softmax(model(x), 1)
    by_level = 0 < loudest < count
    probs, levels = [], []
    for start in crop_starts(total, count):
        idx = (start + torch.arange(frames)) % total
        crop = x[..., idx]
        probs.append(torch.softmax(model(crop.contiguous(memory_format=torch.channels_last)), 1))
        if by_level:
            levels.append(crop.mean(dim=(1, 2, 3)))
    probs = torch.stack(probs, 1)                                          # [B, count, classes]
    if by_level:
        order = torch.argsort(-torch.stack(levels, 1), dim=1, stable=True)[:, :loudest]
        probs = torch.gather(probs, 1, order[:, :, None].expand(-1, -1, probs.shape[2]))
    return probs.mean(1)


def card_entry(frames: int, count: int) -> dict | None:
    """The model card's `crops` object, or None when windows are scored whole."""
    if count <= 1 or frames <= 0:
        return None
    return {"count": count, "frames": frames,
            "placement": "crop k starts at floor(k * frames_in_window / count), wrapping around the end; "
                         "the window's probabilities are the mean of the crops' softmax outputs"}
