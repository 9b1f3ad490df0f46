#!/usr/bin/env python3
"""Detection benchmark, part 1: builds a mixed stream from ESC-50 clips and its truth.

Clips of the chosen folds are drawn in a random order (seeded), trimmed to the extent of their sound
that rises above the background (ESC-50 pads short sounds with digital silence to 5 s: the truth is
the audible sound, not the padding), and laid one after another with random gaps over a continuous
background noise. Writes, in --out:

  stream.wav       16-bit mono at the clips' 44.1 kHz: background + clips
  truth.csv        one row per clip: onset,offset (stream seconds of its sound),label,file,fold,snr_db
  background.wav   --background-seconds of the same background alone (false events per 10 minutes)
  stream.json      the settings, so that a result names what it was measured on

    python3 scripts/detection/make_streams.py --folds 4 --clips 80 --seed 1 --out /tmp/det/fold4
    python3 scripts/detection/make_streams.py --folds 5 --clips 80 --seed 5 --snr-db 10 --out /tmp/det/f5-snr10

ESC-50 (Piczak, 2015) is licensed CC BY-NC 3.0; streams built from it are for evaluation only.
"""
import argparse
import csv
import json
from pathlib import Path

import numpy as np
import soundfile

RATE = 44100
ROOT = Path(__file__).resolve().parents[2]
# A sound's extent: 10-ms frames within this many dB of the clip's loudest frame, above an absolute
# floor (a clip of near-silence does not stretch to its whole length) and above the background's
# RMS (what is buried in the background is not part of what can be found).
EXTENT_BELOW_PEAK_DB = 35.0
EXTENT_FLOOR_DBFS = -70.0
FRAME = RATE // 100
PEAK_LIMIT = 0.9
NOISE_BLOCK = 1 << 22     # 95 s
NOISE_FADE = RATE // 2


def frame_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


def sound_extent(x: np.ndarray, background_dbfs: float) -> tuple[int, int] | None:
    """First and one-past-last sample of the clip's sound as heard over a background at
    `background_dbfs`, or None when none of it is."""
    db = frame_db(x)
    if len(db) == 0:
        return None
    loud = np.nonzero(db >= max(db.max() - EXTENT_BELOW_PEAK_DB, EXTENT_FLOOR_DBFS, background_dbfs))[0]
    if len(loud) == 0:
        return None
    return int(loud[0]) * FRAME, min(len(x), (int(loud[-1]) + 1) * FRAME)


def active_rms_db(x: np.ndarray) -> float:
    """Level of the sound's loud part (frames within 20 dB of the peak), dBFS: the level an SNR is set by."""
    db = frame_db(x)
    loud = db[db >= db.max() - 20.0]
    return float(10 * np.log10(np.mean(10 ** (loud / 10))))


