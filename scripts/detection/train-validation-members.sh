#!/usr/bin/env bash
# Trains the shipped ensemble's three recipes on ESC-50 folds 1-3 (fold 4 held out) and exports them
# as a validation ensemble under Training/runs/val-models/: the networks every detection setting is
# chosen with (docs/detection.md); none is ever scored on fold 5. Resumes: a member whose run folder
# holds its checkpoint is not trained again, and one stopped midway continues from its resume.pt.
# A card already exported from its member's current checkpoint is left as it is, and so is an existing
# ensemble card: a detection section fitted into either is kept (only a retrained member is re-exported).
#   scripts/detection/train-validation-members.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
out=Training/runs/val-models
mkdir -p "$out"
# bf16 autocast for all three (the shipped K trained in float32; K in bf16 scored the same on fold 4 within
# a seed's spread, Training/EXPERIMENTS.md seventh round) where the CPU has native bf16; else float32.
precision=fp32
grep -qw amx_bf16 /proc/cpuinfo || grep -qw avx512_bf16 /proc/cpuinfo && precision=bf16
folds=(--set "data.train_folds=[1,2,3]" --set "data.val_folds=[4]" --set "data.test_folds=[]"
       --set "train.threads=$threads" --set "train.val_every=1000" --set "train.precision=\"$precision\"")
for recipe in hark-esc50 hark-esc50-m hark-esc50-v; do
  run=Training/runs/val-$recipe
  if [[ ! -f $run/checkpoint.pt ]]; then
    python3 Training/train.py --config Training/configs/$recipe.toml "${folds[@]}" --out "$run" --resume
  fi
  if [[ ! $out/val-$recipe.json -nt $run/checkpoint.pt ]]; then
    python3 Training/export.py --run "$run" --name "val-$recipe" --models "$out" \
      --fixtures "$run/parity" --clips 1 --mean-maps-only \
      --command "scripts/detection/train-validation-members.sh $threads"
  fi
done
[[ -f $out/val-hark-esc50-ensemble.json ]] || python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
members = ["val-hark-esc50.json", "val-hark-esc50-v.json", "val-hark-esc50-m.json"]
card = {
    "format": "hark-ensemble-card/1",
    "name": "val-hark-esc50-ensemble",
    "description": "Validation ensemble for detection settings: the shipped recipes trained on ESC-50 folds 1-3 only.",
    "members": members,
    "combine": "mean of the members' window probabilities (as the shipped ensemble)",
    "evaluation": {"protocol": "trained on folds 1-3; used on fold-4 streams to choose detection settings; never scored on fold 5"},
}
(out / "val-hark-esc50-ensemble.json").write_text(json.dumps(card, indent=2) + "\n")
PY
echo "validation ensemble: $out/val-hark-esc50-ensemble.json"
