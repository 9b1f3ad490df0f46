#!/usr/bin/env python3
"""Detection benchmark: gathers score.py's result files into one list for report.py, each named by
its condition (the stream's SNR, or native levels).

    python3 scripts/detection/merge_results.py OUT.json RESULT.json [RESULT.json …]
"""
import json
import sys


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = []
    for path in sys.argv[2:]:
        with open(path) as f:
            r = json.load(f)
        snr = r["stream"]["snr_db"]
        r["condition"] = "native levels" if snr is None else f"{snr:g} dB SNR"
        r["snr_db"] = snr
        rows.append(r)
    with open(sys.argv[1], "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
