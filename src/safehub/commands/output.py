"""What every command prints with: the consoles, the --db option, model text made safe for a terminal, figures.

    from safehub.commands.output import DbOption, err, figure, json_safe, out, safe_text
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text


def _console(stderr: bool) -> Console:
    """Wide tables in logs and pipes too, where rich would otherwise assume 80 columns."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else int(os.environ.get("COLUMNS", "160"))
    return Console(stderr=stderr, highlight=False, width=width)


out = _console(stderr=False)
err = _console(stderr=True)
DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $SAFEHUB_DB or sqlite:///safehub.db).")]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(value: object, limit: int | None = None) -> Text:
    """Model output shown in a terminal: control characters (ANSI escapes) removed, markup never interpreted."""
    text = _CONTROL.sub("", "" if value is None else str(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def figure(value: float | None, interval: list | tuple | None = None) -> str:
    if value is None:
        return "-"
    if not interval or None in interval:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def json_safe(data):
    from safehub.scorers.card import json_safe

    return json_safe(data)
