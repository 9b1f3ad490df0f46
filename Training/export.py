#!/usr/bin/env python3
"""Exports a trained run to Models/NAME.safetensors + Models/NAME.json, and writes the Swift
engine's parity fixtures.

    python Training/export.py --run Training/runs/hark-esc50 --name hark-esc50

Fixtures (Tests/Fixtures/parity/): for fold-5 clips, checksums of the decoded and resampled samples,
the log-mel, the logits and every exposed layer's mean-over-channels map (plus full maps of the
last stage), for the exported model and for a seed-size ResNet with deterministic random weights
(see hark_train/deterministic.py) so the engine is checked on both architecture sizes.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.config import FrontEndConfig, ModelConfig, frontend_from_dict  # noqa: E402
from hark_train.crops import VIEW_SETS, card_entry, crop_probabilities, views_of  # noqa: E402
from hark_train.data import read_meta  # noqa: E402
from hark_train.deterministic import tensor_values  # noqa: E402
from hark_train.frontend import LogMel, decode, fit_window, resample, to_mono  # noqa: E402
from hark_train.labels import emoji_for  # noqa: E402
from hark_train.model import HarkResNet, count_macs, load_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BN_EPS = 1e-5
LICENSE = {
    "weights": "Trained on ESC-50; usable under the dataset's terms: CC BY-NC 3.0 (attribution, non-commercial).",
    "data": "ESC-50 by Karol J. Piczak, CC BY-NC 3.0, https://github.com/karolpiczak/ESC-50 "
            "(K. J. Piczak, ESC: Dataset for Environmental Sound Classification, ACM MM 2015).",
}
# Seed-size ResNet for the second parity fixture: the seed's architecture and front-end.
SEED_MODEL = ModelConfig(stem="conv7_maxpool", stem_width=64, blocks=[3, 4, 6, 3], widths=[64, 128, 256, 512],
                         dropout=0.5, num_classes=50)
SEED_FRONTEND = FrontEndConfig(sample_rate=44100, n_fft=2048, win_length=2048, hop_length=512, n_mels=128,
                               f_min=0.0, f_max=22050.0, mel_scale="htk", mel_norm=None, power=2.0, top_db=80.0)
SEED_NORMALIZE = {"mean": -45.0, "std": 20.0}
FIXTURE_BUDGET_BYTES = 5_000_000  # all of Tests/Fixtures/parity: the repository carries them


def layer_descriptions(model: HarkResNet) -> list[dict]:
    out = []
    for name in model.exposed_layers():
        if name == "conv1":
            d = "stem convolution after batch norm and ReLU (before any max-pool)"
        elif name.endswith(".conv1"):
            d = "block's first 3x3 convolution after batch norm and ReLU"
        elif name.endswith(".conv2"):
            d = "block's second 3x3 convolution after batch norm, before the residual add"
        elif name.count(".") == 1:
            d = "block output (residual add, then ReLU)"
        else:
            d = "stage output (its last block's output)"
        out.append({"name": name, "description": d})
    return out


def frontend_card(fe: FrontEndConfig, normalize: dict) -> dict:
    d = asdict(fe)
    d.update({"normalize": normalize, "resampler": "soxr-hq", "mixdown": "mean", "center": True,
              "pad_mode": "reflect", "window": "hann (periodic)", "amin": 1e-10, "db_reference": 1.0})
    return d


def architecture_card(mc: ModelConfig, fe: FrontEndConfig, model: HarkResNet) -> dict:
    d = {"family": "resnet", **asdict(mc), "batch_norm_eps": BN_EPS,
         "input": {"channels": 1, "n_mels": fe.n_mels, "frames": fe.frames},
         "macs": count_macs(mc, fe.n_mels, fe.frames),
         "parameters": sum(p.numel() for p in model.parameters())}
    return d


def state_tensors(model: HarkResNet) -> dict[str, torch.Tensor]:
    """state_dict minus BN's step counters; BN stays as its own tensors (the engine folds it)."""
    return {k: v.detach().contiguous().float() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def fixture_clips(root: Path, count: int) -> list:
    """The first `count` fold-5 clips of distinct classes, in CSV order."""
    chosen, seen = [], set()
    for clip in read_meta(root):
        if clip.fold == 5 and clip.target not in seen:
            chosen.append(clip)
            seen.add(clip.target)
        if len(chosen) == count:
            break
    return chosen


def stats(x: np.ndarray) -> dict:
    x64 = x.astype(np.float64)
    return {"count": int(x.size), "sum": float(x64.sum()), "sum_squares": float((x64 ** 2).sum()),
            "head": [float(v) for v in x.reshape(-1)[:8]]}


def write_fixture(name: str, model: HarkResNet, fe: FrontEndConfig, normalize: dict, card: dict | None,
                  root: Path, out_dir: Path, clips: list, full_map_layers: list[str],
                  crops: dict | None = None, maps_clips: int | None = None) -> int:
    """Runs clips through the reference path and writes out_dir/NAME.json + NAME.safetensors.

    Feature maps are kept for the first `maps_clips` clips (all by default); every clip keeps its
    log-mel, logits and crop probabilities, which is what an ensemble's test needs of a member."""
    maps_clips = len(clips) if maps_clips is None else min(maps_clips, len(clips))
    out_dir.mkdir(parents=True, exist_ok=True)
    logmel = LogMel(fe)
    model.eval()
    tensors: dict[str, torch.Tensor] = {}
    meta = {"name": name, "frontend": frontend_card(fe, normalize), "clips": [],
            "mel_filterbank": "mel_fb", "exposed_layers": model.exposed_layers(), "full_maps": full_map_layers,
            "maps_clips": maps_clips}
    if card is not None:
        meta["card"] = card
    if crops:
        meta["crops"] = crops
    tensors["mel_fb"] = logmel.mel.mel_scale.fb.detach().clone()
    with torch.no_grad():
        for i, clip in enumerate(clips):
            path = root / "audio" / clip.filename
            samples, rate = decode(str(path))
            mono = to_mono(samples)
            resampled = resample(mono, rate, fe.sample_rate)
            window = fit_window(resampled, fe.window_samples)
            mel = logmel(torch.from_numpy(window))
            x = ((mel - normalize["mean"]) / normalize["std"]).unsqueeze(0).unsqueeze(0)
            taps: dict = {}
            logits = model(x, taps)[0]
            key = f"clip{i}"
            tensors[f"{key}.logmel"] = mel.contiguous()
            tensors[f"{key}.logits"] = logits.contiguous()
            verdict = int(logits.argmax())
            if crops:
                probs = crop_probabilities(model, x, crops["frames"], crops["count"], views=views_of(crops.get("views")))[0]
                tensors[f"{key}.crop_probabilities"] = probs.contiguous()
                verdict = int(probs.argmax())
            if i < maps_clips:
                for layer, fmap in taps.items():
                    tensors[f"{key}.mean.{layer}"] = fmap[0].mean(0).contiguous()
                    if layer in full_map_layers:
                        tensors[f"{key}.full.{layer}"] = fmap[0].contiguous()
            meta["clips"].append({"file": clip.filename, "label": clip.category, "target": clip.target,
                                  "decoded": {"rate": rate, "channels": int(samples.shape[1]), **stats(samples)},
                                  "resampled": stats(resampled),
                                  "top1": int(logits.argmax()), "verdict": verdict})
    save_file(tensors, str(out_dir / f"{name}.safetensors"))
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    return sum((out_dir / f"{name}{ext}").stat().st_size for ext in (".json", ".safetensors"))


def seed_size_random_model() -> HarkResNet:
    model = HarkResNet(SEED_MODEL)
    state = model.state_dict()
    for k, v in state.items():
        if not k.endswith("num_batches_tracked"):
            state[k] = torch.from_numpy(tensor_values(k, tuple(v.shape)))
    model.load_state_dict(state)
    return model


def fixtures_within_budget(fixtures: Path) -> int:
    """The bytes all fixtures in the folder take; refuses a total over the budget."""
    total = sum(f.stat().st_size for f in fixtures.iterdir() if f.is_file())
    if total > FIXTURE_BUDGET_BYTES:
        raise SystemExit(f"the parity fixtures take {total / 1e6:.2f} MB, over the {FIXTURE_BUDGET_BYTES / 1e6:.0f} MB budget: "
                         "use --mean-maps-only, fewer --maps-clips or fewer --clips")
    return total


def write_card_fixture(args: argparse.Namespace) -> None:
    """The parity fixture of an already exported card, under the card's own name."""
    if not args.run or Path(args.run).suffix != ".json":
        raise SystemExit("--fixture-only takes --run Models/NAME.json (an exported model card)")
    model, ckpt = load_run(args.run)
    card = ckpt["card"]
    fixtures = Path(args.fixtures)
    last_stage = f"layer{len(model.cfg.blocks)}"
    size = write_fixture(card["name"], model, frontend_from_dict(ckpt["config"]["frontend"]), ckpt["normalize"],
                         None, Path(args.data), fixtures, fixture_clips(Path(args.data), args.clips),
                         [] if args.mean_maps_only else [last_stage], card.get("crops"), args.maps_clips)
    print(f"fixture of {args.run}: {size / 1e6:.2f} MB written, {fixtures_within_budget(fixtures) / 1e6:.2f} MB "
          f"in all in {fixtures}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", help="run folder written by train.py (checkpoint.pt, metrics.json)")
    ap.add_argument("--random-init", metavar="CONFIG",
                    help="instead of --run: export an untrained model from a TOML config (for development)")
    ap.add_argument("--name", default="hark-esc50")
    ap.add_argument("--models", default=str(ROOT / "Models"))
    ap.add_argument("--fixtures", default=str(ROOT / "Tests" / "Fixtures" / "parity"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "esc50"))
    ap.add_argument("--clips", type=int, default=3)
    ap.add_argument("--seed-clips", type=int, default=1,
                    help="clips in the seed-size random model's fixture (its 128x431 maps are large)")
    ap.add_argument("--mean-maps-only", action="store_true",
                    help="no full map of the last stage in the model's fixture (keeps a large-input model's "
                         "fixture small; the shipped model's fixture covers full maps)")
    ap.add_argument("--maps-clips", type=int, default=None,
                    help="clips whose feature maps the model's fixture keeps (default: all); the others keep "
                         "log-mel, logits and crop probabilities")
    ap.add_argument("--command", default="", help="the training command, recorded in the model card")
    ap.add_argument("--eval-crops", type=int, default=None,
                    help="crops per window at test time (default: the run's train.eval_crops)")
    ap.add_argument("--views", choices=sorted(VIEW_SETS), default="plain",
                    help="how the crops are read at test time (hark_train.crops.VIEW_SETS; default: plain)")
    ap.add_argument("--fixture-only", action="store_true",
                    help="with --run Models/NAME.json: write only that exported card's parity fixture (its run "
                         "folder gone); the card and its weights stay as they are")
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.fixture_only:
        write_card_fixture(args)
        return

    if args.run:
        model, ckpt = load_run(args.run)
        mc, fe = model.cfg, frontend_from_dict(ckpt["config"]["frontend"])
        if mc.freq_coord:
            raise SystemExit(f"{args.run}: the frequency-place input channel (model.freq_coord) is not in the Swift engine")
        if mc.pool != "avg":
            raise SystemExit(f"{args.run}: pool {mc.pool!r} is not in the Swift engine (it runs \"avg\" only)")
        normalize, labels, metrics, train_cfg = ckpt["normalize"], ckpt["labels"], ckpt["metrics"], ckpt["config"]["train"]
        metrics_file = Path(args.run) / "metrics.json"
        if metrics_file.exists():  # newer than the checkpoint's copy after `train.py --rescore`
            metrics = json.loads(metrics_file.read_text())
    elif args.random_init:
        from hark_train.config import load_config
        cfg = load_config(args.random_init)
        mc, fe = cfg.model, cfg.frontend
        torch.manual_seed(cfg.train.seed)
        model = HarkResNet(mc)
        with torch.no_grad():  # non-trivial BN statistics so that folding is exercised
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
        normalize = {"mean": -45.0, "std": 20.0}
        from hark_train.data import class_names
        labels = class_names(read_meta(args.data))
        metrics, train_cfg = {}, {"note": "untrained: randomly initialised for development"}
        train_cfg.update(crop_frames=cfg.train.crop_frames, eval_crops=cfg.train.eval_crops)
    else:
        ap.error("give --run or --random-init")
    model.eval()
    eval_crops = args.eval_crops if args.eval_crops is not None else train_cfg.get("eval_crops", 1)
    train_cfg = {**train_cfg, "eval_crops": eval_crops}
    crops = card_entry(train_cfg.get("crop_frames", 0), eval_crops, VIEW_SETS[args.views])
    scored_as = (f"the mean over {crops['count']} crops of {crops['frames']} frames of one 5-s window per clip"
                 if crops else "one 5-s window per clip")

    card = {
        "format": "hark-model-card/1",
        "name": args.name,
        "description": "Environmental sound classifier: log-mel spectrogram of a 5-s window → ResNet → 50 ESC-50 classes.",
        "architecture": architecture_card(mc, fe, model),
        "frontend": frontend_card(fe, normalize),
        "labels": [{"index": i, "name": n, "emoji": emoji_for(n)} for i, n in enumerate(labels)],
        "layers": layer_descriptions(model),
        "weights": {"file": f"{args.name}.safetensors", "dtype": "float32"},
        "training": {"recipe": train_cfg, "train_folds": metrics.get("train_folds"),
                     "validation_folds": metrics.get("val_folds"), "epochs": metrics.get("epochs"),
                     "wall_seconds": metrics.get("wall_seconds"), "machine": metrics.get("machine"),
                     "command": args.command or None},
        "evaluation": {"protocol": "trained on ESC-50 folds 1-4 (settings chosen on a validation split of folds 1-4); "
                                   + (f"fold 5 scored once, after training, on {scored_as}" if "test_top1" in metrics
                                      else f"not scored alone on fold 5 (a member of an ensemble, which scores "
                                           f"{scored_as}; see the ensemble's card)"),
                       "fold5_top1": metrics.get("test_top1"), "fold5_top5": metrics.get("test_top5")},
        "license": LICENSE,
    }
    if "sittings" in metrics:  # a run resumed across sittings: each one's epochs, wall time and machine
        card["training"]["sittings"] = metrics["sittings"]
    if crops:
        card["crops"] = crops
        if "test_top1_whole_window" in metrics:
            card["evaluation"]["fold5_top1_whole_window"] = metrics["test_top1_whole_window"]
    models = Path(args.models)
    models.mkdir(parents=True, exist_ok=True)
    save_file(state_tensors(model), str(models / f"{args.name}.safetensors"),
              metadata={"format": "pt", "card": f"{args.name}.json"})
    (models / f"{args.name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")

    root = Path(args.data)
    clips = fixture_clips(root, args.clips)
    fixtures = Path(args.fixtures)
    last_stage = f"layer{len(mc.blocks)}"
    size = write_fixture(args.name, model, fe, normalize, None, root, fixtures, clips,
                         [] if args.mean_maps_only else [last_stage], crops, args.maps_clips)
    seed = seed_size_random_model()
    seed_card = {
        "format": "hark-model-card/1", "name": "seed-resnet-random",
        "description": "Seed-size ResNet with deterministic random weights (hark_train/deterministic.py); parity only.",
        "architecture": architecture_card(SEED_MODEL, SEED_FRONTEND, seed),
        "frontend": frontend_card(SEED_FRONTEND, SEED_NORMALIZE),
        "labels": [{"index": i, "name": f"class{i}", "emoji": "🔊"} for i in range(SEED_MODEL.num_classes)],
        "layers": layer_descriptions(seed),
        "weights": {"file": "deterministic", "dtype": "float32"},
    }
    size += write_fixture("seed-resnet-random", seed, SEED_FRONTEND, SEED_NORMALIZE, seed_card, root, fixtures,
                          clips[:args.seed_clips], ["layer4"])
    print(f"exported {models / args.name}.{{safetensors,json}}; fixtures {size / 1e6:.2f} MB written, "
          f"{fixtures_within_budget(fixtures) / 1e6:.2f} MB in all in {fixtures}")


if __name__ == "__main__":
    main()
