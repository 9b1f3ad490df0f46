#!/usr/bin/env python3
"""Scores cross-validated recipes' fold runs on their held-out clips heard over a quiet noise floor.

    python Training/cv_floor.py k-warp-x2-e440-r k-warp-x2-e440-r-ftnoise     # → Training/cv/NAME-floor45.{npz,json}

ESC-50 pads short sounds with digital silence, which the front-end turns into a flat floor 80 dB
under the clip's peak; a live microphone always has a noise floor instead. Each held-out clip (its
own level, the first 5 s at its own rate) gets coloured noise at `--dbfs` RMS over the whole window
before the front-end, seeded by the clip's file name, so every recipe hears the same noise under the
same clip; the runs are scored as `cv.py` scores them (the mean softmax over `train.eval_crops`
crops). The results have `NAME.npz`'s form, so `Training/cv_report.py` compares them.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv import CV_FOLDS, TRAINING, merge_out_of_fold, recipe_runs  # noqa: E402
from hark_train.config import run_config_from_dict  # noqa: E402
from hark_train.data import read_meta  # noqa: E402
from hark_train.frontend import LogMel, decode, fit_window, resample, to_mono  # noqa: E402
from hark_train.model import load_run  # noqa: E402
from train import evaluate  # noqa: E402

# Power ∝ 1/f^exponent.
COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}
WINDOW_SECONDS = 5.0


def floor_noise(samples: int, colour: str, dbfs: float, seed: int) -> np.ndarray:
    """`samples` of white, pink or brown noise at an RMS of `dbfs`, float32, from `seed`."""
    rng = np.random.default_rng(seed)
    freqs = np.fft.rfftfreq(samples)
    freqs[0] = freqs[1]
    wave = np.fft.irfft(np.fft.rfft(rng.standard_normal(samples)) / freqs ** (COLOURS[colour] / 2), samples)
    wave -= wave.mean()
    return (wave * (10 ** (dbfs / 20) / np.sqrt(np.mean(wave ** 2)))).astype(np.float32)


def clips_over_floor(root: str, fold: int, colour: str, dbfs: float, seed: int) -> tuple[list, list, np.ndarray]:
    """The fold's clips (meta rows) with their waves over the floor, at their own rate, and the targets."""
    clips = sorted((c for c in read_meta(root) if c.fold == fold), key=lambda c: c.filename)
    waves = []
    for c in clips:
        samples, rate = decode(str(Path(root) / "audio" / c.filename))
        mono = fit_window(to_mono(samples), int(WINDOW_SECONDS * rate))
        noise = floor_noise(len(mono), colour, dbfs, seed ^ zlib.crc32(c.filename.encode()))
        waves.append((mono + noise, rate))
    return clips, waves, np.array([c.target for c in clips])


def score(run: str, waves: list, targets: np.ndarray) -> np.ndarray:
    """The run's probabilities on the waves, through its own front-end and normalisation."""
    model, ckpt = load_run(run)
    cfg = run_config_from_dict(ckpt["config"])
    logmel = LogMel(cfg.frontend)
    with torch.no_grad():
        mels = [logmel(torch.from_numpy(np.nan_to_num(resample(w, r, cfg.frontend.sample_rate)).copy()))
                for w, r in waves]
    x = (torch.stack(mels).unsqueeze(1) - ckpt["normalize"]["mean"]) / ckpt["normalize"]["std"]
    _, _, probs = evaluate(model, x, torch.from_numpy(targets).long(), cfg.train.crop_frames, cfg.train.eval_crops)
    return probs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+", help="cross-validated recipes (Training/cv/NAME.json)")
    ap.add_argument("--dbfs", type=float, default=-45.0, help="the floor's RMS (default -45, the detection benchmark's)")
    ap.add_argument("--colour", choices=sorted(COLOURS), default="pink")
    ap.add_argument("--seed", type=int, default=45)
    ap.add_argument("--root", default=str(TRAINING.parent.parent / "shared" / "datasets" / "esc50"))
    ap.add_argument("--results", default=str(TRAINING / "cv"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = Path(args.results)
    suffix = f"floor{abs(args.dbfs):g}" + ("" if args.colour == "pink" else f"-{args.colour}")
    for k in CV_FOLDS:
        clips, waves, targets = clips_over_floor(args.root, k, args.colour, args.dbfs, args.seed)
        for name in args.names:
            (run,) = recipe_runs(results, [name], k, "recipe")
            probs = score(run, waves, targets)
            merge_out_of_fold(results / f"{name}-{suffix}.npz", k, probs, targets, [c.filename for c in clips])
            record_path = results / f"{name}-{suffix}.json"
            record = json.loads(record_path.read_text()) if record_path.exists() else {"folds": {}}
            record.update({"name": f"{name}-{suffix}", "recipe": name,
                           "floor": {"colour": args.colour, "dbfs": args.dbfs, "seed": args.seed},
                           "command": shlex.join(["python", "Training/cv_floor.py", *sys.argv[1:]])})
            record["folds"][str(k)] = {"run": run, "top1": float((probs.argmax(1) == targets).mean())}
            record_path.write_text(json.dumps(record, indent=2) + "\n")
            print(f"{name}, fold {k} over a {args.dbfs:g} dBFS {args.colour} floor: top-1 "
                  f"{record['folds'][str(k)]['top1']:.4f}", flush=True)


if __name__ == "__main__":
    main()
