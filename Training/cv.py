#!/usr/bin/env python3
"""4-fold cross-validation of a training recipe over ESC-50 folds 1-4 (fold 5 is never touched).

    python Training/cv.py --name k-bf16 --config Training/configs/hark-esc50.toml \
        --set 'train.precision="bf16"' --set train.threads=2

For each held-out fold k of 1-4 the recipe trains on the other three (`Training/runs/cv/NAME/foldK`,
with `--resume`: a finished fold is not trained again, a stopped one continues where it stopped),
and fold k is scored with the recipe's own protocol (the mean softmax over `train.eval_crops`
crops). The out-of-fold probabilities of all 1600 clips go to `Training/cv/NAME.npz` and the
per-fold scores, commands and wall times to `Training/cv/NAME.json`: small files, committed, so a
comparison (`Training/cv_report.py`) and detection calibration outlive the machine that trained.

`--folds 3 2` trains only those folds in this sitting; the files are written with whatever folds are
finished. `--adopt 4=Training/runs/val-hark-esc50` takes an existing run for a fold when its config
is the recipe's with that fold held out (settings that do not change the weights aside).

`--finish-within 150` trains only what can end within 150 minutes: where the run folders do not
outlive the sitting, no time goes to a fold that would be lost half-trained. A fold that NAME.json
already scores for the same config and settings, but whose run folder is not on this machine (a
machine handed back since), is kept as recorded: the next sitting runs the same command.

`--teachers k-bf16 k-bf16-swa40` distils: each fold's run learns from the named recipes' runs of the
same held-out fold (as recorded in their `Training/cv/NAME.json`), so no teacher has heard the clips
the student is scored on.

`--init-from k-warp-x2-e440-r` fine-tunes: each fold's run starts from that recipe's run of the same
held-out fold (`train.init_from`) and trains for this recipe's own schedule.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hark_train.config import load_config, run_config_from_dict  # noqa: E402
from hark_train.data import load_logmels  # noqa: E402
from hark_train.model import load_run  # noqa: E402
from train import CANNOT_FINISH, SCHEDULE_ONLY, evaluate, fold_subset  # noqa: E402

TRAINING = Path(__file__).resolve().parent
CV_FOLDS = (1, 2, 3, 4)
# Settings that leave the weights a run ends with as they are: its scoring and saving schedule, its
# name, where the dataset lies.
NOT_THE_RECIPE = {("train", k) for k in SCHEDULE_ONLY} | {("name",), ("data", "root")}


def fold_settings(held_out: int) -> list[str]:
    train = [f for f in CV_FOLDS if f != held_out]
    return [f"data.train_folds={train}", f"data.val_folds=[{held_out}]", "data.test_folds=[]"]


def recipe_runs(results: Path, names: list[str], held_out: int, role: str = "teacher") -> list[str]:
    """The runs of the named recipes with `held_out` held out, from their cross-validation records."""
    runs = []
    for name in names:
        record = results / f"{name}.json"
        if not record.exists():
            sys.exit(f"{role} {name}: no {record}; cross-validate it first")
        fold = json.loads(record.read_text())["folds"].get(str(held_out))
        if fold is None:
            sys.exit(f"{role} {name} has no finished run with fold {held_out} held out ({record})")
        run = Path(fold["run"])
        runs.append(str(run if run.is_absolute() else TRAINING.parent / run))
    return runs


def kept_from_record(record: dict, config: str, settings: list[str], held_out: int, run: Path) -> bool:
    """True when NAME.json (`record`, as read before this sitting) already scores this fold for this
    same recipe while its run folder is not on this machine: trained in an earlier sitting, on a
    machine since handed back. The fold is kept as recorded instead of trained again."""
    return (str(held_out) in record.get("folds", {}) and not (run / "checkpoint.pt").exists()
            and record.get("config") == config and record.get("set") == settings)


def recipe_differences(a: dict, b: dict, path: tuple = ()) -> list[str]:
    """Where two run configs differ, keys present in only one of them aside (older runs predate
    some settings, whose defaults are the old behaviour)."""
    if path in NOT_THE_RECIPE:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in a.keys() & b.keys() for d in recipe_differences(a[k], b[k], path + (k,))]
    return [] if a == b else [f"{'.'.join(path)}: {a!r} vs {b!r}"]


def out_of_fold(run: Path, held_out: int, root: str, cache: str) -> tuple[np.ndarray, np.ndarray, list]:
    """The run's probabilities on its held-out fold, scored as its card will score windows."""
    model, ckpt = load_run(run)
    if torch.cuda.is_available():   # on a lent GPU machine, score there too
        model.cuda()
    cfg = run_config_from_dict(ckpt["config"])
    mels, clips = load_logmels(root, cfg.frontend, cache)
    x, y = fold_subset(mels, clips, [held_out])
    x = (x - ckpt["normalize"]["mean"]) / ckpt["normalize"]["std"]
    _, _, probs = evaluate(model, x, y, cfg.train.crop_frames, cfg.train.eval_crops)
    names = [c.filename for c in clips if c.fold == held_out]
    return probs, y.numpy(), names


