#!/usr/bin/env python3
"""Writes the parity fixture for crop views (test-time warps): a shipped network's window
probabilities with its crops read through a view set, on its parity fixture's log-mels.

    python Training/views_fixture.py --card Models/hark-esc50.json --views C

→ Tests/Fixtures/parity/views/NAME-views-SET.json: the views, and per clip of the fixture the mean
softmax over the card's crops read through them, which the Swift engine must match
(`ClassifierParityTests`). The network needs no views of its own: the fixture pins how a crop is
read, the same for every network.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.crops import VIEW_SETS, crop_probabilities  # noqa: E402
from hark_train.model import load_card  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--card", default=str(ROOT / "Models" / "hark-esc50.json"))
    ap.add_argument("--views", choices=sorted(set(VIEW_SETS) - {"plain"}), default="C")
    ap.add_argument("--fixtures", default=str(ROOT / "Tests" / "Fixtures" / "parity"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, ckpt = load_card(args.card)
    name = ckpt["card"]["name"]
    fixtures = Path(args.fixtures)
    tensors = load_file(str(fixtures / f"{name}.safetensors"))
    clips = json.loads((fixtures / f"{name}.json").read_text())["clips"]
    frames, count = ckpt["config"]["train"]["crop_frames"], ckpt["config"]["train"]["eval_crops"]
    views = VIEW_SETS[args.views]
    out = {"card": name, "views": [{"shift": v.shift, "rate": v.rate} for v in views], "clips": []}
    with torch.no_grad():
        for i, clip in enumerate(clips):
            mel = tensors[f"clip{i}.logmel"]
            x = ((mel - ckpt["normalize"]["mean"]) / ckpt["normalize"]["std"])[None, None]
            probs = crop_probabilities(model, x, frames, count, views=views)[0]
            out["clips"].append({"file": clip["file"], "probabilities": [float(p) for p in probs]})
    path = fixtures / "views" / f"{name}-views-{args.views}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{path}: {len(clips)} clips")


if __name__ == "__main__":
    main()
