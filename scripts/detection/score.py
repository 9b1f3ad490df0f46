#!/usr/bin/env python3
"""Detection benchmark, part 2: scores `hark listen` events against a stream's truth.

    python3 scripts/detection/score.py --stream /tmp/det/f5 --events /tmp/det/f5/events.jsonl \
        --background-events /tmp/det/f5/background.jsonl [--json result.json]

Precision, recall and F1 of events (an event finds a sound when a `start` line of the sound's label
is emitted, by stream_time, between its onset - 1 s and its offset + 1 s), median and p90 error of
the reported start and end, latency from the true onset to the start line, and false events per
10 minutes on the background alone.
"""
import argparse
import json
from pathlib import Path

import events as ev


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stream", required=True, help="folder written by make_streams.py")
    ap.add_argument("--events", required=True, help="hark listen's stdout on stream.wav")
    ap.add_argument("--background-events", help="hark listen's stdout on background.wav")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()

    stream = Path(args.stream)
    sounds = ev.read_truth(stream / "truth.csv")
    settings = json.loads((stream / "stream.json").read_text())
    background = None
    if args.background_events:
        background = len(ev.events(ev.read_lines(Path(args.background_events))))
    result = ev.score(sounds, ev.events(ev.read_lines(Path(args.events))), background,
                      settings["background_seconds"] if background is not None else None)
    result["stream"] = {k: settings[k] for k in ("folds", "clips", "seed", "noise", "noise_dbfs", "snr_db",
                                                  "stream_seconds", "background_seconds")}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
