"""Parse JSON that may be hostile (a suite line, a request body, an upstream's reply) with a bound on nesting.

    parse_json('{"messages": [{"role": "user"}]}')   # -> {"messages": [{"role": "user"}]}
    parse_json("[" * 100_000 + "]" * 100_000)        # raises TooDeep: nested deeper than 64 levels

Python's `json` recurses once per level and, somewhere near 1,000 levels (how near depends on how deep the
caller's stack already is), raises RecursionError, which is not a ValueError: code that catches bad JSON as
ValueError then crashes with a traceback, or a server answers 500. `TooDeep` is a ValueError, so it is caught
wherever bad JSON already is, and the bound is a fixed number a message can name.
"""

from __future__ import annotations

import json
from typing import Any

# Levels of objects and lists. The shipped suites, guard.yaml and an OpenAI chat body use at most 5.
MAX_DEPTH = 64


class TooDeep(ValueError):
    """JSON (or YAML) whose lists and objects nest deeper than the bound."""

    def __init__(self, max_depth: int = MAX_DEPTH):
        super().__init__(f"nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def nesting_exceeds(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether dicts and lists in `value` nest deeper than `max_depth`; level by level, so never recursive."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        level = [child for container in level
                 for child in (container.values() if isinstance(container, dict) else container)
                 if isinstance(child, (dict, list))]
    return False


def parse_json(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, raising `TooDeep` past `max_depth` levels and `json.JSONDecodeError` for bad JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if nesting_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value
