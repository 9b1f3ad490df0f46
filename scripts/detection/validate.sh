#!/usr/bin/env bash
# A validation model's detection on fold 4 in one command (docs/detection.md, "Protocol"): fits its
# detection section with crops on the stream on the 400-sound validation stream (fold 4, seed 4) and
# its background, then runs the fold-4 check stream (80 sounds, seed 44) at native levels and 20, 10
# and 0 dB SNR through the real detector with that section, and scores each. Fold 5 is never used.
#
#   scripts/detection/validate.sh CARD OUT
#
# CARD: a validation model or ensemble card (networks trained on folds 1-3). Writes OUT/fitted.json
# (CARD with the fitted section, beside it as CARD's name + "-fitted.json"), OUT/val/ (the fit's
# runs, its candidates and the recall ceiling), OUT/check-*/result.json and OUT/results.md.
# Environment: HARK (default .build/release/hark), THREADS (default 1), STREAMS (where the streams
# are made, once: default /tmp/hark-validation-streams; two models compared use the same).
# ESC-50 (Piczak, 2015) is CC BY-NC 3.0: the streams are for evaluation only and stay out of the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
card=${1:?usage: $0 CARD OUT}
out=${2:?usage: $0 CARD OUT}
HARK=${HARK:-.build/release/hark}
threads=${THREADS:-1}
[[ -x $HARK ]] || { echo "no hark binary at $HARK: swift build -c release first (or set HARK)" >&2; exit 1; }
here=scripts/detection
fitted=${card%.json}-fitted.json
streams=${STREAMS:-/tmp/hark-validation-streams}
mkdir -p "$out/val"

stream() {  # stream NAME MAKE_STREAMS_ARGS…: the stream folder, made the first time; its truth copied to OUT/NAME
  local name=$1
  shift
  if [[ ! -f $streams/$name/stream.json ]]; then
    rm -rf "$streams/$name.partial"
    python3 $here/make_streams.py "$@" --out "$streams/$name.partial" >/dev/null
    mv "$streams/$name.partial" "$streams/$name"
  fi
  mkdir -p "$out/$name"
  cp "$streams/$name/truth.csv" "$streams/$name/stream.json" "$out/$name/"
}

run() {  # run WAV JSONL ARGS…: hark listen on a file, its stdout to JSONL
  local wav=$1 jsonl=$2
  shift 2
  "$HARK" listen --threads "$threads" --source "file:$wav" "$@" >"$jsonl" 2>"$jsonl.stderr" \
    || { cat "$jsonl.stderr" >&2; exit 1; }
}

# The fit, as the fourth amendment made K's: every class's score under both rules, crops on the stream.
stream val --folds 4 --clips 0 --seed 4 --background-seconds 600
scores=(--model "$card" --hop 0.5 --crop-placement stream --detection-score strongest_crop --top-k 50 --emit events,scores)
echo "[fit] listening to the validation stream and its background" >&2
run "$streams/val/stream.wav" "$out/val/stream.jsonl" "${scores[@]}"
run "$streams/val/background.wav" "$out/val/background.jsonl" "${scores[@]}"
cp "$card" "$fitted"
python3 $here/fit.py --runs "$out/val" --crop-placement stream --out "$out/val/cal.json" --card "$fitted" \
  --report "$out/val/candidates.json" >"$out/val/fit.txt"
python3 $here/ceiling.py --run "$out/val" --calibration "$out/val/cal.json" >"$out/val/ceiling.txt"
cp "$fitted" "$out/fitted.json"

# The check: the fitted card's own settings, nothing else.
results=()
for condition in native 20 10 0; do
  dir=$out/check-$condition
  snr=()
  [[ $condition != native ]] && snr=(--snr-db "$condition")
  bg=600
  [[ $condition != native ]] && bg=1   # one background run (the native condition's) serves all
  stream "check-$condition" --folds 4 --clips 80 --seed 44 "${snr[@]}" --background-seconds $bg
  echo "[check $condition] listening" >&2
  run "$streams/check-$condition/stream.wav" "$dir/stream.jsonl" --model "$fitted" --emit events
  if [[ $condition == native ]]; then
    run "$streams/check-native/background.wav" "$dir/background.jsonl" --model "$fitted" --emit events
  fi
  python3 $here/score.py --stream "$dir" --events "$dir/stream.jsonl" \
    --background-events "$out/check-native/background.jsonl" --json "$dir/result.json" >/dev/null
  results+=("$dir/result.json")
done
python3 $here/merge_results.py "$out/results.json" "${results[@]}"
cat "$out/val/fit.txt" "$out/val/ceiling.txt"
python3 $here/report.py --results "$out/results.json"
