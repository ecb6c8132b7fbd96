"""Stored guard measurements (table guard_measurements): a screen's recall and false-positive rate on labelled traffic.

    add_guard_measurements(engine, [{"rule": "harmful_request", "stage": "input", "screen_version": "v3",
                                     "threshold": 0.5, "action": "block", "labelled_set": "traffic.jsonl",
                                     "labelled_set_sha256": "...", "tp": 40, "fn": 2, "fp": 3, "tn": 55}])
    guard_measurements(engine, rule="harmful_request")   # newest first

Rows are written together (one transaction) or not at all. A measurement comes back with its counts, recall and
false-positive rate, each with n and a Wilson 95% interval recomputed from the counts.
"""

from __future__ import annotations

from sqlalchemy import desc, insert, select
from sqlalchemy.engine import Engine

from safehub.stats import proportion
from safehub.store.schema import guard_measurements as table
from safehub.store.writes import now


def rate(name: str, hits: int, n: int) -> dict:
    """{"value", "low", "high", "n"}: value None when n is 0 (the interval is then [0, 1])."""
    figure = proportion(name, hits, n)
    return {"value": figure.value, "low": figure.low, "high": figure.high, "n": n}


def add_guard_measurements(engine: Engine, measurements: list[dict]) -> list[dict]:
    """Store one row per measured rule (keys as the table's columns, without n, rates and time); returns them read back."""
    created_at = now()
    rows = []
    for measurement in measurements:
        tp, fn, fp, tn = (measurement[key] for key in ("tp", "fn", "fp", "tn"))
        rows.append({**measurement, "n": tp + fn + fp + tn, "created_at": created_at,
                     "recall": tp / (tp + fn) if tp + fn else None,
                     "false_positive_rate": fp / (fp + tn) if fp + tn else None})
    with engine.begin() as connection:
        for row in rows:
            row["id"] = connection.execute(insert(table).values(row)).inserted_primary_key[0]
    return [_measurement(row) for row in rows]


def guard_measurements(engine: Engine, rule: str | None = None) -> list[dict]:
    """Every stored measurement (of `rule`, if given), newest first."""
    query = select(table).order_by(desc(table.c.id))
    if rule is not None:
        query = query.where(table.c.rule == rule)
    with engine.connect() as connection:
        return [_measurement(row._mapping) for row in connection.execute(query).all()]


def _measurement(row) -> dict:
    created_at = row["created_at"]
    tp, fn, fp, tn = (row[key] for key in ("tp", "fn", "fp", "tn"))
    return {"id": row["id"], "rule": row["rule"], "stage": row["stage"], "screen_version": row["screen_version"],
            "threshold": row["threshold"], "action": row["action"], "labelled_set": row["labelled_set"],
            "labelled_set_sha256": row["labelled_set_sha256"], "n": row["n"],
            "confusion": {"tp": tp, "fn": fn, "fp": fp, "tn": tn},
            "recall": rate("recall", tp, tp + fn), "false_positive_rate": rate("false_positive_rate", fp, fp + tn),
            "details": dict(row.get("details") or {}),
            "created_at": created_at.isoformat() if hasattr(created_at, "isoformat") else created_at}
