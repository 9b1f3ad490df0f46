#!/usr/bin/env python3
"""Scores a cross-validated recipe's fold runs again with their crops read through views
(test-time warps, `hark_train.crops.VIEW_SETS`), as out-of-fold files `cv_report.py` compares.

    python Training/score_views.py --name k-warp-x2-e440-r --views A B C
    python Training/cv_report.py k-warp-x2-e440-r k-warp-x2-e440-r-views-A

For each fold of `Training/cv/NAME.json` whose run folder is on this machine, the held-out fold is
scored plain first, and those probabilities must equal NAME.npz's for that fold (the same runs, the same
protocol); then once per view set, into `Training/cv/NAME-views-SET.{npz,json}` (a fold's earlier rows
replaced, the other folds kept, as `cv.py` does). Fold 5 is never touched: the runs' held-out folds are 1-4.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cv import TRAINING, merge_out_of_fold, write_results  # noqa: E402
from hark_train.config import run_config_from_dict  # noqa: E402
from hark_train.crops import PLAIN, VIEW_SETS  # noqa: E402
from hark_train.data import load_logmels  # noqa: E402
from hark_train.model import load_run  # noqa: E402
from train import evaluate, fold_subset  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True, help="a cross-validated recipe (Training/cv/NAME.json)")
    ap.add_argument("--views", nargs="+", required=True, choices=sorted(set(VIEW_SETS) - {"plain"}))
    ap.add_argument("--results", default=str(TRAINING / "cv"))
    ap.add_argument("--root", default="../shared/datasets/esc50")
    ap.add_argument("--cache", default=str(TRAINING / "cache"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = Path(args.results)
    record = json.loads((results / f"{args.name}.json").read_text())
    with np.load(results / f"{args.name}.npz") as d:
        recorded = {key: d[key] for key in d}
    for fold, entry in sorted(record["folds"].items()):
        k = int(fold)
        run = TRAINING.parent / entry["run"]
        if not (run / "checkpoint.pt").exists():
            print(f"fold {k}: {run} is not on this machine; skipped", flush=True)
            continue
        model, ckpt = load_run(run)
        cfg = run_config_from_dict(ckpt["config"])
        if cfg.data.val_folds != [k]:
            sys.exit(f"{run} does not hold fold {k} out (its val folds: {cfg.data.val_folds})")
        mels, clips = load_logmels(args.root, cfg.frontend, args.cache)
        x, y = fold_subset(mels, clips, [k])
        x = (x - ckpt["normalize"]["mean"]) / ckpt["normalize"]["std"]
        names = [c.filename for c in clips if c.fold == k]
        frames, count = cfg.train.crop_frames, cfg.train.eval_crops
        _, _, plain = evaluate(model, x, y, frames, count, views=PLAIN)
        rows = recorded["folds"] == k
        if not (np.array_equal(recorded["filenames"][rows], np.array(sorted(names)))
                and np.allclose(recorded["probs"][rows], plain[np.argsort(names)], atol=1e-6)):
            sys.exit(f"fold {k}: the plain crops do not reproduce {args.name}.npz: not the recorded run")
        print(f"fold {k}: plain {float((plain.argmax(1) == y.numpy()).mean()):.4f}", flush=True)
        for name in args.views:
            started = time.time()
            _, acc, probs = evaluate(model, x, y, frames, count, views=VIEW_SETS[name])
            out = f"{args.name}-views-{name}"
            merge_out_of_fold(results / f"{out}.npz", k, probs, y.numpy(), names)
            summary_path = results / f"{out}.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else {
                "name": out, "runs_of": args.name, "views": name, "folds": {}}
            summary["command"] = " ".join(["python", "Training/score_views.py", *argv])
            summary["folds"][str(k)] = {"run": entry["run"], "top1": acc, "clips": len(names),
                                        "score_seconds": round(time.time() - started, 1)}
            write_results(results, out, summary)
            print(f"fold {k}: views {name} {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
