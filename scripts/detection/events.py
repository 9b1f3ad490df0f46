"""Detection benchmark, shared part: reading a stream's truth and `hark listen` output, and matching
emitted events to the sounds they found (the rule of docs/detection.md)."""
import csv
import json
from dataclasses import dataclass
from pathlib import Path

# An event finds a sound when its `start` line is emitted between the sound's onset - 1 s and its
# offset + 1 s (by stream_time) and names the sound's label.
SLACK_SECONDS = 1.0


@dataclass
class Sound:
    onset: float
    offset: float
    label: str
    file: str
    snr_db: float


@dataclass
class Event:
    id: str
    label: str
    start: float
    emitted: float          # stream_time of the start line
    end: float | None = None


def read_truth(path: Path) -> list[Sound]:
    with open(path) as f:
        return [Sound(float(r["onset"]), float(r["offset"]), r["label"], r["file"], float(r["snr_db"]))
                for r in csv.DictReader(f)]


def read_lines(path: Path) -> list[dict]:
    lines = []
    with open(path) as f:
        for text in f:
            text = text.strip()
            if text.startswith("{"):
                lines.append(json.loads(text))
    return lines


def events(lines: list[dict]) -> list[Event]:
    """Events in the order their start lines were emitted, each with its end when it came."""
    found: dict[str, Event] = {}
    for line in lines:
        if line.get("type") != "event":
            continue
        if line["phase"] == "start":
            found[line["id"]] = Event(line["id"], line["label"], line["start"], line["stream_time"])
        elif line["phase"] == "end" and line["id"] in found:
            found[line["id"]].end = line["end"]
    return sorted(found.values(), key=lambda e: e.emitted)


def match(sounds: list[Sound], emitted: list[Event]) -> dict[int, Event]:
    """Sound index → the event that found it: per sound in time order, the earliest unused event of
    its label emitted inside its slack interval. An event finds at most one sound."""
    used: set[str] = set()
    found: dict[int, Event] = {}
    for i in sorted(range(len(sounds)), key=lambda i: sounds[i].onset):
        s = sounds[i]
        for e in emitted:
            if e.id in used or e.label != s.label:
                continue
            if s.onset - SLACK_SECONDS <= e.emitted <= s.offset + SLACK_SECONDS:
                used.add(e.id)
                found[i] = e
                break
    return found


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def score(sounds: list[Sound], emitted: list[Event], background_events: int | None = None,
          background_seconds: float | None = None) -> dict:
    """The benchmark's figures for one stream (and its background-only run, when given)."""
    found = match(sounds, emitted)
    tp = len(found)
    precision = tp / len(emitted) if emitted else 0.0
    recall = tp / len(sounds) if sounds else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    start_err = [abs(e.start - sounds[i].onset) for i, e in found.items()]
    end_err = [abs(e.end - sounds[i].offset) for i, e in found.items() if e.end is not None]
    latency = [e.emitted - sounds[i].onset for i, e in found.items()]
    result = {
        "sounds": len(sounds), "events": len(emitted), "found": tp,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "start_error_median_s": rnd(percentile(start_err, 0.5)), "start_error_p90_s": rnd(percentile(start_err, 0.9)),
        "end_error_median_s": rnd(percentile(end_err, 0.5)), "end_error_p90_s": rnd(percentile(end_err, 0.9)),
        "latency_median_s": rnd(percentile(latency, 0.5)), "latency_p90_s": rnd(percentile(latency, 0.9)),
    }
    if background_events is not None and background_seconds:
        result["background_false_events"] = background_events
        result["false_events_per_10_min"] = round(background_events / (background_seconds / 600), 3)
    return result


def rnd(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
