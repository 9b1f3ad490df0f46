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


# A packed cache quantises each clip's log-mel to 8 bits below its own peak over the front-end's
# top_db range (80 dB → steps of 0.31 dB, error ≤ 0.16 dB) so that folds 1-4 travel to a lent GPU
# machine inside its 64-MiB limit (Training/gpu/pack.py); it holds only the clips packed.
PACK_LEVELS = 255


def packed_path(cache_dir: str | Path, fe: FrontEndConfig) -> Path:
    return Path(cache_dir) / f"logmel-{cache_key(fe)}.packed.npz"


def pack_logmels(mels: np.ndarray, clips: list[Clip], fe: FrontEndConfig, path: Path) -> None:
    peaks = mels.max(axis=(1, 2)).astype(np.float32)
    steps = np.round((peaks[:, None, None] - mels) / fe.top_db * PACK_LEVELS)
    np.savez_compressed(path, levels=np.clip(steps, 0, PACK_LEVELS).astype(np.uint8), peaks=peaks,
                        filenames=np.array([c.filename for c in clips]), folds=np.array([c.fold for c in clips]),
                        targets=np.array([c.target for c in clips]), categories=np.array([c.category for c in clips]),
                        frontend=json.dumps(asdict(fe), sort_keys=True))


def unpack_logmels(path: Path, fe: FrontEndConfig) -> tuple[np.ndarray, list[Clip]]:
    with np.load(path) as d:
        if json.loads(str(d["frontend"])) != asdict(fe):
            raise ValueError(f"{path} was packed for another front-end")
        mels = d["peaks"][:, None, None] - d["levels"].astype(np.float32) * (fe.top_db / PACK_LEVELS)
        clips = [Clip(str(f), int(k), int(t), str(c))
                 for f, k, t, c in zip(d["filenames"], d["folds"], d["targets"], d["categories"])]
    return mels.astype(np.float32), clips


def load_logmels(root: str | Path, fe: FrontEndConfig, cache_dir: str | Path) -> tuple[np.ndarray, list[Clip]]:
    """All 2000 clips' log-mels [N, n_mels, frames] float32, computed once per front-end; where the
    dataset is absent and a packed cache is there (a lent GPU machine), the packed clips."""
    packed = packed_path(cache_dir, fe)
    if packed.exists() and not (Path(root) / "meta" / "esc50.csv").exists():
        return unpack_logmels(packed, fe)
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
