"""Write an ensemble card: Models/NAME.json naming member model cards whose window probabilities
the Swift engine averages (each member on its own front-end and crops).

The members must already be exported (`export.py`), and the ensemble scored once on fold 5 with
`score_ensemble.py --final RESULT.json` over the members' runs; the card records that result.

    python Training/export_ensemble.py --name hark-esc50-ensemble --members hark-esc50 hark-esc50-v \
        --result Training/runs/ensemble-KV-fold5.json
"""
import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--members", nargs="+", required=True,
                    help="member card names in Models/ (without .json); the first one's feature maps are published")
    ap.add_argument("--result", required=True, help="the record score_ensemble.py --final wrote")
    ap.add_argument("--models", default=str(ROOT / "Models"))
    ap.add_argument("--chosen-by", default="on fold 4 with runs trained on folds 1-3",
                    help="how the members were chosen, as the card's protocol says it")
    ap.add_argument("--training-note", default=None,
                    help="recorded in the card's training section (e.g. how the members' thread counts differ)")
    args = ap.parse_args()
    if len(args.members) < 2:
        ap.error("an ensemble needs at least two members")

    models = Path(args.models)
    cards = [json.loads((models / f"{m}.json").read_text()) for m in args.members]
    labels = [label["name"] for label in cards[0]["labels"]]
    for m, card in zip(args.members, cards):
        if [label["name"] for label in card["labels"]] != labels:
            raise SystemExit(f"{m}: its labels differ from {args.members[0]}'s")
        if card["frontend"]["window_seconds"] != cards[0]["frontend"]["window_seconds"]:
            raise SystemExit(f"{m}: its window differs from {args.members[0]}'s")
    result = json.loads(Path(args.result).read_text())
    if len(result["runs"]) != len(args.members):
        raise SystemExit(f"{args.result} scored {len(result['runs'])} runs, not {len(args.members)} members")
    if result["folds"] != [5]:
        raise SystemExit(f"{args.result} scored folds {result['folds']}, not fold 5")

    walls = [card["training"]["wall_seconds"] for card in cards]
    card = {
        "format": "hark-ensemble-card/1",
        "name": args.name,
        "description": "Environmental sound classifier: the mean of the window probabilities of "
                       + ", ".join(args.members) + " (each on its own log-mel front-end and crops) → 50 ESC-50 classes.",
        "members": [f"{m}.json" for m in args.members],
        "combine": "mean of the members' window probabilities; audio is prepared at the highest member rate and "
                   "resampled per window (libsoxr HQ) for the others; feature maps are the first member's",
        "evaluation": {
            "protocol": f"each member trained on ESC-50 folds 1-4 (the members chosen {args.chosen_by}); "
                        f"the ensemble scored once on fold 5 ({result['clips']} clips), each member on "
                        f"the mean over its {result['crops']} crops of one 5-s window per clip",
            "fold5_top1": result["top1"], "fold5_top5": result["top5"], "command": "python " + result["command"],
        },
        "training": {
            "wall_seconds": sum(walls),
            "command": " && ".join(c["training"]["command"] for c in cards),
            "members": [{"name": m, "wall_seconds": w, "machine": c["training"]["machine"],
                         "command": c["training"]["command"]} for m, w, c in zip(args.members, walls, cards)],
            **({"note": args.training_note} if args.training_note else {}),
        },
        "license": cards[0]["license"],
    }
    (models / f"{args.name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {models / args.name}.json: {len(args.members)} members, fold 5 top-1 {result['top1']:.4f}")


if __name__ == "__main__":
    main()
