"""Read side of the guard's audit (`guard_decisions`): block and flag rates over time, per rule and per upstream.

    decision_rates(engine, bucket="hour", stage="input")
    # -> [{"bucket": "2026-11-23T18:00:00Z", "stage": "input", "n": 412,
    #      "all": {"blocks": {"value": 0.05, "n": 412, "low": ..., "high": ...}, "flags": {...}},
    #      "rules": [{"rule": "persona_jailbreak", "blocks": {...}, "flags": {...}}, ...]}, ...]

    rollup = DecisionRollup(engine).refresh()         # what the hub's guard page reads
    guard_summary(rollup, since_hour="2026-11-23 00", rule="persona_jailbreak")
    # -> {"bucket": "hour", "timeline": {"input": [...], "output": [...]}, "rules": [...], "upstreams": [...], ...}

The guard writes one decision per request and stage, naming the rule that decided it (for a pass,
the rule that came closest), so per bucket and stage `n` is the number of requests screened and a
rule's block rate is the share of them that rule blocked. Rates carry n and a Wilson 95% interval;
latency percentiles a distribution-free one; mean scores a normal-approximation one.
"""
from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, NamedTuple

import numpy as np
from sqlalchemy import String, case, desc, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from safehub.errors import UsageError
from safehub.stats import Z_95, proportion
from safehub.store.schema import guard_decisions

Bucket = Literal["hour", "day"]
_SQLITE_FORMAT = {"hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%dT00:00:00Z"}


