#!/usr/bin/env bash
# The detection benchmark in one command (docs/detection.md): builds mixed streams of ESC-50 clips over
# pink noise, runs `hark listen` on them and on the background alone, scores the events and writes
# the table and the plot.
#
#   scripts/detection/bench.sh full  [OUT]   fold 5, 80 clips, native levels and 20 / 10 / 0 dB SNR,
#                                            10 min of background; docs/detection.png
#   scripts/detection/bench.sh quick [OUT]   fold 5, 12 clips, native levels, 1 min of background;
#                                            asserts the quick floors (CI)
#
# Environment: HARK (the binary; default .build/release/hark, else .build/debug/hark), MODEL (a card;
# default: hark's default model), FOLDS (default 5), SEED (default 2026), THREADS (default 1: two BLAS threads
# spent 2x the CPU per window on the validation run, for less than half the wall time saved).
# ESC-50 (Piczak, 2015) is CC BY-NC 3.0: the streams are for evaluation only and are not kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-quick}
out=${2:-/tmp/hark-detection-$mode}
folds=${FOLDS:-5}
seed=${SEED:-2026}
threads=${THREADS:-1}
if [[ -z ${HARK:-} ]]; then
  HARK=.build/release/hark
  [[ -x $HARK ]] || HARK=.build/debug/hark
fi
[[ -x $HARK ]] || { echo "no hark binary at $HARK: swift build first (or set HARK)" >&2; exit 1; }
model_args=()
[[ -n ${MODEL:-} ]] && model_args=(--model "$MODEL")

case $mode in
  full) clips=80; background=600; conditions=(native 20 10 0) ;;
  quick) clips=12; background=60; conditions=(native) ;;
  *) echo "usage: $0 full|quick [OUT]" >&2; exit 2 ;;
esac
mkdir -p "$out"
here=scripts/detection

listen() {  # listen WAV JSONL: the model's own settings (its card's fitted detection), nothing else
  "$HARK" listen "${model_args[@]}" --threads "$threads" --source "file:$1" --emit events >"$2" 2>"$2.stderr" \
    || { cat "$2.stderr" >&2; exit 1; }
}

results=()
for condition in "${conditions[@]}"; do
  dir=$out/$condition
  snr=()
  [[ $condition != native ]] && snr=(--snr-db "$condition")
  bg_seconds=$background
  [[ $condition != native ]] && bg_seconds=1   # one background run (the native condition's) serves all
  python3 $here/make_streams.py --folds $folds --clips $clips --seed "$seed" "${snr[@]}" \
    --background-seconds "$bg_seconds" --out "$dir" >/dev/null
  echo "[$condition] listening to $(python3 -c "import json;print(json.load(open('$dir/stream.json'))['stream_seconds'])") s of stream" >&2
  listen "$dir/stream.wav" "$dir/stream.jsonl"
  if [[ $condition == native ]]; then
    echo "[$condition] listening to $background s of background alone" >&2
    listen "$dir/background.wav" "$dir/background.jsonl"
  fi
  python3 $here/score.py --stream "$dir" --events "$dir/stream.jsonl" --background-events "$out/native/background.jsonl" \
    --json "$dir/result.json" >/dev/null
  results+=("$dir/result.json")
  rm -f "$dir/stream.wav" "$dir/background.wav"
done

python3 $here/merge_results.py "$out/results.json" "${results[@]}"
if [[ $mode == full ]]; then
  python3 $here/report.py --results "$out/results.json" --timeline-stream "$out/native" --png "$out/detection.png"
else
  python3 $here/report.py --results "$out/results.json" --check-floors quick
fi
