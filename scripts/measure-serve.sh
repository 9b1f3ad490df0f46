#!/usr/bin/env bash
# `hark serve` with CLIENTS WebSocket clients subscribed to every kind and every layer, against
# `hark listen`, on the same stream: a private PulseAudio daemon's null-sink monitor while the demo
# recording plays into it on a loop, DURATION seconds each at hop 1 s, one after the other.
# Reports each run's CPU % of one core and peak RSS (GNU time) and run summary, and for serve the
# clients' view (scripts/live_load.py): window delay p50/p99 from the last captured sample to the
# message at a client, messages, drops. Loopback only.
#   HARK=.build/release/hark scripts/measure-serve.sh [DURATION_SECONDS] [CLIENTS] [extra hark args…]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-120}
CLIENTS=${2:-100}
shift 2 || true
HARK=${HARK:-.build/release/hark}
PORT=${PORT:-7469}
source scripts/demo-stream.sh

report() {  # $1: label, $2: GNU time file, $3: output with the stopped status
  echo "== $1"
  grep '"status":"stopped"' "$3" | tail -1
  grep -E "Percent of CPU|Maximum resident|Elapsed|User time|System time" "$2"
}

/usr/bin/time -v -o "$RUN/listen.time" timeout -s INT "$DURATION" \
  "$HARK" listen --source pulse:hark_measure.monitor --hop 1 --emit events,status "$@" > "$RUN/listen.jsonl" || true
report "hark listen" "$RUN/listen.time" "$RUN/listen.jsonl"

/usr/bin/time -v -o "$RUN/serve.time" timeout -s INT $((DURATION + 20)) \
  "$HARK" serve --port "$PORT" --source pulse:hark_measure.monitor --hop 1 --emit events,status "$@" \
  > "$RUN/serve.jsonl" 2> "$RUN/serve.err" &
SERVE=$!
for _ in $(seq 100); do grep -q "listening on" "$RUN/serve.err" 2>/dev/null && break; sleep 0.2; done
python3 scripts/live_load.py --port "$PORT" --clients "$CLIENTS" --seconds "$DURATION" --layers all
pkill -INT -f -- "serve --port $PORT" || true
wait $SERVE || true
report "hark serve, $CLIENTS clients" "$RUN/serve.time" "$RUN/serve.jsonl"
