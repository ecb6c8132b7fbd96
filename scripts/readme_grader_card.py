"""Render the README's grader-card table from the shipped data cards (never typed by hand).

    .venv/bin/python scripts/readme_grader_card.py          # prints the table
    .venv/bin/python scripts/readme_grader_card.py --write  # replaces it in README.md between its markers

tests/classifiers/test_readme_card.py fails when the README's table differs from what this renders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from safehub.classifiers.linear import read_card

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- grader-card:start -->", "<!-- grader-card:end -->"
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


def render() -> str:
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
