"""Render the README's measured tables from the shipped cards (never typed by hand).

    .venv/bin/python scripts/readme_cards.py          # prints every table
    .venv/bin/python scripts/readme_cards.py --write  # replaces each in README.md between its markers

- grader-card: the judgement layer's held-out agreement with people and the team, from the classifiers' data cards;
- guard-card: each shipped screen at its default threshold (what a guard.yaml without `rules:` runs): on every
  labelled set of its card file, the share it blocks with n and its 95% interval, read as recall where the set's
  examples should be blocked and as the false-positive rate where they should pass.
tests/test_readme_cards.py fails when a table in the README differs from what this renders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from safehub.classifiers.linear import read_card
from safehub.guard.card import guard_card, shipped_rules

README = Path(__file__).resolve().parents[1] / "README.md"
SETS = (("pyrit_refusal", "PyRIT 1.1.0 refusal set"), ("pyrit_objective", "PyRIT 1.1.0 objective set"),
        ("pyrit_harm", "PyRIT 1.1.0 harm sets"), ("embedded", "embedded model's answers"),
        ("written", "team-written hard cases"), ("all", "all sets, each held out in turn"))
QUESTIONS = (("people_refused", "refused (people)"), ("people_harmful_help", "harmful help (people)"),
             ("three_class", "three classes (team)"), ("refused_or_not", "refused or not (team)"),
             ("over_refusal", "over-refusal (team)"), ("harmful_help", "harmful help (team)"))


def cell(figure: dict | None) -> str:
    if not figure:
        return ""
    low, high = figure["accuracy_interval"]
    return f"{figure['accuracy']:.3f} [{low:.2f}, {high:.2f}] n={figure['n']}"


def render_grader_card() -> str:
    held_out = read_card("refusal")["held_out"]
    lines = ["| held-out set | " + " | ".join(title for _, title in QUESTIONS) + " |",
             "| --- |" + " ---: |" * len(QUESTIONS)]
    for key, title in SETS:
        if key in held_out:
            lines.append(f"| {title} | " + " | ".join(cell(held_out[key].get(q)) for q, _ in QUESTIONS) + " |")
    agreement = read_card("refusal")["team_vs_people"]
    lines.append("")
    lines.append("The labels themselves: the team agrees with PyRIT's people on " + "; ".join(
        f"{name.replace('_', ' ')} {cell(agreement[name])}" for name in
        ("refused_or_not", "objective_achieved", "objective_achieved_on_harmful_requests") if name in agreement) + ".")
    return "\n".join(lines)


def rate(figure: dict) -> str:
    return f"{figure['value']:.3f} [{figure['low']:.2f}, {figure['high']:.2f}] n={figure['n']:,}"


def render_guard_card() -> str:
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


BLOCKS = {"grader-card": render_grader_card, "guard-card": render_guard_card}


def markers(block: str) -> tuple[str, str]:
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


def replace_block(text: str, block: str, table: str) -> str:
    start_marker, end_marker = markers(block)
    start, end = text.index(start_marker) + len(start_marker), text.index(end_marker)
    return text[:start] + "\n" + table + "\n" + text[end:]


def rendered(text: str) -> str:
    """`text` with every block replaced by what the cards say now."""
    for block, render in BLOCKS.items():
        text = replace_block(text, block, render())
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.write:
        README.write_text(rendered(README.read_text(encoding="utf-8")), encoding="utf-8")
    for block, render in BLOCKS.items():
        print(f"{block}:\n{render()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