def main(argv: list[str] | None = None) -> None:
    """Runs the command line `argv` (the process's own when None)."""
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True, help="the recipe's name: Training/cv/NAME.{npz,json}")
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a config value, as train.py takes it (the data folds are set here)")
    ap.add_argument("--folds", type=int, nargs="+", default=list(CV_FOLDS), help="held-out folds to train now")
    ap.add_argument("--adopt", action="append", default=[], metavar="K=RUN",
                    help="use the finished run RUN for held-out fold K (its config must be the recipe's)")
    ap.add_argument("--runs", default=str(TRAINING / "runs" / "cv"), help="where the fold runs go")
    ap.add_argument("--results", default=str(TRAINING / "cv"), help="where NAME.npz and NAME.json go")
    ap.add_argument("--cache", default=str(TRAINING / "cache"))
    ap.add_argument("--teachers", nargs="+", default=[], metavar="NAME",
                    help="cross-validated recipes whose runs of each held-out fold teach that fold's run")
    ap.add_argument("--init-from", metavar="NAME",
                    help="a cross-validated recipe whose run of each held-out fold this fold's run starts from (fine-tuning)")
    ap.add_argument("--score-only", action="store_true",
                    help="train nothing: score the folds whose runs are finished, skip the others")
    ap.add_argument("--finish-within", type=float, default=0, metavar="M",
                    help="train only what can end within M minutes of now: a fold whose epochs left cannot "
                         "end in the time left at its measured pace stops (its state written) and so does "
                         "this sitting")
    args = ap.parse_args(argv)
    deadline = time.time() + args.finish_within * 60 if args.finish_within else None
    if any(s.startswith(("data.train_folds", "data.val_folds", "data.test_folds")) for s in args.set):
        sys.exit("the data folds are cross-validation's to set: leave them out of --set")
    if args.init_from and any(s.startswith("train.init_from=") for s in args.set):
        sys.exit("a cross-validated fine-tuning's starting runs come from --init-from, one per held-out fold")
    if args.teachers and any(s.startswith("train.teachers=") for s in args.set):
        sys.exit("a cross-validated student's teachers come from --teachers, one set per held-out fold")
    if not set(args.folds) <= set(CV_FOLDS):
        sys.exit(f"held-out folds are among {list(CV_FOLDS)}; fold 5 is the test fold")
    adopted = {}
    for item in args.adopt:
        k, _, run = item.partition("=")
        adopted[int(k)] = Path(run)

    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    summary_path = results / f"{args.name}.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    record = {**summary, "folds": dict(summary.get("folds", {}))}
    summary.update({"name": args.name, "config": str(Path(args.config)), "set": args.set, "teachers": args.teachers,
                    "init_from": args.init_from,
                    "command": shlex.join(["python", "Training/cv.py", *argv])})
    folds_done = summary.setdefault("folds", {})
    torch.set_num_threads(load_config(args.config, args.set).train.threads)

    # The held-out fold is scored here, once the run is finished: during training only after its
    # last epoch (8-crop scoring every epoch would add ~60 % to each), unless --set asks otherwise.
    # The record keeps the settings as given, so a later sitting compares like with like.
    recorded_set = args.set
    if not any(s.startswith("train.val_every=") for s in args.set):
        args.set = args.set + ["train.val_every=1000000"]
    for k in args.folds:
        teachers = recipe_runs(results, args.teachers, k) if args.teachers else []
        start = recipe_runs(results, [args.init_from], k, "starting point") if args.init_from else []
        settings = (args.set + fold_settings(k) + ([f"train.teachers={json.dumps(teachers)}"] if teachers else [])
                    + ([f"train.init_from={json.dumps(start[0])}"] if start else []))
        recipe = load_config(args.config, settings)
        run = adopted.get(k, Path(args.runs) / args.name / f"fold{k}")
        if k in adopted:
            ckpt = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
            diff = recipe_differences(recipe.to_dict(), ckpt["config"])
            if diff:
                sys.exit(f"{run} is not this recipe with fold {k} held out: " + "; ".join(diff))
        elif kept_from_record(record, str(Path(args.config)), recorded_set, k, run):
            print(f"fold {k}: kept from {summary_path} (top-1 {record['folds'][str(k)]['top1']:.4f}); "
                  f"its run is not on this machine", flush=True)
            continue
        elif not (run / "checkpoint.pt").exists() and args.score_only:
            print(f"fold {k}: {run} is not finished; skipped", flush=True)
            continue
        elif not (run / "checkpoint.pt").exists():
            missing = [t for t in teachers if not (Path(t) / "checkpoint.pt").exists()]
            if missing:   # a teacher trained in a sitting on a machine since handed back
                sys.exit(f"fold {k}: no checkpoint for the teacher run(s) {', '.join(missing)} on this machine; "
                         f"train them again with their recipes' commands (Training/cv/NAME.json, \"command\")")
            run.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, str(TRAINING / "train.py"), "--config", args.config, "--out", str(run),
                   "--resume", "--cache", args.cache]
            for s in settings:
                cmd += ["--set", s]
            if deadline is not None:
                cmd += ["--finish-within", f"{max(deadline - time.time(), 0) / 60:.2f}"]
            print(f"fold {k}: training → {run}", flush=True)
            with open(run / "train.log", "a") as log:
                status = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
            if status == CANNOT_FINISH:
                print(f"fold {k}: cannot finish within the time left; stopped ({run / 'train.log'})", flush=True)
                break
            if status != 0 or not (run / "checkpoint.pt").exists():
                sys.exit(f"fold {k}: train.py ended with status {status} (see {run / 'train.log'})")
        metrics = json.loads((run / "metrics.json").read_text())
        probs, targets, names = out_of_fold(run, k, recipe.data.root, args.cache)
        acc = float((probs.argmax(1) == targets).mean())
        folds_done[str(k)] = {"run": str(run), "top1": acc, "clips": len(targets),
                              "wall_seconds": metrics.get("wall_seconds"), "machine": metrics.get("machine"),
                              "sittings": metrics.get("sittings"), "teachers": teachers}
        merge_out_of_fold(results / f"{args.name}.npz", k, probs, targets, names)
        print(f"fold {k}: top-1 {acc:.4f}", flush=True)
        write_results(results, args.name, summary)


