"""What every importer shares: read a local file into rows that remember their line, and map columns to fields.

An `Importer` names a public format, the columns it reads (field -> column as the benchmark spells it)
and a `convert` step that turns one `Row` into the fields of a `Sample`. A user's `--map field=column`
overrides where a field comes from; `--map expected=refuse` (or `comply`) fixes it for every row.
Every problem is a `UsageError` of one line: the file, the line a user sees in an editor, the problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from safehub.errors import UsageError
from safehub.jsontext import TooDeep, parse_json
from safehub.suites.loader import MAX_JSONL_SUITE_BYTES

# Values accepted for `expected`, case-insensitive: the words public datasets use for "a safe model refuses".
REFUSE_WORDS = ("refuse", "refusal", "unsafe", "harmful", "1")
COMPLY_WORDS = ("comply", "compliance", "safe", "benign", "harmless", "0")
EXPECTED_WORDS = {**dict.fromkeys(REFUSE_WORDS, "refuse"), **dict.fromkeys(COMPLY_WORDS, "comply")}


@dataclass(frozen=True)
class Source:
    """A file read once: its text (UTF-8, BOM dropped) and the sha256 of its bytes."""

    path: Path
    text: str
    sha256: str

    def error(self, problem: str, line: int | None = None) -> UsageError:
        where = f" line {line}" if line is not None else ""
        return UsageError(f"{self.path}{where}: {problem}")


def read_source(path: Path) -> Source:
    try:
        size_bytes = path.stat().st_size
        if size_bytes > MAX_JSONL_SUITE_BYTES:  # the suite written from it could not be loaded
            raise UsageError(f"{path} is {size_bytes / (1 << 20):.0f} MiB, more than the "
                             f"{MAX_JSONL_SUITE_BYTES >> 20} MiB safehub reads as one suite; split it and import "
                             "each part under its own --name")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; give the path of a local file to import") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder; give the path of a file to import") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                         f"save the file as UTF-8 and import it again") from None
    if not text.strip():
        raise UsageError(f"{path}: the file is empty; nothing to import")
    return Source(path, text, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Constant:
    """A value given on the command line (`--map expected=refuse`) instead of a column."""

    value: str


Binding = str | Constant  # a normalised column name, or a fixed value


def column_key(name: str) -> str:
    """Columns match whatever their case and surrounding spaces: `Goal`, `goal ` and `GOAL` are one column."""
    return name.strip().lower()


@dataclass
class Row:
    """One record of the file: its values by column, the line it starts on and its position among records."""

    source: Source
    line: int
    ordinal: int
    values: dict[str, Any]
    bindings: dict[str, Binding]
    columns_named: dict[str, str] = field(default_factory=dict)  # normalised -> as spelled in the file

    def fail(self, problem: str) -> UsageError:
        return self.source.error(problem, self.line)

    def has(self, name: str) -> bool:
        return name in self.bindings

    def column_of(self, name: str) -> str:
        binding = self.bindings.get(name)
        if isinstance(binding, str):
            return self.columns_named.get(binding, binding)
        return name

    def value(self, name: str) -> str | None:
        """The field's text with surrounding spaces removed; None when its column is absent or the cell empty."""
        binding = self.bindings.get(name)
        if binding is None:
            return None
        if isinstance(binding, Constant):
            return binding.value
        raw = self.values.get(binding)
        if raw is None or isinstance(raw, bool):
            return None if raw is None else str(raw).lower()
        if isinstance(raw, (int, float)):
            return str(raw)
        if not isinstance(raw, str):
            raise self.fail(f"field '{self.column_of(name)}' must be text, not {type(raw).__name__}")
        return raw.strip() or None

    def items(self, name: str) -> list[str] | None:
        """A list field: a JSON list, or text split on `|` (CSV cells), e.g. `A|B`; None when absent or empty."""
        binding = self.bindings.get(name)
        raw = self.values.get(binding) if isinstance(binding, str) else None
        if isinstance(raw, list):
            parts = [str(item).strip() for item in raw if item is not None and not isinstance(item, (dict, list))]
            if len(parts) != len(raw):
                raise self.fail(f"field '{self.column_of(name)}' must be a list of texts")
        else:
            parts = (self.value(name) or "").split("|")
        parts = [part.strip() for part in parts if part.strip()]
        return parts or None

    def text(self, name: str) -> str:
        """A field that must not be empty, e.g. the prompt."""
        value = self.value(name)
        if value is None:
            raise self.fail(f"empty {name} (column '{self.column_of(name)}'); every row needs one")
        return value

    def expected(self, name: str = "expected") -> str | None:
        value = self.value(name)
        if value is None:
            return None
        try:
            return EXPECTED_WORDS[value.lower()]
        except KeyError:
            raise self.fail(f"{name} value {value!r} (column '{self.column_of(name)}') is not one of "
                            f"{', '.join(REFUSE_WORDS)} (refuse) or {', '.join(COMPLY_WORDS)} (comply)") from None

    def sample_id(self) -> str:
        """The row's own id when the format or the map gives one, else `row-NNNN` by position."""
        return self.text("id") if self.has("id") else f"row-{self.ordinal:04d}"


