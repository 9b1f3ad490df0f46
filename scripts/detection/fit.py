#!/usr/bin/env python3
"""Detection benchmark, part 3: fits the detector's settings for a model on validation streams.

Input: for each validation stream, `hark listen --hop 0.5 --detection-score strongest_crop --emit
scores --top-k 50` run on its
stream.wav and on its background.wav: window lines carrying every class's detection score under the
strongest-crop rule (`detection_scores`) and under the window rule (`top`, all 50 classes). The
detector's per-class rules (on/off hysteresis, N-of-M confirmation, hold) are replayed on those
scores for every candidate, and the fitted settings are written as a model card's `detection`
section. What is chosen (the rule of docs/detection.md, written before any fold-5 score):

  1. for each candidate (score rule x hop x confirmation N/M), the global on-threshold with the best
     event F1 over all classes, then per class the on-threshold with the best F1 for that class
     (ties: the one nearest the global), shrunk halfway towards the global (8 validation sounds per
     class are few); off = OFF_RATIO x on. Hop 1.0 is replayed on every other window of the 0.5-s run.
  2. among candidates whose replayed median latency is at most MAX_MEDIAN_LATENCY_S, the best
     replayed F1; any candidate within F1_TIE of it with a larger hop (half the CPU) wins, then the
     lower latency.

Only confirmations that emit within one hop of the first window over the threshold are candidates
(1/1, 2/2; 2/3 can wait two hops).

With `--crop-placement stream` the runs were made with crops on a grid of stream time
(`hark listen --crop-placement stream`): the section records it, and only the run's own hop is a
candidate (a 1.0-s run lays its own grid, which every other window of a 0.5-s run is not).

    python3 scripts/detection/fit.py --runs /tmp/det/fold4 --out calibration.json \
        [--card Models/hark-esc50-ensemble.json]

Replayed figures approximate `hark listen`'s (the same rules on the same scores); the benchmark's
figures always come from real runs (score.py).
"""
import argparse
import json
from pathlib import Path

import events as ev

CANDIDATE_CONFIRMS = [(1, 1), (2, 2)]
CANDIDATE_RULES = ["strongest_crop", "window"]
CANDIDATE_HOPS = [0.5, 1.0]
RUN_HOP = 0.5
F1_TIE = 0.01
GRID = [round(0.05 + 0.025 * i, 3) for i in range(37)]    # 0.05 … 0.95
OFF_RATIO = 0.6
HOLD_SECONDS = 2.0
MAX_MEDIAN_LATENCY_S = 2.0


def windows(lines: list[dict], rule: str, hop: float) -> list[tuple[float, float, list[float] | None]]:
    """(start, end, per-class scores) of the windows a run at `hop` would have seen, under `rule`."""
    out = []
    for line in lines:
        if line.get("type") != "window":
            continue
        if "detection_scores" not in line:
            raise SystemExit("window lines without detection_scores: run hark listen with --emit scores --top-k 50")
        step = round(hop / RUN_HOP)
        if round(line["end"] / RUN_HOP) % step:
            continue
        if line["gated"]:
            out.append((line["start"], line["end"], None))
        elif rule == "strongest_crop":
            out.append((line["start"], line["end"], line["detection_scores"]))
        else:
            scores = [0.0] * len(line["detection_scores"])
            if len(line["top"]) < len(scores):
                raise SystemExit("the window rule needs every class in `top`: run hark listen with --top-k 50")
            for item in line["top"]:
                scores[item["index"]] = item["score"]
            out.append((line["start"], line["end"], scores))
    return out


def replay(scores: list[tuple[float, float, float]], on: float, off: float, n: int, m: int,
           hold: float = HOLD_SECONDS) -> list[float]:
    """Emission times (window ends) of the events one class would start: EventDetector's rules."""
    history: list[bool] = []
    active, last_above_off, emitted = False, 0.0, []
    for _, end, s in scores:
        history.append(s >= on)
        if len(history) > m:
            history.pop(0)
        if active:
            if s >= off:
                last_above_off = end
            if s < off and end - last_above_off >= hold:
                active = False
                history.clear()
        elif sum(history) >= n:
            active, last_above_off = True, end
            emitted.append(end)
    return emitted


class Stream:
    def __init__(self, folder: Path, rule: str, hop: float):
        self.sounds = ev.read_truth(folder / "truth.csv")
        self.windows = windows(ev.read_lines(folder / "stream.jsonl"), rule, hop)
        self.background = windows(ev.read_lines(folder / "background.jsonl"), rule, hop)

    def class_scores(self, c: int, which: list) -> list[tuple[float, float, float]]:
        return [(a, b, (s[c] if s is not None else 0.0)) for a, b, s in which]


def class_counts(streams: list[Stream], c: int, label: str, on: float, n: int, m: int):
    """(found, emitted, sounds, latencies) for one class at one threshold, over every stream."""
    found = emitted = sounds = 0
    latencies = []
    for st in streams:
        times = replay(st.class_scores(c, st.windows), on, on * OFF_RATIO, n, m)
        fake = [ev.Event(str(i), label, t, t) for i, t in enumerate(times)]
        mine = [s for s in st.sounds if s.label == label]
        hits = ev.match(mine, fake)
        found += len(hits)
        latencies += [e.emitted - mine[i].onset for i, e in hits.items()]
        emitted += len(times) + len(replay(st.class_scores(c, st.background), on, on * OFF_RATIO, n, m))
        sounds += len(mine)
    return found, emitted, sounds, latencies


