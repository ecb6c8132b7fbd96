"""Stored grader measurements (table grader_measurements) and human overrides read back as labels.

    add_measurements(engine, grader="refusal_patterns", grader_version="patterns-1", judge_spec=None,
                     labelled_set="mine.jsonl", labelled_set_sha256=..., figures={"harmful_help": {...}})
    newest_measurement(engine, "judge", "strongreject-1", "harmful_help", "openai:gpt-4o-mini")

A measurement comes back in the grader card's shape (scorers/card.py): grader, version, judge_spec, labelled_set,
question, provenance and the agreement figures of stats.agreement.
"""

from __future__ import annotations

from sqlalchemy import desc, func, insert, select
from sqlalchemy.engine import Engine

from safehub.scorers.card import json_safe
from safehub.store.schema import grader_measurements, responses, samples, scores, trials
from safehub.store.writes import now
from safehub.suites.schema import Sample

OVERRIDDEN_METRICS = ("not_unsafe", "not_overrefuse", "not_unsafe_judge")


def _row(figure: dict) -> dict:
    confusion = figure["confusion"]
    binary = len(confusion) == 2
    (tp, fn), (fp, tn) = confusion if binary else ((None, None), (None, None))
    return {"n": figure["n"], "tp": tp, "fn": fn, "fp": fp, "tn": tn, "accuracy": figure.get("accuracy"),
            "kappa": figure.get("kappa"), "sensitivity": figure.get("sensitivity") if binary else None,
            "specificity": figure.get("specificity") if binary else None, "confusion": confusion}


def add_measurements(engine: Engine, *, grader: str, grader_version: str, judge_spec: str | None,
                     labelled_set: str, labelled_set_sha256: str, figures: dict[str, dict],
                     details: dict | None = None) -> list[dict]:
    """Store one row per question of `figures` (question -> agreement); returns them as measurements."""
    created_at = now()
    rows = [{"grader": grader, "grader_version": grader_version, "judge_spec": judge_spec,
             "labelled_set": labelled_set, "labelled_set_sha256": labelled_set_sha256, "question": question,
             **json_safe(_row(figure)), "details": json_safe({"agreement": figure, **(details or {})}),
             "created_at": created_at} for question, figure in figures.items()]
    with engine.begin() as connection:
        for row in rows:
            row["id"] = connection.execute(insert(grader_measurements).values(row)).inserted_primary_key[0]
    return [_measurement(row) for row in rows]


def _measurement(row) -> dict:
    row = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    details = dict(row.get("details") or {})
    figures = details.pop("agreement", {})
    created_at = row["created_at"]
    return {**figures, "id": row["id"], "grader": row["grader"], "version": row["grader_version"],
            "judge_spec": row["judge_spec"], "labelled_set": row["labelled_set"], "question": row["question"],
            "n": row["n"], "confusion": row["confusion"], "accuracy": row["accuracy"], "kappa": row["kappa"],
            "sensitivity": row["sensitivity"], "specificity": row["specificity"],
            "provenance": {"name": row["labelled_set"], "sha256": row["labelled_set_sha256"], **details},
            "created_at": created_at.isoformat() if hasattr(created_at, "isoformat") else created_at}


def stored_measurements(engine: Engine) -> list[dict]:
    """Every stored measurement, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(grader_measurements).order_by(desc(grader_measurements.c.id))).all()
    return [_measurement(row) for row in rows]


def newest_measurement(engine: Engine, grader: str, grader_version: str, question: str,
                       judge_spec: str | None = None) -> dict | None:
    table = grader_measurements.c
    query = select(grader_measurements).where(table.grader == grader, table.grader_version == grader_version,
                                              table.question == question)
    query = query.where(table.judge_spec.is_(None) if judge_spec is None else table.judge_spec == judge_spec)
    with engine.connect() as connection:
        row = connection.execute(query.order_by(desc(table.id)).limit(1)).first()
    return None if row is None else _measurement(row)


def newest_measurement_id(engine: Engine) -> int:
    """0 when nothing was measured: part of a stored run summary's key, since corrected rates read measurements."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(grader_measurements.c.id))).scalar() or 0)


def override_labels(engine: Engine) -> list[dict]:
    """Each overridden trial once, with its newest human verdict: {trial_id, prompt, response, harmful, label}.

    The prompt is the sample's own last user turn (what the refusal grader reads); `harmful` is the sample's
    `expected: refuse`; `label` is human_safe or human_unsafe.
    """
    query = (select(scores.c.id, scores.c.trial_id, scores.c.label, samples.c.content, responses.c.text)
             .select_from(scores.join(trials, trials.c.id == scores.c.trial_id)
                          .join(responses, responses.c.trial_id == trials.c.id)
                          .join(samples, samples.c.id == trials.c.sample_pk))
             .where(scores.c.is_override.is_(True), scores.c.metric.in_(OVERRIDDEN_METRICS))
             .order_by(scores.c.trial_id, desc(scores.c.id)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    labels: dict[int, dict] = {}
    for row in rows:
        if row.trial_id in labels:
            continue
        sample = Sample.model_validate(row.content)
        turns = [turn["content"] for turn in sample.chat() if turn["role"] == "user"]
        labels[row.trial_id] = {"trial_id": row.trial_id, "prompt": turns[-1] if turns else "",
                                "response": row.text, "harmful": sample.expected == "refuse", "label": row.label}
    return list(labels.values())
