#!/usr/bin/env bash
# Measures `hark listen` as a service would run: capture from a private PulseAudio daemon's null-sink
# monitor while the demo recording plays into it on a loop, for DURATION seconds at the model card's
# hop (its fitted detection settings), or at HOP seconds when HOP is set (earlier rows of
# docs/benchmarks.md were measured at HOP=1). Reports CPU % of one core and peak RSS (GNU time) and
# the run summary (latency p50/p99 from the capture of a window's last sample to its JSON line,
# windows classified/dropped).
#   [HOP=1] scripts/measure-listen.sh [DURATION_SECONDS] [extra hark listen args…]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-300}
shift || true
HARK=${HARK:-.build/release/hark}
hop=()
[[ -n ${HOP:-} ]] && hop=(--hop "$HOP")
source scripts/demo-stream.sh
/usr/bin/time -v -o "$RUN/time.txt" timeout -s INT "$DURATION" \
  "$HARK" listen --source pulse:hark_measure.monitor "${hop[@]}" --emit events,status "$@" > "$RUN/out.jsonl" || true
echo "events: $(grep -c '"phase":"start"' "$RUN/out.jsonl" || true)"
grep '"status":"stopped"' "$RUN/out.jsonl" | tail -1
grep -E "Percent of CPU|Maximum resident|Elapsed|User time|System time" "$RUN/time.txt"