def f1(found: int, emitted: int, sounds: int) -> float:
    p = found / emitted if emitted else 0.0
    r = found / sounds if sounds else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def fit(streams: list[Stream], labels: list[str], n: int, m: int) -> dict:
    table = {c: {on: class_counts(streams, c, labels[c], on, n, m) for on in GRID} for c in range(len(labels))}

    def total(choice):
        found = sum(table[c][choice[c]][0] for c in table)
        emitted = sum(table[c][choice[c]][1] for c in table)
        sounds = sum(table[c][choice[c]][2] for c in table)
        lat = sorted(x for c in table for x in table[c][choice[c]][3])
        return f1(found, emitted, sounds), found, emitted, sounds, (lat[len(lat) // 2] if lat else None)

    best_global = max(GRID, key=lambda on: (total({c: on for c in table})[0], -abs(on - 0.5)))
    per_class = {}
    for c in table:
        best = max(GRID, key=lambda on: (f1(*table[c][on][:3]), -abs(on - best_global)))
        shrunk = (best + best_global) / 2
        per_class[c] = min(GRID, key=lambda on: abs(on - shrunk))
    f, found, emitted, sounds, latency = total(per_class)
    return {"confirm": (n, m), "global_on": best_global, "global_f1": round(total({c: best_global for c in table})[0], 4),
            "per_class": per_class, "f1": round(f, 4), "found": found, "events": emitted, "sounds": sounds,
            "median_latency_s": None if latency is None else round(latency, 3)}


def choose(fits: list[dict]) -> dict:
    eligible = [f for f in fits if f["median_latency_s"] is not None and f["median_latency_s"] <= MAX_MEDIAN_LATENCY_S]
    pool = eligible or fits
    best = max(f["f1"] for f in pool)
    near = [f for f in pool if f["f1"] >= best - F1_TIE]
    return max(near, key=lambda f: (f["hop"], -f["median_latency_s"] if f["median_latency_s"] is not None else 0, f["f1"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", required=True,
                    help="stream folders, each with stream.jsonl and background.jsonl from hark listen "
                         "--hop 0.5 --detection-score strongest_crop --emit scores --top-k 50")
    ap.add_argument("--labels-card", default=str(Path(__file__).resolve().parents[2] / "Models" / "hark-esc50.json"))
    ap.add_argument("--out", required=True, help="the fitted detection section (JSON)")
    ap.add_argument("--card", help="also write it into this model or ensemble card")
    ap.add_argument("--note", default="", help="added to the section's `fitted` text")
    ap.add_argument("--report", help="write every candidate's replayed figures here (JSON)")
    ap.add_argument("--crop-placement", choices=["window", "stream"], default="window",
                    help="where the runs placed their crops (hark listen --crop-placement)")
    args = ap.parse_args()
    hops = CANDIDATE_HOPS if args.crop_placement == "window" else [RUN_HOP]

    labels = [label["name"] for label in json.loads(Path(args.labels_card).read_text())["labels"]]
    fits = []
    for rule in CANDIDATE_RULES:
        for hop in hops:
            streams = [Stream(Path(r), rule, hop) for r in args.runs]
            for n, m in CANDIDATE_CONFIRMS:
                f = fit(streams, labels, n, m)
                f.update(rule=rule, hop=hop)
                fits.append(f)
                print(f"{rule:>14} hop {hop} confirm {n}/{m}: global on {f['global_on']} (F1 {f['global_f1']}); "
                      f"per class F1 {f['f1']} ({f['found']}/{f['sounds']} found, {f['events']} events), "
                      f"median latency {f['median_latency_s']} s", flush=True)
    chosen = choose(fits)
    n, m = chosen["confirm"]
    sounds = chosen["sounds"]
    section = {
        "score": chosen["rule"],
        "hop_seconds": chosen["hop"],
        **({"crop_placement": "stream"} if args.crop_placement == "stream" else {}),
        "default_thresholds": {"on": chosen["global_on"], "off": round(chosen["global_on"] * OFF_RATIO, 4)},
        "thresholds": {labels[c]: {"on": on, "off": round(on * OFF_RATIO, 4)} for c, on in sorted(chosen["per_class"].items())},
        "confirm_windows": n, "confirm_of": m, "hold_seconds": HOLD_SECONDS,
        "fitted": (f"scripts/detection/fit.py on {sounds} validation sounds "
                   f"({', '.join(Path(r).name for r in args.runs)}); replayed F1 {chosen['f1']}, median latency "
                   f"{chosen['median_latency_s']} s. {args.note}").strip(),
    }
    Path(args.out).write_text(json.dumps(section, indent=2) + "\n")
    if args.report:
        Path(args.report).write_text(json.dumps([{k: v for k, v in f.items() if k != "per_class"} for f in fits], indent=2) + "\n")
    print(f"chosen: {chosen['rule']}, hop {chosen['hop']}, confirm {n}/{m}; written to {args.out}")
    if args.card:
        card = json.loads(Path(args.card).read_text())
        card["detection"] = section
        Path(args.card).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        print(f"written into {args.card}")


if __name__ == "__main__":
    main()
