"""Transcript search: one page of trials in id order and a capped count, without scanning a whole store.

    query = TrialQuery(run_id="3ba1844dbea3", category="jailbreaks", text='"can\'t help" sorr*')
    page = find_trials(engine, query)            # 50 trials; page.has_next; next: after=page.trials[-1]["trial_id"]
    count_matches(engine, query)                 # (1000, True): at least a thousand, shown as "1,000+"

Text search: words (all must occur), "a quoted phrase", and a prefix `refus*`, matched case-insensitively
against the response text (SQLite FTS5 / PostgreSQL tsvector, built by migration 0004); a search also
matches trials whose sample id contains it. Whatever a user types becomes a valid query (`parse_search`):
operators and stray quotes are plain text, so bad syntax never reaches the database.
Pages are keyset pages (after / before a trial id) or, for the first COUNT_CAP matches, offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

PAGE_SIZE = 50
COUNT_CAP = 1000  # counts stop here ("1,000+"): an exact count over millions of matches costs seconds
SNIPPET_CHARS = 200
MAX_SAMPLE_MATCHES = 1000
_WORD = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r'"([^"]*)"?|([^\s"]+)')


@dataclass(frozen=True)
class SearchTerm:
    """One part of a search: a phrase (quoted, or a word with punctuation inside), optionally a prefix."""

    text: str
    is_prefix: bool = False


def parse_search(typed: str) -> list[SearchTerm]:
    """Turn anything a user types into terms; characters that are not letters or digits only separate words.

    parse_search('refus* "can\\'t help" OR x')
    # [SearchTerm("refus", is_prefix=True), SearchTerm("can't help"), SearchTerm("OR"), SearchTerm("x")]
    """
    terms = []
    for phrase, chunk in _CHUNK.findall(typed or ""):
        words = _WORD.findall(phrase or chunk)
        if not words:
            continue
        is_prefix = bool(chunk) and chunk.endswith("*") and not _WORD.search(chunk[chunk.rfind("*"):])
        terms.append(SearchTerm(" ".join(words) if is_prefix else (phrase or chunk).strip(), is_prefix))
    return terms


def fts5_expression(terms: list[SearchTerm]) -> str:
    """An FTS5 MATCH expression: each term a quoted string (so AND/OR/NEAR/* typed by a user are text)."""
    parts = []
    for term in terms:
        quoted = '"' + term.text.replace('"', '""') + '"'
        parts.append(quoted + " *" if term.is_prefix else quoted)
    return " ".join(parts)


def tsquery_sql(terms: list[SearchTerm], params: dict) -> str:
    """A PostgreSQL tsquery over bound parameters: phrases go through phraseto_tsquery (which parses like
    to_tsvector does); a prefix is built from letters and digits only, so it cannot carry tsquery syntax."""
    parts = []
    for index, term in enumerate(terms):
        name = f"term_{index}"
        if term.is_prefix:
            words = _WORD.findall(term.text)
            params[name] = " <-> ".join(f"'{word}'" for word in words) + ":*"
            parts.append(f"to_tsquery('simple'::regconfig, :{name})")
        else:
            params[name] = term.text
            parts.append(f"phraseto_tsquery('simple'::regconfig, :{name})")
    return "(" + " && ".join(parts) + ")"


@dataclass(frozen=True)
class TrialQuery:
    """Which trials: every filter is optional; run_id None means every run in the store."""

    run_id: str | None = None
    category: str | None = None
    subcategory: str | None = None
    attack: str | None = None
    label: str | None = None  # a current verdict's label (a human override wins, else the newest grade)
    text: str | None = None


@dataclass
class TrialPage:
    trials: list[dict] = field(default_factory=list)
    has_next: bool = False
    has_prev: bool = False


_COLUMNS = ("t.id AS trial_id, t.run_id, t.attack, t.epoch, s.suite, s.sample_id, s.category, s.subcategory, "
            f"substr(r.text, 1, {SNIPPET_CHARS}) AS snippet, length(r.text) AS response_chars, r.error_kind")
_JOINS = "JOIN responses r ON r.trial_id = t.id JOIN samples s ON s.id = t.sample_pk"
# A score is current when no better one exists for its trial and metric (an override, or a newer grade).
_HAS_LABEL = ("EXISTS (SELECT 1 FROM scores v WHERE v.trial_id = t.id AND v.label = :label AND NOT EXISTS ("
              "SELECT 1 FROM scores b WHERE b.trial_id = v.trial_id AND b.metric = v.metric AND "
              "(b.is_override > v.is_override OR (b.is_override = v.is_override AND b.id > v.id))))")


@dataclass
class _Stream:
    """One index-ordered way to reach matching trials: FROM + WHERE, ordered by `key`."""

    source: str
    conditions: list[str]
    params: dict
    key: str


def _filters(connection: Connection, query: TrialQuery, params: dict) -> list[str]:
    conditions = []
    for name, column in (("run_id", "t.run_id"), ("attack", "t.attack")):
        value = getattr(query, name)
        if value:
            params[name] = value
            conditions.append(f"{column} = :{name}")
    if query.category or query.subcategory:
        # The samples table is small: a list of its keys is a cheap test on each trial, where a join is not.
        kinds = {name: getattr(query, name) for name in ("category", "subcategory") if getattr(query, name)}
        params["kind_pks"] = connection.execute(text(
            "SELECT id FROM samples WHERE " + " AND ".join(f"{name} = :{name}" for name in kinds)), kinds).scalars().all()
        # Unary plus keeps SQLite from driving the query by sample (then sorting every trial of a category);
        # walking trials in id order with this cheap test stops after a page of matches.
        conditions.append("+t.sample_pk IN :kind_pks" if params["kind_pks"] else "1 = 0")
    if query.label:
        params["label"] = query.label
        conditions.append(_HAS_LABEL)
    return conditions


def _id_bounds(connection: Connection, run_id: str | None) -> tuple[int, int] | None:
    if run_id is None:
        return None
    # Two scalar subqueries: SQLite answers each from the (run_id, id) index in one step, but not both in one.
    low, high = connection.execute(text("SELECT (SELECT min(id) FROM trials WHERE run_id = :r), "
                                        "(SELECT max(id) FROM trials WHERE run_id = :r)"), {"r": run_id}).one()
    return (low, high) if low is not None else (0, -1)


def _clean(query: TrialQuery) -> TrialQuery:
    """NUL cannot be stored in a PostgreSQL text value, so no stored value holds one: drop it from the input."""
    return TrialQuery(**{name: value.replace("\x00", "") if isinstance(value, str) else value
                         for name, value in vars(query).items()})


def _streams(connection: Connection, query: TrialQuery) -> list[_Stream]:
    """The text match and the sample-id match are separate streams, each driven by its own index."""
    query = _clean(query)
    params: dict = {}
    conditions = _filters(connection, query, params)
    typed = (query.text or "").strip()
    if not typed:
        return [_Stream(f"trials t {_JOINS}", conditions, params, "t.id")]
    streams = []
    terms = parse_search(typed)
    bounds = _id_bounds(connection, query.run_id)
    if terms and connection.dialect.name == "sqlite":
        # CROSS JOIN keeps the full-text index the outer loop: it yields matches in rowid order, so a
        # page stops after its rows instead of joining every match in the store.
        bounded = ["f.rowid BETWEEN :low AND :high"] if bounds else []
        streams.append(_Stream(f"responses_fts f CROSS JOIN trials t ON t.id = f.rowid {_JOINS}",
                               ["responses_fts MATCH :fts", *bounded, *conditions],
                               {**params, "fts": fts5_expression(terms), **_bounds_params(bounds)}, "f.rowid"))
    elif terms:
        text_params = dict(params)
        match = f"r.text_search @@ {tsquery_sql(terms, text_params)}"  # a generated column (migration 0004)
        streams.append(_Stream(f"trials t {_JOINS}", [match, *conditions], text_params, "t.id"))
    pattern = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sample_pks = connection.execute(text("SELECT id FROM samples WHERE sample_id LIKE :p ESCAPE '\\' LIMIT :n"),
                                    {"p": pattern, "n": MAX_SAMPLE_MATCHES}).scalars().all()
    if sample_pks:
        streams.append(_Stream(f"trials t {_JOINS}", ["t.sample_pk IN :sample_pks", *conditions],
                               {**params, "sample_pks": list(sample_pks)}, "t.id"))
    return streams


def _bounds_params(bounds: tuple[int, int] | None) -> dict:
    return {"low": bounds[0], "high": bounds[1]} if bounds else {}


def _select(connection: Connection, stream: _Stream, columns: str, *, after: int | None, before: int | None,
            limit: int) -> list:
    conditions, params = list(stream.conditions), dict(stream.params)
    if after is not None:
        conditions.append(f"{stream.key} > :after")
        params["after"] = after
    if before is not None:
        conditions.append(f"{stream.key} < :before")
        params["before"] = before
    direction = "DESC" if before is not None else "ASC"
    sql = (f"SELECT {columns} FROM {stream.source} WHERE {' AND '.join(conditions) or '1 = 1'} "
           f"ORDER BY {stream.key} {direction} LIMIT :limit")
    statement = text(sql)
    for name in ("sample_pks", "kind_pks"):
        if params.get(name):
            statement = statement.bindparams(bindparam(name, expanding=True))
    return connection.execute(statement, {**params, "limit": limit}).all()


def _merged(connection: Connection, query: TrialQuery, columns: str, *, after: int | None, before: int | None,
            limit: int) -> list:
    """The first `limit` matches past the cursor, over every stream, without duplicates, in cursor order."""
    rows: dict[int, object] = {}
    for stream in _streams(connection, query):
        for row in _select(connection, stream, columns, after=after, before=before, limit=limit):
            rows.setdefault(row[0], row)
    ordered = sorted(rows.items(), reverse=before is not None)
    return [row for _, row in ordered[:limit]]


def find_trials(engine: Engine, query: TrialQuery, *, after: int | None = None, before: int | None = None,
                offset: int = 0, limit: int = PAGE_SIZE) -> TrialPage:
    """One page of matching trials in id order: after a trial id, before one (the previous page), or at a
    bounded offset (at most COUNT_CAP). Each trial carries its current verdict labels and a snippet."""
    if offset < 0 or offset > COUNT_CAP:
        raise ValueError(f"offset must be between 0 and {COUNT_CAP}")
    with engine.connect() as connection:
        rows = _merged(connection, query, _COLUMNS, after=after, before=before, limit=offset + limit + 1)
        if before is not None:
            rows = rows[::-1]
            page_rows, has_prev, has_next = rows[-limit:], len(rows) > limit, True
        else:
            page_rows = rows[offset:offset + limit]
            has_prev, has_next = after is not None or offset > 0, len(rows) > offset + limit
        labels = _current_labels(connection, [row.trial_id for row in page_rows])
    trials = []
    for row in page_rows:
        trial = row._asdict()
        trial["labels"] = labels.get(trial["trial_id"], [])
        trials.append(trial)
    return TrialPage(trials, has_next=has_next, has_prev=has_prev)


def count_matches(engine: Engine, query: TrialQuery, cap: int = COUNT_CAP, *, after: int | None = None
                  ) -> tuple[int, bool]:
    """How many trials match (after a trial id, if given), counting no further than `cap`: (n, is_capped);
    (cap, True) reads "cap+"."""
    with engine.connect() as connection:
        ids = {row[0] for row in _merged(connection, query, "t.id", after=after, before=None, limit=cap + 1)}
    return (cap, True) if len(ids) > cap else (len(ids), False)


def _current_labels(connection: Connection, trial_ids: list[int]) -> dict[int, list[str]]:
    """Each trial's current verdict label per metric: a human override wins, else the newest grade."""
    if not trial_ids:
        return {}
    statement = text("SELECT trial_id, metric, label, is_override, id FROM scores WHERE trial_id IN :ids "
                     "ORDER BY trial_id, metric, is_override, id").bindparams(bindparam("ids", expanding=True))
    current: dict[tuple[int, str], str] = {}
    for trial_id, metric, label, _, _ in connection.execute(statement, {"ids": trial_ids}):
        current[(trial_id, metric)] = label  # the last one in this order is the winner
    labels: dict[int, list[str]] = {}
    for (trial_id, _), label in sorted(current.items()):
        labels.setdefault(trial_id, []).append(label)
    return labels


def transcript_facets(engine: Engine, run_id: str) -> dict:
    """The values a run's transcripts can be filtered by: categories, subcategories, attacks, verdict labels."""
    with engine.connect() as connection:
        kinds = connection.execute(text(
            "SELECT DISTINCT s.category, s.subcategory FROM samples s WHERE s.id IN "
            "(SELECT sample_pk FROM trials WHERE run_id = :r)"), {"r": run_id}).all()
        attacks = connection.execute(text("SELECT DISTINCT attack FROM trials WHERE run_id = :r"),
                                     {"r": run_id}).scalars().all()
        labels = connection.execute(text(
            "SELECT DISTINCT v.label FROM trials t JOIN scores v ON v.trial_id = t.id WHERE t.run_id = :r AND "
            "NOT EXISTS (SELECT 1 FROM scores b WHERE b.trial_id = v.trial_id AND b.metric = v.metric AND "
            "(b.is_override > v.is_override OR (b.is_override = v.is_override AND b.id > v.id)))"),
            {"r": run_id}).scalars().all()
    return {"categories": sorted({category for category, _ in kinds}),
            "subcategories": sorted({sub for _, sub in kinds if sub}), "attacks": sorted(attacks),
            "labels": sorted(labels)}
