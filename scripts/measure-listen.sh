#!/usr/bin/env bash
# Measures `hark listen` as a service would run: capture from a private PulseAudio daemon's null-sink
# monitor while the demo recording plays into it on a loop, for DURATION seconds at hop 1 s.
# Reports CPU % of one core and peak RSS (GNU time) and the run summary (latency p50/p99 from the
# capture of a window's last sample to its JSON line, windows classified/dropped).
#   scripts/measure-listen.sh [DURATION_SECONDS] [extra hark listen args…]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-300}
shift || true
HARK=${HARK:-.build/release/hark}
RUN=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; pulseaudio --kill 2>/dev/null || true; rm -rf "$RUN"' EXIT
export XDG_RUNTIME_DIR=$RUN HOME=$RUN
pulseaudio -D -n --exit-idle-time=-1 --log-target=file:$RUN/pa.log \
  --load="module-null-sink sink_name=hark_measure rate=44100 channels=1 format=s16le" \
  --load="module-native-protocol-unix auth-anonymous=1 socket=$RUN/pulse.sock"
export PULSE_SERVER=unix:$RUN/pulse.sock
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
( while true; do paplay -d hark_measure --latency-msec=20 Models/demo/demo.ogg; done ) &
/usr/bin/time -v -o "$RUN/time.txt" timeout -s INT "$DURATION" \
  "$HARK" listen --source pulse:hark_measure.monitor --hop 1 --emit events,status "$@" > "$RUN/out.jsonl" || true
echo "events: $(grep -c '"phase":"start"' "$RUN/out.jsonl" || true)"
grep '"status":"stopped"' "$RUN/out.jsonl" | tail -1
grep -E "Percent of CPU|Maximum resident|Elapsed|User time|System time" "$RUN/time.txt"
