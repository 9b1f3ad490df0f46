"""ESC-50: metadata, and log-mels computed once per front-end and cached on disk."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .config import FrontEndConfig
from .frontend import LogMel, load_window


@dataclass
class Clip:
    filename: str   # the .ogg name in audio/
    fold: int
    target: int
    category: str


def read_meta(root: str | Path) -> list[Clip]:
    root = Path(root)
    clips = []
    with open(root / "meta" / "esc50.csv", newline="") as f:
        for row in csv.DictReader(f):
            clips.append(Clip(row["filename"].replace(".wav", ".ogg"), int(row["fold"]),
                              int(row["target"]), row["category"]))
    return clips


def class_names(clips: list[Clip]) -> list[str]:
    names = {c.target: c.category for c in clips}
    return [names[i] for i in range(len(names))]


def cache_key(fe: FrontEndConfig) -> str:
    return hashlib.sha1(json.dumps(asdict(fe), sort_keys=True).encode()).hexdigest()[:12]


def load_logmels(root: str | Path, fe: FrontEndConfig, cache_dir: str | Path) -> tuple[np.ndarray, list[Clip]]:
    """All 2000 clips' log-mels [N, n_mels, frames] float32, computed once per front-end."""
    clips = read_meta(root)
    cache = Path(cache_dir) / f"logmel-{cache_key(fe)}.npy"
    if cache.exists():
        mels = np.load(cache)
        if mels.shape[0] == len(clips):
            return mels, clips
    logmel = LogMel(fe)
    out = np.empty((len(clips), fe.n_mels, fe.frames), dtype=np.float32)
    with torch.no_grad():
        for i, clip in enumerate(clips):
            wave = load_window(str(Path(root) / "audio" / clip.filename), fe)
            out[i] = logmel(torch.from_numpy(wave)).numpy()
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, out)
    return out, clips
