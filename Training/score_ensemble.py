#!/usr/bin/env python3
"""Scores finished runs, alone and averaged, on validation folds they were not trained on.

    python Training/score_ensemble.py --folds 4 --runs Training/runs/expK Training/runs/expP Training/runs/expM

A run is a run folder or an exported model card (`Models/NAME.json`, for a shipped member whose
run folder is gone). Each is scored with its own front-end's cached log-mels and its normalisation,
as the mean softmax over its `eval_crops` crops (or `--crops`); the ensemble is the mean of those probabilities.
Fold 5 is refused, except once for a chosen ensemble whose rule was committed beforehand:

    python Training/score_ensemble.py --folds 5 --final Training/runs/ensemble-fold5.json --runs RUN...

scores only the ensemble (not its members), writes its top-1/top-5 to that file and refuses to run
again while the file exists.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.config import frontend_from_dict  # noqa: E402
from hark_train.crops import views_of  # noqa: E402
from hark_train.data import cache_key, load_logmels  # noqa: E402
from hark_train.model import load_run  # noqa: E402
from train import evaluate, fold_subset, top_k_accuracy  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", required=True,
                    help="run folders with checkpoint.pt, or exported model cards (Models/NAME.json)")
    ap.add_argument("--folds", type=int, nargs="+", required=True, help="validation folds to score")
    ap.add_argument("--root", default="../shared/datasets/esc50")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parent / "cache"))
    ap.add_argument("--crops", type=int, default=None,
                    help="crops per window for every run (default: each run's train.eval_crops)")
    ap.add_argument("--loudest", type=int, default=0, metavar="N",
                    help="score each window as the mean over its N loudest crops (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--final", metavar="RESULT.json",
                    help="score the ensemble once on the test fold 5 and record it here")
    args = ap.parse_args()
    final = Path(args.final) if args.final else None
    if final is not None:
        if args.folds != [5] or len(args.runs) < 2:
            sys.exit("--final scores an ensemble of two or more runs on fold 5 alone")
        if final.exists():
            sys.exit(f"{final} exists: this ensemble's fold-5 score is already on record")
    elif 5 in args.folds:
        sys.exit("fold 5 is the test fold: it is scored once, by a final run (or --final)")
    torch.set_num_threads(args.threads)

    summed, targets = 0, None
    logmels = {}   # front-end → cached log-mels, read once however many runs share it
    for run in args.runs:
        model, ckpt = load_run(run)
        cfg = ckpt["config"]
        if set(cfg["data"]["train_folds"]) & set(args.folds):
            sys.exit(f"{run} was trained on folds {cfg['data']['train_folds']}: it cannot be scored on {args.folds}")
        fe = frontend_from_dict(cfg["frontend"])
        if cache_key(fe) not in logmels:
            logmels[cache_key(fe)] = load_logmels(args.root, fe, args.cache)
        mels, clips = logmels[cache_key(fe)]
        x, y = fold_subset(mels, clips, args.folds)
        x = (x - ckpt["normalize"]["mean"]) / ckpt["normalize"]["std"]
        crops = args.crops or cfg["train"].get("eval_crops")
        if crops is None:
            sys.exit(f"{run} predates train.eval_crops: pass --crops")
        views = views_of(cfg["train"].get("eval_views"))   # a card's test-time views, if any
        _, acc, probs = evaluate(model, x, y, cfg["train"]["crop_frames"], crops, loudest=args.loudest, views=views)
        if final is None:
            print(f"{run}: top-1 {acc:.4f}")
        summed = summed + probs
        targets = y.numpy()
    if len(args.runs) > 1:
        acc = float((summed.argmax(1) == targets).mean())
        print(f"mean of {len(args.runs)} runs: top-1 {acc:.4f}")
    if final is not None:
        top5 = top_k_accuracy(summed, targets, 5)
        record = {"runs": args.runs, "folds": args.folds, "crops": args.crops or "each run's eval_crops",
                  "loudest": args.loudest or "all crops",
                  "top1": acc, "top5": top5, "clips": len(targets), "command": " ".join(sys.argv)}
        final.write_text(json.dumps(record, indent=2))
        print(f"fold 5: top-1 {acc:.4f}, top-5 {top5:.4f} → {final}")


if __name__ == "__main__":
    main()
