"""Test-time crop averaging: a window's class probabilities as the mean over evenly spaced crops.

A model trained on random crops (`train.crop_frames`) scores best when it sees crops at test time
too. Crop k of n over a window of T frames starts at floor(k * T / n) and wraps around the end,
as the training crops do; the Swift `Classifier` places them the same way.

A crop may be read through a *view* (test-time augmentation): shifted a whole number of mel bins, or
stretched in time, as the training warps (`augment.random_warp`) move the crops a network learned
from. Crop k takes view k mod len(views), so a view set keeps the crops' count, places and cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class View:
    """How one crop is read: row m is the window's row clamp(m + shift, 0, mels − 1), and frame j
    reads the window circularly at start + F/2 − F·rate/2 + (j + ½)·rate − ½ (F the crop's frames),
    interpolated linearly: rate > 1 reads a longer span (the sound played faster), 1 the plain crop."""
    shift: int = 0
    rate: float = 1.0


PLAIN = (View(),)
# The candidate view sets of "Warped crops at test time" (Training/EXPERIMENTS.md), fixed before any
# was scored.
VIEW_SETS = {
    "plain": PLAIN,
    "A": (View(), View(shift=2), View(), View(shift=-2)),
    "B": (View(), View(rate=1.25), View(), View(rate=0.8)),
    "C": (View(), View(shift=2), View(), View(rate=1.25), View(), View(shift=-2), View(), View(rate=0.8)),
}


def read_crop(x: torch.Tensor, start: int, frames: int, view: View = View()) -> torch.Tensor:
    """Crop of `frames` frames from `start` (wrapping) of x [B, C, mels, T], read through `view`."""
    total, mels = x.shape[-1], x.shape[-2]
    if view.rate == 1.0:
        crop = x[..., (start + torch.arange(frames)) % total]
    else:
        t = start + frames / 2 - frames * view.rate / 2 + (torch.arange(frames, dtype=torch.float64) + 0.5) * view.rate - 0.5
        left = torch.floor(t)
        weight = (t - left).to(x.dtype)
        left = left.long()
        crop = (1 - weight) * x[..., left % total] + weight * x[..., (left + 1) % total]
    if view.shift:
        crop = crop[..., (torch.arange(mels) + view.shift).clamp(0, mels - 1), :]
    return crop


def crop_starts(total: int, count: int) -> list[int]:
    return [(k * total) // count for k in range(count)]


def crop_probabilities(model, x: torch.Tensor, frames: int, count: int, loudest: int = 0,
                       views: tuple[View, ...] = PLAIN) -> torch.Tensor:
    """Mean softmax over `count` circular crops of `frames` frames, crop k read through
    views[k mod len(views)]; x is [B, 1, mels, T] normalised.

    With 0 < `loudest` < `count`, the mean is over each window's `loudest` crops only, a crop's
    level being the mean of its (normalised) log-mel; ties go to the earlier crop."""
    total = x.shape[-1]
    if count <= 1 or frames <= 0 or frames >= total:
        return torch.softmax(model(x), 1)
    by_level = 0 < loudest < count
    probs, levels = [], []
    for k, start in enumerate(crop_starts(total, count)):
        crop = read_crop(x, start, frames, views[k % len(views)])
        probs.append(torch.softmax(model(crop.contiguous(memory_format=torch.channels_last)), 1))
        if by_level:
            levels.append(crop.mean(dim=(1, 2, 3)))
    probs = torch.stack(probs, 1)                                          # [B, count, classes]
    if by_level:
        order = torch.argsort(-torch.stack(levels, 1), dim=1, stable=True)[:, :loudest]
        probs = torch.gather(probs, 1, order[:, :, None].expand(-1, -1, probs.shape[2]))
    return probs.mean(1)


def card_entry(frames: int, count: int, views: tuple[View, ...] = PLAIN) -> dict | None:
    """The model card's `crops` object, or None when windows are scored whole."""
    if count <= 1 or frames <= 0:
        return None
    entry = {"count": count, "frames": frames,
             "placement": "crop k starts at floor(k * frames_in_window / count), wrapping around the end; "
                          "the window's probabilities are the mean of the crops' softmax outputs"}
    if views != PLAIN:
        entry["views"] = [{"shift": v.shift, "rate": v.rate} for v in views]
        entry["placement"] += ("; crop k is read through views[k mod len(views)]: row m is row clamp(m + shift) of "
                               "the window, frame j is read at start + frames/2 - frames*rate/2 + (j + 1/2)*rate - 1/2, "
                               "interpolated linearly")
    return entry


def views_of(views: list[dict] | None) -> tuple[View, ...]:
    """A card's `crops.views` as views (plain when the card has none)."""
    return tuple(View(int(v["shift"]), float(v["rate"])) for v in views) if views else PLAIN
