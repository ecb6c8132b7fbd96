"""Load suites from YAML or JSONL; every problem becomes one line naming file, line, sample and field.

Resolution of a suite NAME: an existing file path, else a shipped suite (`suites/data/`), else an
imported one in the user's suites directory (`$SAFEHUB_SUITES_DIR`, default ~/.local/share/safehub/suites).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from safehub.errors import UsageError
from safehub.jsontext import TooDeep, parse_json
from safehub.suites.schema import Sample, Suite
from safehub.yamlfile import SafeLoader, read_yaml

SHIPPED_DIR = Path(__file__).parent / "data"
SUFFIXES = (".yaml", ".yml", ".jsonl")
# A suite is held in memory whole, so its file is bounded; imported benchmarks are written as JSONL.
MAX_JSONL_SUITE_BYTES = 256 << 20


def user_suites_dir() -> Path:
    return Path(os.environ.get("SAFEHUB_SUITES_DIR") or Path.home() / ".local/share/safehub/suites")


class _LineLoader(SafeLoader):
    """Remembers the line each mapping starts on, so errors can point at it."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _describe(error: dict) -> tuple[list, str]:
    loc = [part for part in error["loc"] if part not in ("function-after",)]
    message = error["msg"].removeprefix("Value error, ")
    return loc, message


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _field_text(fields: list) -> str:
    return f"field '{'.'.join(str(f) for f in fields)}': " if fields else ""


def load_yaml_suite(path: Path) -> Suite:
    raw = read_yaml(path, str(path), loader=_LineLoader)
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: a suite file is a mapping with name, version, category and samples")
    samples = raw.get("samples") if isinstance(raw.get("samples"), list) else []
    try:
        return Suite.model_validate(_strip_lines(raw))
    except ValidationError as exc:
        loc, message = _describe(exc.errors()[0])
        if len(loc) >= 2 and loc[0] == "samples" and isinstance(loc[1], int) and loc[1] < len(samples):
            sample = samples[loc[1]]
            line = sample.get("__line__", "?") if isinstance(sample, dict) else "?"
            sample_id = sample.get("id") if isinstance(sample, dict) else None
            named = f" (sample {sample_id!r})" if sample_id else f" (sample #{loc[1] + 1})"
            raise UsageError(f"{path} line {line}{named}: {_field_text(loc[2:])}{message}") from None
        raise UsageError(f"{path}: {_field_text(loc)}{message}") from None


def load_jsonl_suite(path: Path) -> Suite:
    """One sample per line; an optional first line {"suite": {name, version, category, ...}} is the header."""
    header: dict[str, Any] = {"name": path.stem.replace(" ", "_"), "version": "0", "category": "custom"}
    samples: list[Sample] = []
    size_bytes = path.stat().st_size
    if size_bytes > MAX_JSONL_SUITE_BYTES:
        raise UsageError(f"{path} is {size_bytes / (1 << 20):.0f} MiB, more than the {MAX_JSONL_SUITE_BYTES >> 20} MiB "
                         "safehub reads as one suite; split it into several suites")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text; save the suite as UTF-8") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = parse_json(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except TooDeep as exc:
            raise UsageError(f"{path} line {number}: {exc}; flatten it") from None
        if not isinstance(record, dict):
            raise UsageError(f"{path} line {number}: each line must be a JSON object")
        if "suite" in record and not samples:
            if not isinstance(record["suite"], dict):
                raise UsageError(f"{path} line {number}: field 'suite' must be an object with name, version, category")
            header.update(record["suite"])
            continue
        record.setdefault("category", header.get("category"))
        try:
            samples.append(Sample.model_validate(record))
        except ValidationError as exc:
            loc, message = _describe(exc.errors()[0])
            named = f" (sample {record['id']!r})" if isinstance(record.get("id"), str) else ""
            raise UsageError(f"{path} line {number}{named}: {_field_text(loc)}{message}") from None
    try:
        return Suite.model_validate({**header, "samples": samples})  # validated instances are not re-validated
    except ValidationError as exc:
        loc, message = _describe(exc.errors()[0])
        raise UsageError(f"{path}: {_field_text(loc)}{message}") from None


def load_suite_file(path: Path) -> Suite:
    if not path.is_file():
        raise UsageError(f"suite file {path} does not exist")
    if path.suffix == ".jsonl":
        suite = load_jsonl_suite(path)
    elif path.suffix in (".yaml", ".yml"):
        suite = load_yaml_suite(path)
    else:
        raise UsageError(f"{path}: unknown suite format {path.suffix!r}; use .yaml, .yml or .jsonl")
    return _derive(suite, path) if suite.from_suite else suite


