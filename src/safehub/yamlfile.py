"""Read a YAML file a person wrote; every way it can be wrong becomes one `UsageError` line.

    config = read_yaml(Path("eval.yaml"), "config file eval.yaml")

The one way safehub reads YAML (eval.yaml, guard.yaml, suites, scripted-rule files), so the limits hold for
all of them. Anchors and aliases stay allowed (the shipped suites share system prompts that way), but before
anything is built the file's events are counted with every alias use expanded: a 400-byte "billion laughs"
file would otherwise expand to 9**9 values in the first code that walks it (a validator, a copy, `str()`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from safehub.errors import UsageError
from safehub.jsontext import MAX_DEPTH

# libyaml's parser with the safe constructor: about 10x faster on the shipped suites than the pure-Python one.
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The largest shipped file is 74 KB, 6,008 values, 5 levels deep; these bounds leave room for a hundred times that.
MAX_YAML_BYTES = 16 << 20
MAX_VALUES = 1_000_000  # scalars and collections once every alias is expanded
MAX_TEXT_CHARS = 50_000_000  # characters of all scalars once every alias is expanded

_START, _END, _ALIAS, _SCALAR = "start", "end", "alias", "scalar"
_KINDS = {yaml.SequenceStartEvent: _START, yaml.MappingStartEvent: _START, yaml.SequenceEndEvent: _END,
          yaml.MappingEndEvent: _END, yaml.AliasEvent: _ALIAS, yaml.ScalarEvent: _SCALAR}


def _check_expansion(text: str, what: str) -> None:
    """Raise UsageError if the document, aliases expanded, is too large or too deep, or refers to itself.

    One pass over the parser's events, so nothing is built before the check: each collection's expanded size
    is summed while it is open and remembered under its anchor when it closes; an alias adds that size.
    """
    expanded: dict[str, tuple[int, int, int]] = {}  # anchor -> (values, characters, levels) of what it names
    open_collections: list[list] = []  # [anchor, values, characters, levels below], outermost first
    values = characters = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        kind = _KINDS.get(type(event))
        if kind is _SCALAR:
            size = (1, len(event.value), 0)
            if event.anchor is not None:
                expanded[event.anchor] = size
        elif kind is _START:
            if len(open_collections) >= MAX_DEPTH:
                raise UsageError(f"{what} line {_line(event)}: nested deeper than {MAX_DEPTH} levels; flatten it")
            open_collections.append([event.anchor, 1, 0, 0])
            size = (1, 0, 0)  # counted here; the parent adds the whole collection when it ends
        elif kind is _END:
            anchor, *inner = open_collections.pop()
            size = (inner[0], inner[1], inner[2] + 1)
            if anchor is not None:
                expanded[anchor] = size
            if open_collections:
                _add(open_collections[-1], size)
            continue  # its values were counted as they arrived
        elif kind is _ALIAS:
            if any(collection[0] == event.anchor for collection in open_collections):
                raise UsageError(f"{what} line {_line(event)}: alias *{event.anchor} refers to a value that "
                                 "contains it; a YAML file safehub reads cannot be recursive")
            size = expanded.get(event.anchor, (1, 0, 0))  # an undefined alias is reported by the loader
            if len(open_collections) + size[2] > MAX_DEPTH:
                raise UsageError(f"{what} line {_line(event)}: alias *{event.anchor} makes it nested deeper than "
                                 f"{MAX_DEPTH} levels; flatten it")
        else:
            continue
        if open_collections and kind is not _START:
            _add(open_collections[-1], size)
        values += size[0]
        characters += size[1]
        if values > MAX_VALUES:
            raise UsageError(f"{what} line {_line(event)}: more than {MAX_VALUES:,} values once each alias (*name) "
                             "is expanded; use fewer aliases or split the file")
        if characters > MAX_TEXT_CHARS:
            raise UsageError(f"{what} line {_line(event)}: more than {MAX_TEXT_CHARS:,} characters of text once "
                             "each alias (*name) is expanded; use fewer aliases or split the file")


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1


def _add(collection: list, size: tuple[int, int, int]) -> None:
    collection[1] += size[0]
    collection[2] += size[1]
    if size[2] > collection[3]:
        collection[3] = size[2]


def read_yaml(path: Path, what: str, *, loader: type = SafeLoader) -> Any:
    """Parse `path`; `what` names the file in messages, e.g. "config file eval.yaml"."""
    try:
        size_bytes = path.stat().st_size
        if size_bytes > MAX_YAML_BYTES:
            raise UsageError(f"{what} is {size_bytes / (1 << 20):.1f} MiB, more than the {MAX_YAML_BYTES >> 20} MiB "
                             "safehub reads from a YAML file; split it into smaller files")
        text = path.read_text(encoding="utf-8")
        _check_expansion(text, what)
        return yaml.load(text, Loader=loader)  # noqa: S506 (safe loaders only)
    except FileNotFoundError:
        raise UsageError(f"{what} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a folder; give a YAML file") from None
    except PermissionError:
        raise UsageError(f"{what} cannot be read (permission denied); make it readable") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what}: not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise UsageError(f"{what}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
