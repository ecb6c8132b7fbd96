"""The README's guard-card figures are the shipped screen cards' figures, rendered, never typed by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_guard_card_table_is_rendered_from_the_shipped_screen_cards():
    spec = importlib.util.spec_from_file_location("readme_guard_card", REPO / "scripts" / "readme_guard_card.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert script.START in text and script.END in text
    assert script.replace_block(text, script.render()) == text, \
        "README's guard card is stale: run .venv/bin/python scripts/readme_guard_card.py --write"
