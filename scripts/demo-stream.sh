# Sourced by the measure-*.sh scripts: a private PulseAudio daemon in a temporary folder ($RUN) with
# a null sink, hark_measure, into which the demo recording plays on a loop; its monitor,
# pulse:hark_measure.monitor, is the stream to capture. Everything is removed on exit.
RUN=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; pulseaudio --kill 2>/dev/null || true; rm -rf "$RUN"' EXIT
export XDG_RUNTIME_DIR=$RUN HOME=$RUN
pulseaudio -D -n --exit-idle-time=-1 --log-target=file:$RUN/pa.log \
  --load="module-null-sink sink_name=hark_measure rate=44100 channels=1 format=s16le" \
  --load="module-native-protocol-unix auth-anonymous=1 socket=$RUN/pulse.sock"
export PULSE_SERVER=unix:$RUN/pulse.sock
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
( while true; do paplay -d hark_measure --latency-msec=20 Models/demo/demo.ogg; done ) &
