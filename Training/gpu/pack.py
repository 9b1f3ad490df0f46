#!/usr/bin/env python3
"""Packs the training inputs of ESC-50 folds 1-4 small enough to travel to a lent GPU machine.

    python Training/gpu/pack.py --configs Training/configs/hark-esc50.toml --out gpu-pack

For each distinct front-end among the configs, the cached log-mels of folds 1-4 (never fold 5: it
is scored here, on the CPU, by the Swift engine) go to OUT/logmel-KEY.packed.npz, 8 bits per value
below each clip's peak (hark_train.data.pack_logmels). K's front-end (64 mels × 216 frames) packs to
~17 MB. The working tree travels with the pack and the whole must stay under 64 MiB, so the pack is
refused beyond --max-mb (V's 128 × 431 front-end, ~4× K's, does not fit). OUT is meant to be ignored
by git (/gpu-pack/ is in .gitignore) and named in the device call's `carry`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))
from hark_train.config import load_config  # noqa: E402
from hark_train.data import load_logmels, pack_logmels, packed_path  # noqa: E402

CV_FOLDS = (1, 2, 3, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", required=True, help="run configs whose front-ends to pack")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override applied to every config (e.g. a front-end setting)")
    ap.add_argument("--out", default="gpu-pack")
    ap.add_argument("--cache", default=str(TRAINING / "cache"))
    ap.add_argument("--max-mb", type=float, default=24.0,
                    help="refuse a pack larger than this (the repo travels beside it within 64 MiB)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seen = set()
    for config in args.configs:
        cfg = load_config(config, args.set)
        path = packed_path(out, cfg.frontend)
        if path in seen:
            continue
        seen.add(path)
        mels, clips = load_logmels(cfg.data.root, cfg.frontend, args.cache)
        keep = np.array([c.fold in CV_FOLDS for c in clips])
        pack_logmels(mels[keep], [c for c, k in zip(clips, keep) if k], cfg.frontend, path)
        print(f"{config}: {keep.sum()} clips of folds 1-4, {cfg.frontend.n_mels} × {cfg.frontend.frames} "
              f"→ {path} ({path.stat().st_size / 1e6:.1f} MB)")
    total = sum(p.stat().st_size for p in seen) / 1e6
    if total > args.max_mb:
        for p in seen:
            p.unlink()
        sys.exit(f"the pack would be {total:.1f} MB, over --max-mb {args.max_mb}: removed")
    print(f"pack: {total:.1f} MB in {out}")


if __name__ == "__main__":
    main()
