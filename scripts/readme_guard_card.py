"""Render the README's guard-card table from the shipped screen cards (never typed by hand).

    .venv/bin/python scripts/readme_guard_card.py          # prints the table
    .venv/bin/python scripts/readme_guard_card.py --write  # replaces it in README.md between its markers

Each shipped screen at its default threshold (what a guard.yaml without `rules:` runs): on every labelled set of its
card file, the share it blocks with n and its 95% interval, read as recall where the set's examples should be blocked
and as the false-positive rate where they should pass. tests/guard/test_readme_guard_card.py fails when the README's
table differs from what this renders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from safehub.guard.card import guard_card, shipped_rules

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- guard-card:start -->", "<!-- guard-card:end -->"


def rate(figure: dict) -> str:
    return f"{figure['value']:.3f} [{figure['low']:.2f}, {figure['high']:.2f}] n={figure['n']:,}"


def render() -> str:
    lines = ["| screen (threshold) | labelled set | held out | should block: blocked (recall) | "
             "should pass: blocked (false positives) |",
             "| --- | --- | --- | ---: | ---: |"]
    for entry in guard_card(shipped_rules()):
        title = f"{entry['rule']} ({entry['threshold']:g})"
        if not entry["sets"]:
            lines.append(f"| {title} | not measured | | | |")
            continue
        for card_set in entry["sets"]:
            recall = rate(card_set["recall"]) if card_set["recall"]["n"] else "—"
            false_positives = rate(card_set["false_positive_rate"]) if card_set["false_positive_rate"]["n"] else "—"
            lines.append(f"| {title} | `{card_set['set']}`: {card_set['source']} {card_set['version']} | "
                         f"{'yes' if card_set['is_held_out'] else 'no'} | {recall} | {false_positives} |")
    return "\n".join(lines)


def replace_block(text: str, table: str) -> str:
    start, end = text.index(START) + len(START), text.index(END)
    return text[:start] + "\n" + table + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    table = render()
    if args.write:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), table), encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
