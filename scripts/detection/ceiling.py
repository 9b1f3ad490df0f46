#!/usr/bin/env python3
"""Detection benchmark, part 5: how much of the missed recall is the network's, not the detector's.

For every true sound of a stream run with `--emit scores` (fit.py's input), over the windows emitted
between its onset - 1 s and its offset + 1 s (the scorer's slack): does its class's detection score
reach the class's on-threshold in one of them (the detector can find it); is its class the top one in
one of them but below the threshold (a lower threshold could find it, at precision's cost); or is
another class on top in all of them (no threshold finds it: the network's error)? The last share
bounds recall whatever the detector does.

    python3 scripts/detection/ceiling.py --run /tmp/det/val-km --calibration /tmp/det/val-km/cal.json
    python3 scripts/detection/ceiling.py --run DIR --calibration Models/hark-esc50-ensemble.json   # a card's section
"""
import argparse
import json
from collections import Counter
from pathlib import Path

import events as ev

REACHES, BELOW, NETWORK = "reaches its threshold", "on top, below its threshold", "never on top (the network's error)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="folder with truth.csv and stream.jsonl (window lines with scores)")
    ap.add_argument("--calibration", required=True,
                    help="fit.py's output, or a model card whose `detection` section to read")
    args = ap.parse_args()
    run = Path(args.run)
    cal = json.loads(Path(args.calibration).read_text())
    cal = cal.get("detection", cal)
    truth = ev.read_truth(run / "truth.csv")
    windows = [line for line in ev.read_lines(run / "stream.jsonl") if line.get("type") == "window"]
    if not windows or "detection_scores" not in windows[0]:
        raise SystemExit(f"{run / 'stream.jsonl'} has no window lines with detection_scores (--emit scores)")
    labels = {t["index"]: t["label"] for t in windows[0]["top"]}
    if len(labels) < len(windows[0]["detection_scores"]):
        raise SystemExit("the run's window lines must name every class (--top-k 50)")
    index = {name: i for i, name in labels.items()}
    kinds = Counter()
    for sound in truth:
        c = index[sound.label]
        on = cal.get("thresholds", {}).get(sound.label, cal["default_thresholds"])["on"]
        seen = [w["detection_scores"] for w in windows
                if sound.onset - ev.SLACK_SECONDS < w["end"] <= sound.offset + ev.SLACK_SECONDS]
        if any(s[c] >= on for s in seen):
            kinds[REACHES] += 1
        elif any(max(range(len(s)), key=s.__getitem__) == c for s in seen):
            kinds[BELOW] += 1
        else:
            kinds[NETWORK] += 1
    n = len(truth)
    for kind in (REACHES, BELOW, NETWORK):
        print(f"{kind}: {kinds[kind]} of {n} ({kinds[kind] / n:.1%})")
    print(f"recall ceiling at any threshold: {(n - kinds[NETWORK]) / n:.3f}")


if __name__ == "__main__":
    main()
