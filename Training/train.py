#!/usr/bin/env python3
"""Trains a Hark ResNet on ESC-50 from a TOML config.

    python Training/train.py --config Training/configs/hark-esc50.toml --out Training/runs/hark-esc50

Settings are chosen on `data.val_folds` (taken from folds 1-4); `data.test_folds` (fold 5) is scored
once, after the last epoch, and written to metrics.json.

A training may span several sittings: every `train.checkpoint_every` epochs the run's whole state goes
to OUT/resume.pt, `--stop-after-epoch N` ends a sitting after epoch N, and the same command with
`--resume` continues from the last state written, giving the weights an uninterrupted run gives
(same config and thread count; Training/tests/test_resume.py checks it). metrics.json records the
sittings and their wall time. Where the run folder does not outlive the sitting (a session's machine
that is handed back), `--finish-within M` stops as soon as the epochs left cannot end within M minutes
at the pace measured so far (from the sitting's second epoch: the first carries warm-up), so little
time goes to a run that will be lost.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.augment import a_weighting_db, add_noise, mixup, noise_bank, random_colouring, random_crop, random_gain, random_warp, spec_augment, time_shift  # noqa: E402
from hark_train.config import frontend_from_dict, load_config, model_from_dict  # noqa: E402
from hark_train.crops import PLAIN, View, crop_probabilities, crop_starts  # noqa: E402
from hark_train.data import class_names, load_logmels  # noqa: E402
from hark_train.model import HarkResNet, count_macs, load_run  # noqa: E402
from hark_train.plots import plot_curves  # noqa: E402
from hark_train.teachers import TeacherEnsemble  # noqa: E402


def cpuinfo_field(name: str) -> str | None:
    """The value of /proc/cpuinfo's first `name` line (the first CPU's), or None where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(name)), None)
    except OSError:
        return None


def machine_description() -> str:
    cpu = cpuinfo_field("model name") or platform.processor() or "cpu"
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def cpu_has_native_bf16() -> bool:
    """Whether the CPU computes bfloat16 in hardware (AVX512-BF16 or AMX-BF16), by its flags."""
    flags = cpuinfo_field("flags")
    if flags is None:
        return True   # unknown: no warning
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def evaluate(model, x: torch.Tensor, y: torch.Tensor, crop_frames: int = 0, crops: int = 1,
             batch: int = 100, loudest: int = 0, views: tuple[View, ...] = PLAIN) -> tuple[float, float, np.ndarray]:
    """Loss, top-1 and class probabilities; windows scored whole or as the mean over (the
    `loudest` of) their crops, each read through its view."""
    model.eval()
    device = next(model.parameters()).device
    probs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].to(device).contiguous(memory_format=torch.channels_last)
            probs.append(crop_probabilities(model, xb, crop_frames, crops, loudest, views).float().cpu())
    probs = torch.cat(probs)
    loss = F.nll_loss(torch.log(probs.clamp_min(1e-12)), y).item()
    acc = (probs.argmax(1) == y).float().mean().item()
    return loss, acc, probs.numpy()


# Settings that change how often a run is scored or saved, not one number of the training.
SCHEDULE_ONLY = ("val_every", "checkpoint_every")
# The exit status of a sitting stopped by --finish-within (EX_TEMPFAIL): its state is written, and the
# run cannot end in the time it was given on this machine.
CANNOT_FINISH = 75


def same_recipe(a: dict, b: dict) -> bool:
    """Whether two run configs train the same way (they may score or save on other schedules)."""
    def strip(d: dict) -> dict:
        return {**d, "train": {k: v for k, v in d["train"].items() if k not in SCHEDULE_ONLY}}
    return strip(a) == strip(b)


def starting_weights(run: str, cfg) -> dict:
    """The weights of the finished run (or card) a fine-tuning starts from, refused unless it is the same
    network on the same front-end trained on the same folds (other folds would leak the held-out one)."""
    model, ckpt = load_run(run)   # a run folder, or an exported card whose run folder is gone
    theirs = ckpt["config"]
    if model_from_dict(theirs["model"]) != cfg.model:
        raise SystemExit(f"train.init_from: {run} has another network than this run")
    if frontend_from_dict(theirs["frontend"]) != cfg.frontend:
        raise SystemExit(f"train.init_from: {run} has another front-end than this run")
    if sorted(theirs["data"]["train_folds"]) != sorted(cfg.data.train_folds):
        raise SystemExit(f"train.init_from: {run} was trained on folds {theirs['data']['train_folds']}, "
                         f"this run trains on {cfg.data.train_folds}")
    return model.state_dict()


