"""Build harmful_output's card: held-out scores by source on the classifiers' labelled answers, and its operating point.

    .venv/bin/python scripts/build_harmful_output_card.py        # rewrites src/safehub/guard/screens/harmful_output.card.json
    .venv/bin/python scripts/build_harmful_output_card.py --out /tmp/card.json

Reads src/safehub/classifiers/data/labelled/ and retrains the judgement layer's harmful_request and harmful_help heads
once per fold (safehub/guard/screens/harmful_output_card.py says how). Deterministic: the same rows, artifacts and
scikit-learn give the same bytes. Rerun it whenever the labelled sets or the classifiers' artifacts change
(tests/guard/test_harmful_output.py fails until then). Needs scikit-learn at build time only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from safehub.classifiers.labelled import read_labelled
from safehub.guard.screens.evaluation import output_report
from safehub.guard.screens.harmful_output import CARD_PATH
from safehub.guard.screens.harmful_output_card import PASS_TARGET_PERCENT, build_card


def card_text(card: dict) -> str:
    return json.dumps(card, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CARD_PATH, help="where to write the card")
    args = parser.parse_args(argv)
    card = build_card(read_labelled())
    args.out.write_text(card_text(card), encoding="utf-8")
    summary = output_report(card)
    print(f"wrote {args.out}: operating point {card['operating_point']['raw_score']:.4f} "
          f"(passes {PASS_TARGET_PERCENT}% of compliant answers to harmless requests on training folds)")
    for name in ("harmful_help_caught", "other_harmful_request_answers_passed", "harmless_compliant_passed"):
        figure = summary[name]
        print(f"  held out, {name}: {figure['value']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}] n={figure['n']}")


if __name__ == "__main__":
    main()
