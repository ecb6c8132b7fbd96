"""The README's grader and guard cards are the shipped cards' figures, rendered, never typed by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_tables_are_rendered_from_the_shipped_cards():
    spec = importlib.util.spec_from_file_location("readme_cards", REPO / "scripts" / "readme_cards.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for block in script.BLOCKS:
        start, end = script.markers(block)
        assert text.count(start) == 1 and text.count(end) == 1, block
    assert script.rendered(text) == text, "README's cards are stale: run .venv/bin/python scripts/readme_cards.py --write"