def fold_index(clips: list, fold_list: list[int]) -> np.ndarray:
    return np.where(np.isin([c.fold for c in clips], fold_list))[0]


def fold_subset(mels: np.ndarray, clips: list, fold_list: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The log-mels [N, 1, mels, frames] (dB) and targets of the clips in `fold_list`."""
    idx = fold_index(clips, fold_list)
    targets = np.array([clips[i].target for i in idx])
    return torch.from_numpy(mels[idx]).unsqueeze(1), torch.from_numpy(targets).long()


def top_k_accuracy(probs: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of rows whose target is among the k most probable classes."""
    top = np.argsort(-probs, 1)[:, :k]
    return float(np.mean([t in row for t, row in zip(targets, top)]))


@torch.no_grad()
def refresh_batch_norm(model, x: torch.Tensor, crop_frames: int, crops: int, batch: int = 100) -> None:
    """Recomputes every batch-norm layer's running mean and variance for `model`'s weights as the
    plain average over the training windows' scoring crops (x normalised, [N, 1, mels, T]): an
    average of weights has no statistics of its own."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None            # a cumulative average over every batch below
    device = next(model.parameters()).device
    model.train()
    total = x.shape[-1]
    for start in (crop_starts(total, crops) if crop_frames > 0 and crops > 1 else [0]):
        idx = (start + torch.arange(crop_frames)) % total if crop_frames > 0 and crops > 1 else torch.arange(total)
        for i in range(0, len(x), batch):
            model(x[i:i + batch][..., idx].to(device).contiguous(memory_format=torch.channels_last))
    for m in norms:
        m.momentum = 0.1
    model.eval()


def score_test(model, x: torch.Tensor, y: torch.Tensor, tc) -> dict:
    """Top-1/top-5 on the test folds as the model card's protocol scores them (crops or whole
    windows), and the whole-window top-1 beside it."""
    _, acc, probs = evaluate(model, x, y, tc.crop_frames, tc.eval_crops)
    scores = {"test_top1": acc, "test_top5": top_k_accuracy(probs, y.numpy(), 5),
              "test_crops": tc.eval_crops if tc.crop_frames > 0 else 1}
    if scores["test_crops"] > 1:
        scores["test_top1_whole_window"] = evaluate(model, x, y)[1]
    return scores


def rescore(cfg, out: Path, cache: str) -> None:
    """Scores a finished run's checkpoint on its test folds again, with the config's (possibly
    newer) scoring protocol; updates metrics.json. Only for runs whose checkpoint predates a
    protocol setting: it must not be used to choose settings."""
    model, ckpt = load_run(out)
    mels, clips = load_logmels(cfg.data.root, cfg.frontend, cache)
    x_db, y = fold_subset(mels, clips, cfg.data.test_folds)
    norm = ckpt["normalize"]
    x = (x_db - norm["mean"]) / norm["std"]
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.update(score_test(model, x, y, cfg.train))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps({k: v for k, v in metrics.items() if k.startswith("test_")}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a config value (TOML syntax), e.g. --set train.epochs=10")
    ap.add_argument("--out", required=True, help="run folder (checkpoint, logs, metrics, curves)")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parent / "cache"),
                    help="folder for the precomputed log-mels")
    ap.add_argument("--rescore", action="store_true",
                    help="score the finished run in --out on its test folds with this config's protocol")
    ap.add_argument("--resume", action="store_true",
                    help="continue from OUT/resume.pt (written every train.checkpoint_every epochs) when there is one")
    ap.add_argument("--stop-after-epoch", type=int, default=0, metavar="N",
                    help="end this sitting after epoch N, its state written for --resume")
    ap.add_argument("--stop-after-minutes", type=float, default=0, metavar="M",
                    help="end this sitting after the first epoch that finishes M minutes after it began, "
                         "its state written for --resume (a lent machine's deadline)")
    ap.add_argument("--finish-within", type=float, default=0, metavar="M",
                    help="end this sitting, its state written for --resume and with status "
                         f"{CANNOT_FINISH}, as soon as the epochs left cannot end M minutes after it began at this "
                         "sitting's pace, judged from its second epoch on (a machine whose run folder does not outlive the sitting)")
    args = ap.parse_args()

    cfg = load_config(args.config, args.set)
    tc = cfg.train
    torch.set_num_threads(tc.threads)
    if args.rescore:
        rescore(cfg, Path(args.out), args.cache)
        return
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()

    root = cfg.data.root
    mels, clips = load_logmels(root, cfg.frontend, args.cache)
    feature_seconds = time.time() - started

    def subset(fold_list):
        return fold_subset(mels, clips, fold_list)

    x_train_db, y_train = subset(cfg.data.train_folds)
    # One global mean/std from the training folds; written to the model card for the Swift side.
    mean, std = float(x_train_db.mean()), float(x_train_db.std())
    x_val, y_val = subset(cfg.data.val_folds)
    x_val = (x_val - mean) / std
    n_mels = cfg.frontend.n_mels
    if tc.mix_by_loudness and not tc.mix_in_power:
        raise ValueError("train.mix_by_loudness needs train.mix_in_power")
    band_weights = a_weighting_db(cfg.frontend) if tc.mix_by_loudness else None
    noises = noise_bank(cfg.frontend) if tc.noise_prob > 0 else None
    teachers = None
    if tc.teachers:
        teachers = TeacherEnsemble(tc.teachers, cfg.frontend, cfg.data.train_folds, root, args.cache,
                                   fold_index(clips, cfg.data.train_folds))
        teachers.check_augmentations(tc.time_stretch, tc.freq_shift, tc.noise_prob)
        # Other front-ends' rows go below the student's; every augmentation but the masks is per frame.
        x_train_db = teachers.stack(x_train_db)

    if tc.precision not in ("fp32", "bf16"):
        raise ValueError(f"train.precision must be \"fp32\" or \"bf16\", not {tc.precision!r}")
    bf16 = tc.precision == "bf16"
    if bf16 and tc.device == "cpu" and not cpu_has_native_bf16():
        print("warning: this CPU has no AVX512-BF16 or AMX-BF16, so bf16 autocast is emulated and runs "
              "3-13x slower than float32 (3.2x per epoch for V's and M's recipes on a 2-core Xeon, 13x for "
              "K's on a 2-core AMD EPYC, Training/EXPERIMENTS.md); "
              "--set 'train.precision=\"fp32\"' trains faster here, at the cost of no longer being the "
              "recipe's exact arithmetic", flush=True)
    if tc.device not in ("cpu", "cuda"):
        raise ValueError(f"train.device must be \"cpu\" or \"cuda\", not {tc.device!r}")
    if tc.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("train.device is \"cuda\" but torch sees no CUDA device")
    device = torch.device(tc.device)
    if teachers is not None:
        teachers.to(device)
    model = HarkResNet(cfg.model)
    if tc.init_from:
        model.load_state_dict(starting_weights(tc.init_from, cfg))
    model = model.to(device=device, memory_format=torch.channels_last)
    ema = copy.deepcopy(model) if tc.ema_decay > 0 else None
    if tc.ema_decay > 0 and tc.swa_epochs > 0:
        raise ValueError("train.ema_decay and train.swa_epochs are two kinds of weight average: choose one")
    if not 0 <= tc.swa_epochs < tc.epochs:
        raise ValueError(f"train.swa_epochs must be in [0, train.epochs), not {tc.swa_epochs}")
    swa = torch.optim.swa_utils.AveragedModel(model) if tc.swa_epochs > 0 else None
    swa_from = tc.epochs - tc.swa_epochs + 1   # the first epoch at the constant rate, averaged
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    steps_per_epoch = len(x_train_db) // tc.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tc.lr,
                                                total_steps=(tc.epochs - tc.swa_epochs) * steps_per_epoch,
                                                pct_start=tc.pct_start)
    num_classes = cfg.model.num_classes

    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(out / "tensorboard"))
    rows = []
    print(f"{cfg.name}: {len(x_train_db)} train, {len(x_val)} val clips; "
          f"{count_macs(cfg.model, cfg.frontend.n_mels, cfg.frontend.frames) / 1e9:.2f} GMAC; "
          f"features {feature_seconds:.0f} s", flush=True)

    first_epoch, sittings = 1, []
    resume_path = out / "resume.pt"
    if args.resume and resume_path.exists():
        state = torch.load(resume_path, weights_only=False)
        if not same_recipe(state["config"], cfg.to_dict()):
            raise SystemExit(f"{resume_path} was written by another config; resume with the same --config and --set")
        model.load_state_dict(state["model"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        if swa is not None:
            swa.load_state_dict(state["swa"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        gen.set_state(state["generator"])
        rng.bit_generator.state = state["numpy_rng"]
        rows, sittings = state["rows"], state["sittings"]
        first_epoch = state["epoch"] + 1
        print(f"resumed after epoch {state['epoch']} from {resume_path}", flush=True)
    elif args.resume:
        print(f"no {resume_path}: starting at epoch 1", flush=True)

    def save_state(epoch: int) -> None:
        """Everything the next epoch depends on, written atomically."""
        state = {"config": cfg.to_dict(), "epoch": epoch, "model": model.state_dict(),
                 "ema": ema.state_dict() if ema is not None else None,
                 "swa": swa.state_dict() if swa is not None else None, "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(), "generator": gen.get_state(),
                 "numpy_rng": rng.bit_generator.state, "rows": rows,
                 "sittings": sittings + [{"epochs": [first_epoch, epoch], "wall_seconds": time.time() - started,
                                          "machine": machine_description()}]}
        torch.save(state, out / "resume.pt.tmp")
        os.replace(out / "resume.pt.tmp", resume_path)

    for epoch in range(first_epoch, tc.epochs + 1):
        t0 = time.time()
        averaging = swa is not None and epoch >= swa_from
        if averaging:
            for group in opt.param_groups:
                group["lr"] = tc.swa_lr
        model.train()
        order = torch.randperm(len(x_train_db), generator=gen)
        tot_loss = tot_acc = seen = 0.0
        for s in range(steps_per_epoch):
            idx = order[s * tc.batch_size:(s + 1) * tc.batch_size]
            db = x_train_db[idx]
            y_hard = y_train[idx]
            y = F.one_hot(y_hard, num_classes).float()
            if tc.gain_db > 0:
                db = random_gain(db, tc.gain_db, gen)
            db, y = mixup(db, y, tc, gen, rng, band_weights)
            if noises is not None:
                db = add_noise(db, noises, tc.noise_prob, tc.noise_snr_db, cfg.frontend.top_db, gen)
            # Shifts and crops are frame gathers (and the warp a linear interpolation), so they
            # commute with the normalisation that follows them.
            if tc.time_shift:
                db = time_shift(db, gen)
            if tc.crop_frames > 0 and (tc.time_stretch > 0 or tc.freq_shift > 0):
                db = random_warp(db, tc.crop_frames, tc.time_stretch, tc.freq_shift, tc.crop_candidates, gen)
            else:
                db = random_crop(db, tc.crop_frames, tc.crop_candidates, gen, level_rows=n_mels)
            x = (db[:, :, :n_mels] - mean) / std
            if tc.colour_db > 0:   # like the masks, the student's view alone: teachers hear the uncoloured crop
                x = random_colouring(x, tc.colour_db / std, gen)
            x = spec_augment(x, tc, gen).contiguous(memory_format=torch.channels_last)
            y_label = y.argmax(1)   # the dominant label of the mix, for train accuracy
            x, y, y_label = x.to(device, non_blocking=True), y.to(device), y_label.to(device)
            if teachers is not None:
                y = (1 - tc.distill_weight) * y + tc.distill_weight * teachers.probabilities(db, bf16)
            if tc.label_smoothing > 0:
                y = y * (1 - tc.label_smoothing) + tc.label_smoothing / num_classes
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
            logits = logits.float()
            loss = torch.sum(-y * F.log_softmax(logits, 1), 1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not averaging:
                sched.step()
            if ema is not None:
                with torch.no_grad():
                    for pe, pm in zip(ema.parameters(), model.parameters()):
                        pe.mul_(tc.ema_decay).add_(pm.detach(), alpha=1 - tc.ema_decay)
                    for be, bm in zip(ema.buffers(), model.buffers()):
                        be.copy_(bm)
            n = len(idx)
            tot_loss += loss.item() * n
            tot_acc += (logits.argmax(1) == y_label).float().sum().item()
            seen += n
        if averaging:
            swa.update_parameters(model)
        row = {"epoch": epoch, "train_loss": tot_loss / seen, "train_acc": tot_acc / seen,
               "lr": opt.param_groups[0]["lr"], "epoch_seconds": time.time() - t0}
        scored = ema if ema is not None else model
        if len(x_val) and (epoch % max(1, tc.val_every) == 0 or epoch == tc.epochs):
            row["val_loss"], row["val_acc"], _ = evaluate(scored, x_val, y_val, tc.crop_frames, tc.eval_crops)
        rows.append(row)
        for k, v in row.items():
            if k != "epoch":
                writer.add_scalar(k, v, epoch)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        out_of_time = args.stop_after_minutes and time.time() - started >= args.stop_after_minutes * 60
        # The pace is judged from the sitting's second epoch on: its first carries one-off warm-up
        # (48 s against 7.5 s for a three-teacher bf16 student here).
        if epoch == first_epoch:
            warmed_up = time.time()
        pace = (time.time() - warmed_up) / (epoch - first_epoch) if epoch > first_epoch else None
        cannot_finish = bool(args.finish_within) and pace is not None and \
            time.time() - started + (tc.epochs - epoch) * pace > args.finish_within * 60
        stopping = bool(args.stop_after_epoch and epoch == args.stop_after_epoch or out_of_time
                        or cannot_finish) and epoch < tc.epochs
        if stopping or (tc.checkpoint_every and epoch % tc.checkpoint_every == 0 and epoch < tc.epochs):
            save_state(epoch)
        if stopping:
            if cannot_finish:
                print(f"cannot finish within {args.finish_within:g} min: {tc.epochs - epoch} epochs left at "
                      f"{pace:.1f} s each", flush=True)
            print(f"sitting ended after epoch {epoch}; continue with --resume", flush=True)
            writer.close()
            if cannot_finish:
                sys.exit(CANNOT_FINISH)
            return

    final = ema if ema is not None else model
    live_acc = None
    if swa is not None:
        final = swa.module
        refresh_batch_norm(final, (x_train_db[:, :, :n_mels] - mean) / std, tc.crop_frames, tc.eval_crops)
        if len(x_val):
            live_acc = rows[-1]["val_acc"]   # the last epoch scored the live weights
            rows[-1]["val_loss"], rows[-1]["val_acc"], _ = evaluate(final, x_val, y_val, tc.crop_frames,
                                                                    tc.eval_crops)
    if final is not model and len(x_val):
        # How much the weight average helps, on the validation folds only.
        if live_acc is None:
            _, live_acc, _ = evaluate(model, x_val, y_val, tc.crop_frames, tc.eval_crops)
        rows[-1]["val_acc_live_weights"] = live_acc
        kind = "EMA" if ema is not None else f"SWA ({tc.swa_epochs} epochs)"
        print(f"validation: {kind} weights {rows[-1]['val_acc']:.4f}, live weights {live_acc:.4f}", flush=True)
    wall = time.time() - started
    sittings = sittings + [{"epochs": [first_epoch, tc.epochs], "wall_seconds": wall, "machine": machine_description()}]
    metrics = {"name": cfg.name, "wall_seconds": sum(s["wall_seconds"] for s in sittings), "sittings": sittings,
               "machine": machine_description(),
               "train_folds": cfg.data.train_folds, "val_folds": cfg.data.val_folds,
               "test_folds": cfg.data.test_folds, "epochs": tc.epochs,
               "last": rows[-1]}
    if cfg.data.test_folds:
        x_test, y_test = subset(cfg.data.test_folds)
        metrics.update(score_test(final, (x_test - mean) / std, y_test, tc))
        print(f"test folds {cfg.data.test_folds}: top-1 {metrics['test_top1']:.4f}", flush=True)
    with open(out / "metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[-1].keys()))
        w.writeheader()
        w.writerows(rows)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    torch.save({"config": cfg.to_dict(), "state_dict": {k: v.cpu() for k, v in final.state_dict().items()},
                "normalize": {"mean": mean, "std": std}, "labels": class_names(clips),
                "metrics": metrics}, out / "checkpoint.pt")
    resume_path.unlink(missing_ok=True)   # the run is complete: checkpoint.pt is what stays
    plot_curves(rows, out / "curves.png", title=cfg.name)
    writer.close()
    print(f"done in {wall / 60:.1f} min → {out}", flush=True)


if __name__ == "__main__":
    main()