def merge_out_of_fold(path: Path, fold: int, probs: np.ndarray, targets: np.ndarray, names: list) -> None:
    """Puts one fold's clips into NAME.npz (replacing that fold's earlier rows, keeping the others)."""
    # float32: in float16 two classes can tie where the score above did not (seen once in 1600 clips).
    rows = {"probs": probs.astype(np.float32), "targets": targets.astype(np.int16),
            "folds": np.full(len(targets), fold, np.int8), "filenames": np.array(names)}
    if path.exists():
        with np.load(path) as old:
            keep = old["folds"] != fold
            rows = {key: np.concatenate([old[key][keep], rows[key]]) for key in rows}
    order = np.lexsort((rows["filenames"], rows["folds"]))
    np.savez_compressed(path, **{key: value[order] for key, value in rows.items()})


def portable(run: Path | str) -> str:
    """A run's folder relative to the repository when it lies inside it, so that NAME.json reads the
    same on any checkout (`recipe_runs` resolves relative paths against the repository)."""
    path = Path(run)
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.resolve().relative_to(TRAINING.parent.resolve()))
    except ValueError:
        return str(path)


def write_results(results: Path, name: str, summary: dict) -> None:
    """NAME.json: the per-fold scores, their mean and spread (sample standard deviation)."""
    for fold in summary["folds"].values():
        fold["run"] = portable(fold["run"])
        if fold.get("teachers"):
            fold["teachers"] = [portable(t) for t in fold["teachers"]]
    scores = [f["top1"] for f in summary["folds"].values()]
    summary["mean_top1"] = float(np.mean(scores))
    summary["spread_top1"] = float(np.std(scores, ddof=1)) if len(scores) > 1 else None
    summary["complete"] = len(scores) == len(CV_FOLDS)
    summary["written"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    (results / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
