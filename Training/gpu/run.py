#!/usr/bin/env python3
"""Runs a plan of trainings side by side on a lent GPU machine, inside its deadline.

    python Training/gpu/run.py --plan Training/gpu/plans/distill.toml --cache gpu-pack --out "$OUT"

A plan (TOML) lists recipes. Each is trained once per held-out fold of 1-4 (`folds`, as
Training/cv.py does; the out-of-fold probabilities come back) and/or on all of folds 1-4 (`final =
true`; the checkpoint comes back, to be exported and scored on fold 5 here, on the CPU, by the
Swift engine: fold 5 never travels). A recipe may name `teachers`: other recipes of the plan whose
run on the same folds becomes its teacher (`train.teachers`), so it starts when they have finished.

Up to `--parallel` trainings run at once, each a `train.py` process on the GPU (`train.device =
"cuda"`) with one CPU thread for its augmentation; every one is told to stop after the first epoch
that ends past the deadline (`--minutes` after the start), so the script returns inside the lease.
What comes back, as it is written: OUT/progress.log; at the end OUT/results.tar.gz (per recipe
Training/cv/NAME.{json,npz}, every run's metrics, curves and log) and OUT/final-NAME.pt for each
finished final run (at most 6 of them: 8 files come back).

Dry run on the CPU first (two epochs, tiny parallelism; the same code path but the device):

    python Training/gpu/run.py --plan Training/gpu/plans/distill.toml --device cpu --epochs 2 \
        --parallel 2 --out /tmp/gpu-dry
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[1]
CV_FOLDS = (1, 2, 3, 4)
FINAL = 0          # the "fold" of a run trained on all of folds 1-4
MAX_FINALS = 6     # 8 files come back: the log, the tarball and these


@dataclass
class Job:
    recipe: str
    fold: int                      # held-out fold, or FINAL
    config: str
    settings: list[str]
    needs: list["Job"] = field(default_factory=list)
    process: subprocess.Popen | None = None
    status: str = "waiting"        # waiting → running → finished | stopped | failed | skipped

    @property
    def label(self) -> str:
        return f"{self.recipe}/{'final' if self.fold == FINAL else f'fold{self.fold}'}"


def run_dir(work: Path, recipe: str, fold: int) -> Path:
    return work / "runs" / recipe / ("final" if fold == FINAL else f"fold{fold}")


def fold_settings(fold: int) -> list[str]:
    train = list(CV_FOLDS) if fold == FINAL else [f for f in CV_FOLDS if f != fold]
    val = [] if fold == FINAL else [fold]
    return [f"data.train_folds={train}", f"data.val_folds={val}", "data.test_folds=[]"]


def plan_jobs(plan: dict, work: Path, overrides: list[str]) -> list[Job]:
    """One job per recipe and fold, teachers' jobs first in each job's `needs`."""
    jobs: dict[tuple[str, int], Job] = {}
    recipes = plan.get("recipe", [])
    names = [r["name"] for r in recipes]
    if len(set(names)) != len(names):
        sys.exit("plan: recipe names must differ")
    finals = sum(1 for r in recipes if r.get("final"))
    if finals > MAX_FINALS:
        sys.exit(f"plan: at most {MAX_FINALS} final runs can come back")
    for r in recipes:
        folds = list(r.get("folds", [])) + ([FINAL] if r.get("final") else [])
        if not set(folds) <= set(CV_FOLDS) | {FINAL}:
            sys.exit(f"plan: {r['name']}: folds are among {list(CV_FOLDS)} (fold 5 is scored on the CPU)")
        for fold in folds:
            needs = []
            for t in r.get("teachers", []):
                if (t, fold) not in jobs:
                    sys.exit(f"plan: {r['name']} names teacher {t}, which must be an earlier recipe "
                             f"trained on the same folds")
                needs.append(jobs[(t, fold)])
            teachers = [str(run_dir(work, t, fold)) for t in r.get("teachers", [])]
            settings = list(r.get("set", [])) + overrides + fold_settings(fold)
            if teachers:
                settings.append(f"train.teachers={json.dumps(teachers)}")
            jobs[(r["name"], fold)] = Job(r["name"], fold, r["config"], settings, needs)
    return list(jobs.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--out", required=True, help="what comes back ($OUT on the lent machine)")
    ap.add_argument("--work", default="/tmp/hark-gpu-work", help="run folders (not sent back whole)")
    ap.add_argument("--cache", default=str(TRAINING / "cache"),
                    help="log-mel cache: the carried pack on the lent machine (Training/gpu/pack.py)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--parallel", type=int, default=8, help="trainings at once")
    ap.add_argument("--minutes", type=float, default=7.0,
                    help="every training stops after the first epoch ending this long after the start")
    ap.add_argument("--epochs", type=int, default=0, help="override every recipe's epochs (a dry run)")
    ap.add_argument("--only-folds", type=int, nargs="+", default=None,
                    help="train only these held-out folds of the plan's (final runs are kept; a dry run)")
    ap.add_argument("--root", default=None,
                    help="ESC-50 folder (default: each config's); where it is absent the pack is read")
    args = ap.parse_args()
    started = time.time()
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    plan = tomllib.loads(Path(args.plan).read_text())
    overrides = [f'train.device="{args.device}"', "train.threads=1", "train.val_every=1000"]
    if args.root:
        overrides.append(f"data.root={json.dumps(args.root)}")
    if args.epochs:
        overrides.append(f"train.epochs={args.epochs}")
    if args.only_folds:
        for r in plan.get("recipe", []):
            r["folds"] = [f for f in r.get("folds", []) if f in args.only_folds]
    jobs = plan_jobs(plan, work, overrides)
    if args.epochs:   # SWA must keep fewer epochs than the run has
        for job in jobs:
            job.settings = [s if not s.startswith("train.swa_epochs=") else
                            f"train.swa_epochs={min(int(s.split('=')[1]), args.epochs - 1)}" for s in job.settings]
    log = open(out / "progress.log", "a", buffering=1)

    def say(text: str) -> None:
        line = f"[{(time.time() - started) / 60:5.1f} min] {text}"
        print(line, flush=True)
        log.write(line + "\n")

    say(f"plan {args.plan}: {len(jobs)} trainings, {args.parallel} at once, deadline {args.minutes} min, "
        f"device {args.device}")
    while any(j.status in ("waiting", "running") for j in jobs):
        for j in jobs:
            if j.status == "running" and j.process.poll() is not None:
                done = (run_dir(work, j.recipe, j.fold) / "checkpoint.pt").exists()
                j.status = "finished" if done else ("stopped" if j.process.returncode == 0 else "failed")
                say(f"{j.label}: {j.status} (exit {j.process.returncode})")
            if j.status == "waiting" and any(n.status in ("stopped", "failed", "skipped") for n in j.needs):
                j.status = "skipped"
                say(f"{j.label}: skipped (a teacher did not finish)")
        running = sum(j.status == "running" for j in jobs)
        left = args.minutes - (time.time() - started) / 60
        for j in jobs:
            if running >= args.parallel:
                break
            if j.status == "waiting" and all(n.status == "finished" for n in j.needs):
                if left <= 0.5:
                    j.status = "skipped"
                    say(f"{j.label}: skipped (no time left)")
                    continue
                rd = run_dir(work, j.recipe, j.fold)
                rd.mkdir(parents=True, exist_ok=True)
                cmd = [sys.executable, str(TRAINING / "train.py"), "--config", j.config, "--out", str(rd),
                       "--cache", args.cache, "--resume", "--stop-after-minutes", f"{left:.2f}"]
                for s in j.settings:
                    cmd += ["--set", s]
                env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
                j.process = subprocess.Popen(cmd, stdout=open(rd / "train.log", "a"), stderr=subprocess.STDOUT, env=env)
                j.status = "running"
                running += 1
                say(f"{j.label}: started ({left:.1f} min left)")
        time.sleep(2)

    # Out-of-fold probabilities of every cross-validated recipe, from the finished folds.
    results = work / "cv"
    for name in dict.fromkeys(j.recipe for j in jobs if j.fold != FINAL):
        first = next(j for j in jobs if j.recipe == name)
        plain = [s for s in first.settings if not s.startswith(("data.train_folds", "data.val_folds",
                                                                "data.test_folds", "train.teachers="))]
        folds = [str(j.fold) for j in jobs if j.recipe == name and j.fold != FINAL and j.status == "finished"]
        if not folds:
            continue
        cmd = [sys.executable, str(TRAINING / "cv.py"), "--name", name, "--config", first.config,
               "--runs", str(work / "runs"), "--results", str(results), "--cache", args.cache,
               "--score-only", "--folds", *folds]
        for s in plain:
            cmd += ["--set", s]
        # A distilled student's folds differ in their teachers: cv.py scores them, the plan records them.
        status = subprocess.run(cmd, capture_output=True, text=True)
        say(f"{name}: out-of-fold scores {status.stdout.strip().splitlines()[-4:] if status.stdout else status.stderr[-500:]}")

    with tarfile.open(out / "results.tar.gz", "w:gz") as tar:
        if results.exists():
            tar.add(results, arcname="cv")
        for j in jobs:
            rd = run_dir(work, j.recipe, j.fold)
            for name in ("metrics.json", "metrics.csv", "curves.png", "train.log"):
                if (rd / name).exists():
                    tar.add(rd / name, arcname=f"runs/{j.label}/{name}")
        tar.add(Path(args.plan), arcname="plan.toml")
    for j in jobs:
        if j.fold == FINAL and j.status == "finished":
            shutil.copy(run_dir(work, j.recipe, j.fold) / "checkpoint.pt", out / f"final-{j.recipe}.pt")
    say("summary: " + ", ".join(f"{j.label} {j.status}" for j in jobs))
    log.close()


if __name__ == "__main__":
    main()
