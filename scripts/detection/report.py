#!/usr/bin/env python3
"""Detection benchmark, part 4: the table and the plots of a benchmark run (bench.sh writes its input).

    python3 scripts/detection/report.py --results /tmp/det/bench/results.json \
        [--timeline-stream /tmp/det/bench/native --png docs/detection.png] [--check-floors quick]

Writes results.md beside results.json (the README's table), a plot of truth against events for the
first minutes of one stream with F1 against SNR beside it, and, with --check-floors, exits 1 when a
figure misses its floor.
"""
import argparse
import json
import sys
from pathlib import Path

import events as ev

# Floors the quick form (CI) asserts: far enough below the full run's figures that a noisy short
# stream passes, near enough that a broken detector (no boundaries, no calibration) does not.
QUICK_FLOORS = {"f1": (">=", 0.6), "start_error_median_s": ("<=", 1.0), "latency_median_s": ("<=", 3.0),
                "false_events_per_10_min": ("<=", 10.0)}
# The targets for the full run at the default background (pink noise at -45 dBFS).
FULL_TARGETS = {"f1": (">=", 0.90), "start_error_median_s": ("<=", 0.5), "start_error_p90_s": ("<=", 1.5),
                "latency_median_s": ("<=", 2.0), "false_events_per_10_min": ("<=", 1.0)}

COLUMNS = [("condition", "condition"), ("sounds", "sounds"), ("precision", "precision"), ("recall", "recall"),
           ("f1", "F1"), ("start_error_median_s", "start err. median (s)"), ("start_error_p90_s", "start err. p90 (s)"),
           ("end_error_median_s", "end err. median (s)"), ("end_error_p90_s", "end err. p90 (s)"),
           ("latency_median_s", "latency median (s)"), ("latency_p90_s", "latency p90 (s)"),
           ("false_events_per_10_min", "false events / 10 min")]


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in results:
        lines.append("| " + " | ".join("—" if r.get(k) is None else str(r[k]) for k, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def check(result: dict, floors: dict) -> list[str]:
    missed = []
    for key, (op, bound) in floors.items():
        value = result.get(key)
        if value is None or (op == ">=" and value < bound) or (op == "<=" and value > bound):
            missed.append(f"{result['condition']}: {key} = {value}, needs {op} {bound}")
    return missed


def plot(results: list[dict], stream: Path | None, png: Path, minutes: float = 2.5) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 4.8), gridspec_kw={"width_ratios": [3.2, 1]})
    if stream is not None:
        sounds = [s for s in ev.read_truth(stream / "truth.csv") if s.onset < minutes * 60]
        found = ev.events(ev.read_lines(stream / "stream.jsonl"))
        labels = sorted({s.label for s in sounds} | {e.label for e in found if e.start < minutes * 60})
        row = {label: i for i, label in enumerate(labels)}
        for s in sounds:
            ax.barh(row[s.label] + 0.18, s.offset - s.onset, left=s.onset, height=0.32, color="#9bbcdf",
                    label="truth (audible sound)")
        for e in found:
            if e.start >= minutes * 60:
                continue
            end = e.end if e.end is not None else e.start
            ax.barh(row[e.label] - 0.18, end - e.start, left=e.start, height=0.32, color="#e08a3c",
                    label="event (start → end)")
            ax.plot([e.emitted], [row[e.label] - 0.18], marker="v", color="black", markersize=5,
                    label="start line emitted")
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles))
        ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlim(0, minutes * 60)
        ax.set_xlabel("stream seconds")
        ax.set_title(f"fold-5 stream, first {minutes:g} minutes: truth and events", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    snr = [r for r in results if r.get("snr_db") is not None]
    if snr:
        snr.sort(key=lambda r: r["snr_db"])
        bx.plot([r["snr_db"] for r in snr], [r["f1"] for r in snr], marker="o", label="F1")
        bx.plot([r["snr_db"] for r in snr], [r["recall"] for r in snr], marker=".", linestyle="--", label="recall")
        bx.plot([r["snr_db"] for r in snr], [r["precision"] for r in snr], marker=".", linestyle=":", label="precision")
        bx.set_xlabel("SNR of every sound over the background (dB)")
        bx.set_ylim(0, 1)
        bx.grid(alpha=0.3)
        bx.legend(fontsize=8)
        bx.set_title("event F1 against SNR", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True)
    ap.add_argument("--timeline-stream", help="a stream folder (with stream.jsonl) to draw")
    ap.add_argument("--png")
    ap.add_argument("--check-floors", choices=["quick", "full"])
    args = ap.parse_args()

    results = json.loads(Path(args.results).read_text())
    md = table(results)
    Path(args.results).with_suffix(".md").write_text(md)
    print(md)
    if args.png:
        plot(results, Path(args.timeline_stream) if args.timeline_stream else None, Path(args.png))
        print(f"plot: {args.png}")
    if args.check_floors:
        floors = QUICK_FLOORS if args.check_floors == "quick" else FULL_TARGETS
        missed = [m for r in results[:1] for m in check(r, floors)]
        for m in missed:
            print(f"below the {args.check_floors} floor: {m}", file=sys.stderr)
        if missed:
            sys.exit(1)
        print(f"every {args.check_floors} floor holds for {results[0]['condition']}")


if __name__ == "__main__":
    main()