def _bucket_column(engine: Engine, bucket: Bucket | None):
    column = guard_decisions.c.created_at
    if bucket is None:
        return func.min(column).label("bucket_start"), None
    if bucket not in _SQLITE_FORMAT:
        raise UsageError(f"bucket {bucket!r}: use hour or day")
    if engine.dialect.name == "postgresql":
        expression = func.date_trunc(bucket, func.timezone("UTC", column))
    else:
        expression = func.strftime(_SQLITE_FORMAT[bucket], column)
    return expression.label("bucket_start"), expression


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def decision_rates(engine: Engine, *, bucket: Bucket | None = "hour", stage: str | None = None,
                   since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Per time bucket (or overall, with `bucket=None`) and stage: n, block and flag rates, by rule and in all."""
    label, group = _bucket_column(engine, bucket)
    table = guard_decisions.c
    query = select(label, table.stage, table.rule, table.action, func.count().label("n"))
    if stage is not None:
        query = query.where(table.stage == stage)
    if since is not None:
        query = query.where(table.created_at >= since)
    if until is not None:
        query = query.where(table.created_at < until)
    keys = [table.stage, table.rule, table.action]
    query = query.group_by(*([group] if group is not None else []), *keys)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    # bucket, stage -> rule -> action -> count
    counts: dict[tuple, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    starts: dict[tuple, str | None] = {}
    for row in rows:
        key = (_as_text(row.bucket_start) if group is not None else None, row.stage)
        counts[key][row.rule or "-"][row.action] += row.n
        start = _as_text(row.bucket_start)
        starts[key] = min(filter(None, (starts.get(key), start)), default=None)
    result = []
    for key in sorted(counts, key=lambda k: (k[0] or "", k[1])):
        by_rule = counts[key]
        n = sum(sum(actions.values()) for actions in by_rule.values())
        blocks = sum(actions.get("block", 0) for actions in by_rule.values())
        flags = sum(actions.get("flag", 0) for actions in by_rule.values())
        rules = [{"rule": rule, "blocks": proportion(f"{rule} block rate", actions.get("block", 0), n).as_dict(),
                  "flags": proportion(f"{rule} flag rate", actions.get("flag", 0), n).as_dict()}
                 for rule, actions in sorted(by_rule.items()) if actions.get("block") or actions.get("flag")]
        result.append({"bucket": key[0] if group is not None else starts[key], "stage": key[1], "n": n,
                       "all": {"blocks": proportion("block rate", blocks, n).as_dict(),
                               "flags": proportion("flag rate", flags, n).as_dict()},
                       "rules": rules})
    return result


def recent_decisions(engine: Engine, *, limit: int = 50, action: str | None = None) -> list[dict]:
    """The newest decisions, newest first (text appears in `details` only if the guard was told to log it)."""
    query = select(guard_decisions).order_by(desc(guard_decisions.c.id)).limit(limit)
    if action is not None:
        query = query.where(guard_decisions.c.action == action)
    with engine.connect() as connection:
        return [row._asdict() for row in connection.execute(query)]


# ---- the guard page: per-hour aggregates, kept up to date incrementally -------------------------------------------

HOUR_FORMAT = "%Y-%m-%d %H"  # a rollup hour key, UTC: "2026-11-23 10"
LATENCY_BIN_RATIO = 1.05  # latency histogram bins are 5% wide: percentiles are read to within about 2.5%
_LN_RATIO = math.log(LATENCY_BIN_RATIO)
# Bin b holds latencies in [1.05**b, 1.05**(b+1)) ms; the range runs from 0.1 ms to 10 minutes, outliers go to its ends.
LATENCY_BINS = range(math.floor(math.log(0.1) / _LN_RATIO), math.ceil(math.log(600_000) / _LN_RATIO) + 1)
ABSORB_CHUNK = 200_000  # decisions per GROUP BY: short reads never hold back the guard's writes for long


@dataclass
class Tally:
    """Decisions sharing one rollup key: how many, and their scores' count, sum and sum of squares."""

    n: int = 0
    scored: int = 0
    score_sum: float = 0.0
    score_squares: float = 0.0

    def add(self, n: int, scored: int, score_sum: float, score_squares: float) -> None:
        self.n += n
        self.scored += scored
        self.score_sum += score_sum
        self.score_squares += score_squares


class RollupKey(NamedTuple):
    hour: str
    stage: str
    rule: str | None
    action: str
    upstream: str | None
    status: int | None  # input decisions only: the HTTP status the client got
    is_failover: bool | None  # input decisions only: more than one upstream was tried


class DecisionRollup:
    """Per-hour aggregates of `guard_decisions`, read once with GROUP BY and then brought up to date by id.

        rollup = DecisionRollup(engine)
        rollup.refresh()    # the first call reads every decision; later calls only those written since
        rollup.tallies      # {RollupKey: Tally}
        rollup.latency      # {(hour, upstream): counts per LATENCY_BINS bin (numpy)}, input decisions

    A page then costs a pass over a few thousand keys instead of a scan of every decision (SQLite
    sorts every row for a GROUP BY and parses each row's JSON: seconds per million decisions).
    Decisions are only ever appended; if the rows up to the last one read no longer add up (some
    were deleted, or committed late below it), the rollup is read again from scratch.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.tallies: dict[RollupKey, Tally] = {}
        self.latency: dict[tuple[str, str | None], np.ndarray] = {}
        self.last_id = 0
        self.absorbed = 0
        self._lock = threading.Lock()
        self._summaries: dict[tuple, dict | None] = {}

    def refresh(self) -> DecisionRollup:
        table = guard_decisions.c
        with self._lock, self.engine.connect() as connection:
            # One statement, so both figures come from the same snapshot while the guard keeps writing.
            newest, total = connection.execute(select(select(func.max(table.id)).scalar_subquery(),
                                                      select(func.count()).select_from(guard_decisions)
                                                      .scalar_subquery())).one()
            if newest is None:
                self._reset()
                return self
            if self.absorbed:
                newer = connection.execute(select(func.count()).where(table.id > self.last_id,
                                                                      table.id <= newest)).scalar_one()
                if total - newer != self.absorbed:
                    self._reset()
            try:
                for after_id in range(self.last_id, newest, ABSORB_CHUNK):
                    self._absorb(connection, after_id, min(newest, after_id + ABSORB_CHUNK))
            except BaseException:
                self._reset()  # half a batch absorbed cannot be told from the rest: start over next time
                raise
            self.last_id, self.absorbed = newest, total
        return self

    def summary(self, **filters) -> dict | None:
        """guard_summary(self, **filters), kept until a refresh finds new decisions (callers must not change it)."""
        key = (self.last_id, self.absorbed, tuple(sorted(filters.items())))
        if key not in self._summaries:
            if len(self._summaries) >= 64:
                self._summaries.clear()
            self._summaries[key] = guard_summary(self, **filters)
        return self._summaries[key]

    def _reset(self) -> None:
        self.tallies, self.latency, self.last_id, self.absorbed, self._summaries = {}, {}, 0, 0, {}

    def _absorb(self, connection, after_id: int, through_id: int) -> None:
        table = guard_decisions.c
        hour = _hour_key(connection)
        is_input = table.stage == "input"
        status = case((is_input, table.details["status"].as_integer()), else_=None)
        failover = case((is_input, case((table.details["attempts"].as_integer() > 1, 1), else_=0)), else_=None)
        in_range = (table.id > after_id) & (table.id <= through_id)
        keys = [hour, table.stage, table.rule, table.action, table.upstream, status, failover]
        query = (select(*keys, func.count(), func.count(table.score), func.sum(table.score),
                        func.sum(table.score * table.score)).where(in_range).group_by(*keys))
        for row in connection.execute(query):
            key = RollupKey(_normal_hour(row[0]), row[1], row[2], row[3], row[4], row[5],
                            None if row[6] is None else bool(row[6]))
            self.tallies.setdefault(key, Tally()).add(row[7], row[8], row[9] or 0.0, row[10] or 0.0)
        _ensure_ln(connection)
        latency_bin = func.floor(func.ln(table.latency_ms) / _LN_RATIO)
        query = (select(hour, table.upstream, latency_bin, func.count())
                 .where(in_range, is_input, table.latency_ms > 0).group_by(hour, table.upstream, latency_bin))
        first, last = LATENCY_BINS[0], LATENCY_BINS[-1]
        for row in connection.execute(query):
            key = (_normal_hour(row[0]), row[1])
            if key not in self.latency:
                self.latency[key] = np.zeros(len(LATENCY_BINS), dtype=np.int64)
            self.latency[key][min(last, max(first, int(row[2]))) - first] += row[3]


def _hour_key(connection):
    column = guard_decisions.c.created_at
    if connection.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24", type_=String)
    # SQLite keeps the UTC time as text, "2026-11-23 10:05:00.000000": its first 13 characters are the hour.
    return func.substr(column, 1, 13, type_=String)


def _normal_hour(text: str) -> str:
    return text.replace("T", " ")


def _ensure_ln(connection) -> None:
    """SQLite builds without the math functions get ln and floor from Python (same results, slower)."""
    if connection.dialect.name != "sqlite":
        return
    try:
        connection.exec_driver_sql("SELECT ln(2.0), floor(1.5)").all()
    except OperationalError:
        raw = connection.connection.driver_connection
        raw.create_function("ln", 1, math.log, deterministic=True)
        raw.create_function("floor", 1, math.floor, deterministic=True)


# ---- what the page shows, computed from the rollup -----------------------------------------------------------------

BUCKET_SIZES = ("hour", "day", "week")


def bucket_of(hour: str, size: str) -> str:
    """The start of the hour's bucket as "YYYY-MM-DD HH" (a week starts on Monday, UTC)."""
    if size == "hour":
        return hour
    if size == "day":
        return hour[:10] + " 00"
    day = datetime.strptime(hour[:10], "%Y-%m-%d")
    return (day - timedelta(days=day.weekday())).strftime("%Y-%m-%d 00")


def bucket_starts(first: str, last: str, size: str) -> list[str]:
    """Every bucket from the one holding hour `first` to the one holding `last`, empty ones included."""
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[size]
    start = datetime.strptime(bucket_of(first, size), HOUR_FORMAT)
    end = datetime.strptime(bucket_of(last, size), HOUR_FORMAT)
    return [(start + step * index).strftime(HOUR_FORMAT) for index in range(int((end - start) / step) + 1)]


def as_iso(hour: str) -> str:
    return hour.replace(" ", "T") + ":00:00Z"


def mean_with_interval(n: int, total: float, squares: float) -> dict:
    """A mean score with a normal-approximation 95% interval, clamped to [0, 1] (scores are probabilities)."""
    if n == 0:
        return {"value": None, "n": 0, "low": None, "high": None}
    mean = total / n
    if n < 2:
        return {"value": mean, "n": n, "low": 0.0, "high": 1.0}
    variance = max(0.0, (squares - total * total / n) / (n - 1))
    half = Z_95 * math.sqrt(variance / n)
    return {"value": mean, "n": n, "low": max(0.0, mean - half), "high": min(1.0, mean + half)}


def quantile_ranks(n: int, q: float) -> tuple[int, int, int]:
    """1-based ranks of the q-quantile of n values and of its distribution-free 95% interval.

    The interval runs between order statistics, with the binomial count of values below the
    quantile approximated as normal (Conover, Practical Nonparametric Statistics, 3rd ed., 3.2).

    >>> quantile_ranks(100, 0.5)
    (50, 41, 60)
    """
    centre = n * q
    spread = Z_95 * math.sqrt(n * q * (1 - q))
    return tuple(min(n, max(1, math.ceil(rank))) for rank in (centre, centre - spread, centre + spread))


def latency_quantile(histogram: np.ndarray | None, q: float) -> dict:
    """The q-quantile (ms) of a latency histogram over LATENCY_BINS with its 95% interval."""
    n = 0 if histogram is None else int(histogram.sum())
    if n == 0:
        return {"value": None, "n": 0, "low": None, "high": None}
    cumulative = np.cumsum(histogram)
    rank, low_rank, high_rank = quantile_ranks(n, q)

    def bin_of(wanted: int) -> int:  # the bin holding the wanted-th smallest latency
        return LATENCY_BINS[int(np.searchsorted(cumulative, wanted))]

    # The estimate is its bin's geometric centre; the interval takes the outer edges of its bins.
    return {"value": LATENCY_BIN_RATIO ** (bin_of(rank) + 0.5), "n": n,
            "low": LATENCY_BIN_RATIO ** bin_of(low_rank), "high": LATENCY_BIN_RATIO ** (bin_of(high_rank) + 1)}


MAX_BUCKETS = 2000


def auto_bucket(first_hour: str, last_hour: str) -> str:
    """Hours for up to three days of decisions, days for up to half a year, weeks beyond."""
    span = datetime.strptime(last_hour, HOUR_FORMAT) - datetime.strptime(first_hour, HOUR_FORMAT)
    return "hour" if span < timedelta(hours=72) else "day" if span < timedelta(days=180) else "week"


def guard_summary(rollup: DecisionRollup, *, since_hour: str | None = None, until_hour: str | None = None,
                  rule: str | None = None, bucket: str | None = None) -> dict | None:
    """Block and flag rates over time, per rule, per upstream, failovers and errors; None if nothing is in the window.

    Hours are rollup keys ("2026-11-23 10", UTC): `since_hour` is the first hour in, `until_hour` the first
    one out. Per bucket and stage, n is the number of decisions; a rule's rate is the share of them that
    named it. A `rule` narrows the rates over time and the per-rule rows; requests, upstreams,
    failovers and errors always cover every request in the window (one input decision per request).
    """
    def in_window(hour: str) -> bool:
        return (since_hour is None or hour >= since_hour) and (until_hour is None or hour < until_hour)

    tallies = [(key, tally) for key, tally in rollup.tallies.items() if in_window(key.hour)]
    if not tallies:
        return None
    hours = sorted({key.hour for key, _ in tallies})
    size = bucket or auto_bucket(hours[0], hours[-1])
    starts = bucket_starts(hours[0], hours[-1], size)
    if len(starts) > MAX_BUCKETS:
        raise UsageError(f"bucket={size} over this window gives {len(starts):,} points (at most {MAX_BUCKETS:,}); "
                         "choose a longer bucket or a shorter window")
    stage_n: Counter[str] = Counter()
    cells: dict[tuple[str, str], list[int]] = {}  # (bucket, stage) -> [decisions, blocks, flags]
    by_rule: dict[tuple[str, str | None, str], Tally] = {}
    bucket_starts_of = {hour: bucket_of(hour, size) for hour in hours}
    column = {"block": 1, "flag": 2}
    for key, tally in tallies:
        stage_n[key.stage] += tally.n
        cell = cells.setdefault((bucket_starts_of[key.hour], key.stage), [0, 0, 0])
        cell[0] += tally.n
        if rule is None or key.rule == rule:
            if key.action in column:
                cell[column[key.action]] += tally.n
            by_rule.setdefault((key.stage, key.rule, key.action), Tally()).add(
                tally.n, tally.scored, tally.score_sum, tally.score_squares)
    stages = sorted(stage_n, key=lambda stage: (stage != "input", stage))
    timeline = {stage: [_rates_at(start, *cells.get((start, stage), (0, 0, 0))) for start in starts] for stage in stages}
    action_order = {"block": 0, "flag": 1, "pass": 2}
    rules = [{"stage": stage, "rule": name, "action": action, "decisions": tally.n,
              "rate": proportion(f"{action} by {name}", tally.n, stage_n[stage]).as_dict(),
              "mean_score": mean_with_interval(tally.scored, tally.score_sum, tally.score_squares)}
             for (stage, name, action), tally in sorted(by_rule.items(), key=lambda item: (
                 stages.index(item[0][0]), action_order.get(item[0][2], 3), -item[1].n, item[0][1] or ""))]
    return {"bucket": size, "first_hour": as_iso(hours[0]), "last_hour": as_iso(hours[-1]),
            "decisions": sum(stage_n.values()), "stages": {stage: stage_n[stage] for stage in stages},
            "timeline": timeline, "rules": rules,
            **_requests(rollup, [(key, tally) for key, tally in tallies if key.stage == "input"], in_window)}


def _rates_at(start: str, n: int, blocks: int, flags: int) -> dict:
    return {"bucket": as_iso(start), "n": n, "blocks": proportion("block rate", blocks, n).as_dict(),
            "flags": proportion("flag rate", flags, n).as_dict()}


def _requests(rollup: DecisionRollup, inputs: list[tuple[RollupKey, Tally]], in_window) -> dict:
    """Requests (input decisions) by upstream: share, errors (HTTP status >= 400), failovers, latency p50/p95."""
    requests = sum(tally.n for _, tally in inputs)
    upstreams: dict[str | None, Counter[str]] = defaultdict(Counter)
    statuses: Counter[int | None] = Counter()
    for key, tally in inputs:
        counts = upstreams[key.upstream]
        counts["requests"] += tally.n
        counts["errors"] += tally.n if key.status is not None and key.status >= 400 else 0
        counts["failovers"] += tally.n if key.is_failover else 0
        statuses[key.status] += tally.n
    latency: dict[str | None, np.ndarray] = {}
    for (hour, upstream), histogram in rollup.latency.items():
        if in_window(hour):
            latency[upstream] = histogram + latency[upstream] if upstream in latency else histogram
    rows = [{"upstream": upstream, "requests": counts["requests"],
             "share": proportion("share of requests", counts["requests"], requests).as_dict(),
             "errors": proportion("error rate", counts["errors"], counts["requests"]).as_dict(),
             "failovers": proportion("failover rate", counts["failovers"], counts["requests"]).as_dict(),
             "latency_p50_ms": latency_quantile(latency.get(upstream), 0.5),
             "latency_p95_ms": latency_quantile(latency.get(upstream), 0.95)}
            for upstream, counts in sorted(upstreams.items(), key=lambda item: (item[0] is None, -item[1]["requests"],
                                                                                 item[0] or ""))]
    failovers = sum(counts["failovers"] for counts in upstreams.values())
    errors = sum(counts["errors"] for counts in upstreams.values())
    return {"requests": requests, "upstreams": rows,
            "failovers": proportion("failover rate", failovers, requests).as_dict(),
            "errors": proportion("error rate", errors, requests).as_dict(),
            "statuses": [{"status": status, "requests": count, "rate": proportion(f"HTTP {status}", count,
                                                                                    requests).as_dict()}
                         for status, count in sorted(statuses.items(), key=lambda item: (item[0] is None, item[0] or 0))]}


def known_rules(rollup: DecisionRollup) -> list[str]:
    return sorted({key.rule for key in rollup.tallies if key.rule is not None})


def decision_span(engine: Engine, *, since: datetime | None = None, until: datetime | None = None) -> dict:
    """The first and last decision in the window (read through the created_at index) as ISO text."""
    column = guard_decisions.c.created_at
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    with engine.connect() as connection:
        first = connection.execute(select(func.min(column)).where(*conditions)).scalar_one()
        last = connection.execute(select(func.max(column)).where(*conditions)).scalar_one()
    return {"first": _as_text(first), "last": _as_text(last)}


def flagged_decisions(engine: Engine, *, limit: int = 20, rule: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[dict]:
    """The newest blocks and flags in the window, newest first (walks the created_at index backwards)."""
    table = guard_decisions.c
    query = (select(table.id, table.created_at, table.stage, table.rule, table.action, table.score, table.client,
                    table.upstream, table.details)
             .where(table.action.in_(("block", "flag"))).order_by(desc(table.created_at)).limit(limit))
    if rule is not None:
        query = query.where(table.rule == rule)
    if since is not None:
        query = query.where(table.created_at >= since)
    if until is not None:
        query = query.where(table.created_at < until)
    with engine.connect() as connection:
        return [{**row._asdict(), "created_at": _as_text(row.created_at)} for row in connection.execute(query)]