def _derive(suite: Suite, path: Path) -> Suite:
    """Copy the named samples of `from_suite` in, in the order given, under this suite's category."""
    if suite.from_suite == suite.name:
        raise UsageError(f"{path}: field 'from_suite': a suite cannot derive from itself")
    base = resolve_suite(suite.from_suite)
    by_id = {sample.id: sample for sample in base.samples}
    picked = []
    for sample_id in suite.sample_ids:
        if sample_id not in by_id:
            raise UsageError(f"{path}: field 'sample_ids': {sample_id!r} is not a sample of suite {base.name!r}")
        picked.append(by_id[sample_id].model_copy(update={"category": suite.category}))
    try:
        return Suite.model_validate({**suite.model_dump(exclude={"samples"}), "samples": suite.samples + picked})
    except ValidationError as exc:
        loc, message = _describe(exc.errors()[0])
        raise UsageError(f"{path}: {_field_text(loc)}{message}") from None


def _named_files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        return {}
    return {p.stem: p for p in sorted(directory.iterdir()) if p.suffix in SUFFIXES}


def available_suites() -> dict[str, Path]:
    """Suite name -> file, shipped suites first; an imported suite never shadows a shipped one."""
    found = _named_files(user_suites_dir())
    found.update(_named_files(SHIPPED_DIR))
    return found


def resolve_suite(name: str) -> Suite:
    path = Path(name)
    if path.suffix in SUFFIXES and path.exists():
        return load_suite_file(path)
    known = available_suites()
    if name in known:
        return load_suite_file(known[name])
    hint = ", ".join(sorted(known)) or "none"
    raise UsageError(f"unknown suite {name!r}: give a suite file path or one of: {hint}")


def resolve_suite_refs(names: list[str]) -> list[tuple[Suite, str]]:
    """Each suite with the name it was asked for; `default` and `quick` stand for several suites."""
    resolved: list[tuple[Suite, str]] = []
    seen: set[str] = set()
    for name in names:
        if name in COMPOSITES:
            suites = COMPOSITES[name]()
        else:
            suites = [resolve_suite(name)]
        for suite in suites:
            if suite.name in seen:
                raise UsageError(f"suite {suite.name!r} is given twice; name each suite once")
            seen.add(suite.name)
            resolved.append((suite, name))
    return resolved


def resolve_suites(names: list[str]) -> list[Suite]:
    return [suite for suite, _ in resolve_suite_refs(names)]


DEFAULT_SUITES = ("disallowed_content", "jailbreaks", "instruction_hierarchy", "hallucination", "self_preservation",
                  "prompt_sensitivity")
# Samples per suite in `quick` (jailbreaks: one request under every attack).
QUICK_SAMPLES = {"disallowed_content": 20, "jailbreaks": 1, "instruction_hierarchy": 6, "hallucination": 7,
                 "self_preservation": 4, "prompt_sensitivity": 10}


def _group_key(sample: Sample) -> str:
    """Samples that only make sense together: all phrasings of one request, both orders of one dilemma."""
    meta = sample.metadata
    if "base_id" in meta:
        return str(meta["base_id"])
    if "scenario" in meta and "variation" in meta:
        return f"{meta['scenario']}/{meta['variation']}"
    return sample.id


def stratified_subset(suite: Suite, n_samples: int) -> Suite:
    """About `n_samples` samples taking whole groups round-robin over subcategories, in file order."""
    strata: dict[str, dict[str, list[Sample]]] = {}
    for sample in suite.samples:
        strata.setdefault(sample.subcategory or "", {}).setdefault(_group_key(sample), []).append(sample)
    queues = [list(groups.values()) for groups in strata.values()]
    chosen: list[Sample] = []
    while len(chosen) < n_samples and any(queues):
        for queue in queues:
            if queue and len(chosen) < n_samples:
                chosen.extend(queue.pop(0))
    keep = {sample.id for sample in chosen}
    return suite.model_copy(update={"samples": [s for s in suite.samples if s.id in keep]})


def default_suites() -> list[Suite]:
    return [resolve_suite(name) for name in DEFAULT_SUITES]


def quick_suites() -> list[Suite]:
    return [stratified_subset(suite, QUICK_SAMPLES[suite.name]) for suite in default_suites()]


COMPOSITES = {"default": default_suites, "quick": quick_suites}
