#!/usr/bin/env python3
"""The PyTorch + torchaudio reference for `hark eval`: the same fold, the same path (decode with
libsndfile, mean mixdown, soxr HQ resampling, torchaudio log-mel, the model), timed end to end.

    python Training/eval_reference.py --model Models/hark-esc50.json --fold 5 [--threads 2]

Prints top-1/top-5 and clips/s, to compare with `hark eval --fold 5` on the same machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.config import frontend_from_dict  # noqa: E402
from hark_train.crops import crop_probabilities, views_of  # noqa: E402
from hark_train.data import read_meta  # noqa: E402
from hark_train.frontend import LogMel, load_window  # noqa: E402
from hark_train.model import load_card  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_model(card_path: str):
    model, ckpt = load_card(card_path)
    return model, frontend_from_dict(ckpt["config"]["frontend"]), ckpt["normalize"], ckpt["config"]["train"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "Models" / "hark-esc50.json"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "esc50"))
    ap.add_argument("--fold", type=int, default=5)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, fe, norm, crops = load_model(args.model)
    logmel = LogMel(fe)
    clips = [c for c in read_meta(args.data) if c.fold == args.fold]
    top1 = top5 = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for clip in clips:
            wave = load_window(str(Path(args.data) / "audio" / clip.filename), fe)
            x = (logmel(torch.from_numpy(wave)) - norm["mean"]) / norm["std"]
            # Scored as the model card says: the whole window, or the mean over its crops (through its views).
            probs = crop_probabilities(model, x[None, None], crops["crop_frames"], crops["eval_crops"],
                                       views=views_of(crops.get("eval_views")))
            ranked = probs[0].argsort(descending=True)
            top1 += int(ranked[0] == clip.target)
            top5 += int(clip.target in ranked[:5].tolist())
    seconds = time.perf_counter() - started
    print(json.dumps({"fold": args.fold, "clips": len(clips), "top1": top1 / len(clips), "top5": top5 / len(clips),
                      "seconds": round(seconds, 2), "clips_per_second": round(len(clips) / seconds, 1),
                      "crops": crops["eval_crops"],
                      "views": crops.get("eval_views"), "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