def noise(kind: str, samples: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f power) or brown (1/f²) noise at an RMS of `dbfs`, float32. Shaped in the
    frequency domain block by block (an hour of audio in one FFT needs gigabytes), consecutive blocks
    joined by an equal-power crossfade of NOISE_FADE samples."""
    out = np.empty(samples, dtype=np.float32)
    fade = np.sin(np.linspace(0, np.pi / 2, NOISE_FADE))
    pos, tail = 0, None
    while pos < samples:
        block = shaped_noise(kind, NOISE_BLOCK + NOISE_FADE, rng)
        if tail is not None:
            block[:NOISE_FADE] = tail * fade[::-1] + block[:NOISE_FADE] * fade
        n = min(NOISE_BLOCK, samples - pos)
        out[pos:pos + n] = block[:n]
        tail = block[n:n + NOISE_FADE]
        pos += n
    out *= np.float32(10 ** (dbfs / 20) / np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    return out


def shaped_noise(kind: str, samples: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(samples)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    f = np.fft.rfftfreq(samples, 1 / RATE)
    f[0] = f[1]
    spectrum /= np.sqrt(f) if kind == "pink" else f
    shaped = np.fft.irfft(spectrum, samples)
    shaped -= shaped.mean()
    return shaped / np.sqrt(np.mean(shaped ** 2))


def load_clip(path: Path) -> np.ndarray:
    x, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    if rate != RATE:
        raise SystemExit(f"{path}: {rate} Hz, expected {RATE}")
    return x.mean(axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "esc50"))
    ap.add_argument("--folds", type=int, nargs="+", required=True)
    ap.add_argument("--clips", type=int, default=80,
                    help="clips in the stream (drawn without replacement); 0: every clip of the folds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gap", type=float, nargs=2, default=[3.0, 9.0], metavar=("MIN", "MAX"),
                    help="seconds of background between two sounds, uniform (default 3 9)")
    ap.add_argument("--lead", type=float, default=6.0, help="background before the first sound (s)")
    ap.add_argument("--noise", choices=["pink", "white", "brown"], default="pink")
    ap.add_argument("--noise-dbfs", type=float, default=-45.0, help="background RMS (default -45 dBFS)")
    ap.add_argument("--snr-db", type=float, default=None,
                    help="scale every clip so that its loud part is this many dB above the background "
                         "(default: the clips' own levels)")
    ap.add_argument("--background-seconds", type=float, default=600.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    with open(Path(args.data) / "meta" / "esc50.csv") as f:
        rows = [r for r in csv.DictReader(f) if int(r["fold"]) in args.folds]
    args.clips = args.clips or len(rows)
    if args.clips > len(rows):
        raise SystemExit(f"folds {args.folds} have {len(rows)} clips, fewer than {args.clips}")
    chosen = [rows[i] for i in rng.permutation(len(rows))[: args.clips]]

    pieces, truth = [], []
    cursor = int(args.lead * RATE)
    noise_db = args.noise_dbfs
    for row in chosen:
        clip = load_clip(Path(args.data) / "audio" / row["filename"].replace(".wav", ".ogg"))  # stored as OGG
        sound = clip.astype(np.float64)
        if args.snr_db is not None:
            sound *= 10 ** ((noise_db + args.snr_db - active_rms_db(sound)) / 20)
        # Full-scale clips leave no room for the background: their peak is brought to PEAK_LIMIT
        # (the truth records the level they end up at).
        peak = np.max(np.abs(sound))
        if peak > PEAK_LIMIT:
            sound *= PEAK_LIMIT / peak
        # The truth is the part of the sound that can be heard over the background.
        extent = sound_extent(sound, noise_db)
        if extent is None:
            continue
        sound = sound[extent[0]:extent[1]]
        level = active_rms_db(sound)
        pieces.append((cursor, sound.astype(np.float32)))
        truth.append({"onset": cursor / RATE, "offset": (cursor + len(sound)) / RATE, "label": row["category"],
                      "file": row["filename"], "fold": row["fold"], "snr_db": round(level - noise_db, 2)})
        cursor += len(sound) + int(rng.uniform(*args.gap) * RATE)

    total = cursor
    stream = noise(args.noise, total, noise_db, rng)
    for start, sound in pieces:
        stream[start:start + len(sound)] += sound
    peak = np.max(np.abs(stream))
    if peak > 1:
        raise SystemExit(f"the stream clips (peak {peak:.2f}); lower --snr-db or --noise-dbfs")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(out / "stream.wav"), stream, RATE, subtype="PCM_16")
    background = noise(args.noise, int(args.background_seconds * RATE), noise_db, rng)
    soundfile.write(str(out / "background.wav"), background, RATE, subtype="PCM_16")
    with open(out / "truth.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["onset", "offset", "label", "file", "fold", "snr_db"])
        w.writeheader()
        for t in truth:
            w.writerow({**t, "onset": f"{t['onset']:.3f}", "offset": f"{t['offset']:.3f}"})
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "data")}
    settings.update(stream_seconds=round(total / RATE, 3), sounds=len(truth), rate=RATE,
                    license="ESC-50 clips, CC BY-NC 3.0 (Piczak, 2015)")
    (out / "stream.json").write_text(json.dumps(settings, indent=2) + "\n")
    print(f"{out}: {len(truth)} sounds in {total / RATE:.1f} s; background {args.background_seconds:.0f} s")


if __name__ == "__main__":
    main()