@dataclass(frozen=True)
class Importer:
    """A public file format. `columns` maps each field the importer reads to the column the format names it
    (None: optional, read only when the user maps it); `required` fields must have a column in the file."""

    name: str
    summary: str
    kind: Literal["csv", "jsonl"]
    columns: Mapping[str, str | None]
    required: tuple[str, ...]
    convert: Callable[[Row], dict[str, Any]]
    category: str = "disallowed_content"

    def read(self, source: Source, column_map: Mapping[str, str] | None = None) -> list[tuple[int, dict[str, Any]]]:
        """(line, sample fields) for every record, in file order."""
        if self.kind == "csv":
            header_line, names, records = read_csv(source, self.name)
        else:
            header_line, names, records = read_jsonl(source)
        named = {column_key(n): n.strip() for n in names}
        bindings = self._bind(source, header_line, named, column_map or {})
        drafts = []
        for ordinal, (line, values) in enumerate(records, start=1):
            row = Row(source, line, ordinal, values, bindings, named)
            draft = self.convert(row)
            draft["metadata"] = {**draft.get("metadata", {}), "source_format": self.name, "source_row": line}
            drafts.append((line, draft))
        return drafts

    def _bind(self, source: Source, header_line: int, named: dict[str, str],
              column_map: Mapping[str, str]) -> dict[str, Binding]:
        unknown = sorted(set(column_map) - set(self.columns))
        if unknown:
            raise source.error(f"--map names field '{unknown[0]}', which format {self.name} does not read; "
                               f"its fields are: {', '.join(self.columns)}")
        noun = "column" if self.kind == "csv" else "field"
        bindings: dict[str, Binding] = {}
        for name, default in self.columns.items():
            mapped = column_map.get(name)
            column = mapped if mapped is not None else default
            if column is None:
                continue
            if column_key(column) in named:
                bindings[name] = column_key(column)
            elif mapped is not None and name == "expected" and mapped.strip().lower() in EXPECTED_WORDS:
                bindings[name] = Constant(mapped.strip().lower())
            elif mapped is not None:
                raise source.error(f"missing {noun} '{mapped}' (from --map {name}={mapped}); "
                                   f"the file has: {_listing(named)}", header_line)
            elif name in self.required:
                expected = ", ".join(c for c in self.columns.values() if c)
                raise source.error(f"missing {noun} '{column}'; format {self.name} expects {noun}s {expected} "
                                   f"(the file has: {_listing(named)})", header_line)
        return bindings


def _listing(named: dict[str, str]) -> str:
    shown = [repr(n) if n else "''" for n in named.values()]
    return ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "") if shown else "none"


def read_csv(source: Source, fmt: str) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """Header names and (line, values by normalised column) for each non-blank row; the header is line 1."""
    reader = csv.reader(io.StringIO(source.text, newline=""))
    records: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    header_line = 1
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = cells, start
                _check_header(source, fmt, header, header_line)
                continue
            if len(cells) > len(header):
                raise source.error(f"this row has {len(cells)} values but the header has {len(header)} columns; "
                                   f"quote values that contain commas", start)
            records.append((start, {column_key(name): value for name, value in zip(header, cells)}))
    except csv.Error as exc:
        raise source.error(f"not valid CSV ({exc})", reader.line_num) from None
    if header is None:
        raise source.error("the file is empty; nothing to import")
    if not records:
        raise source.error("no rows after the header; nothing to import", header_line)
    return header_line, header, records


def _check_header(source: Source, fmt: str, header: list[str], line: int) -> None:
    if len(header) != 1:
        return
    only = header[0]
    if only.lstrip().startswith("{"):
        raise source.error(f"the file looks like JSON Lines, but format {fmt} reads CSV; "
                           f"use --format jsonl (or adler)", line)
    for delimiter, described in (("\t", "tab-separated"), (";", "semicolon-separated"), ("|", "pipe-separated")):
        if delimiter in only:
            raise source.error(f"the header is one column {only[:60]!r}: the file looks {described}, but format {fmt} "
                               f"reads comma-separated CSV; save it with commas between columns", line)


def read_jsonl(source: Source) -> tuple[int, list[str], list[tuple[int, dict[str, Any]]]]:
    """Keys seen in any record and (line, values by normalised key) for each non-blank line."""
    records: list[tuple[int, dict[str, Any]]] = []
    names: dict[str, str] = {}
    for line, text in enumerate(source.text.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = parse_json(text)
        except json.JSONDecodeError as exc:
            hint = "; is it a CSV file? use --format csv" if not records and not text.lstrip().startswith("{") else ""
            raise source.error(f"not valid JSON ({exc.msg} at column {exc.colno}){hint}", line) from None
        except TooDeep as exc:
            raise source.error(f"{exc}; flatten it", line) from None
        if not isinstance(record, dict):
            raise source.error("each line must be a JSON object", line)
        for key in record:
            names.setdefault(column_key(str(key)), str(key))
        records.append((line, {column_key(str(k)): v for k, v in record.items()}))
    if not records:
        raise source.error("the file is empty; nothing to import")
    return records[0][0], list(names.values()), records
