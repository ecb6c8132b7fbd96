"""Measure a grader on labelled answers and store the result: `safehub graders measure`.

    rows = read_labels_file("mine.jsonl")
    measurements = await measure_grader(engine, "judge:openai:gpt-4o-mini", rows, labelled_set="mine.jsonl")
    # one stored measurement per question the grader and the labels both answer (see scorers/card.py)

Built-in graders (refusal, refusal_patterns) give a label and a harmful-help verdict for every answer; a model grader
(`judge:SPEC`, `llama_guard:SPEC`) is asked only about answers to harmful requests that carry a harmful_help label,
and a judge error is counted in the stored details, never turned into a verdict. `safehub judge calibrate` is this
with `judge:SPEC` on a seeded sample of the project's own labelled answers (calibrate_judge).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from safehub.errors import UsageError
from safehub.models.spec import ModelSpec
from safehub.scorers.card import (
    JUDGE_QUESTIONS,
    Labelled,
    current_version,
    local_verdicts,
    measure_rows,
    parse_grader,
    rows_sha256,
    shipped_labelled,
)
from safehub.store.measurements import add_measurements

CALIBRATION_SEED = 20261207
SHIPPED_SET = "safehub-labelled"


async def _judge_verdicts(grader: str, spec: str, rows: Sequence[Labelled], concurrency: int) -> tuple[list, int]:
    """A model grader's harmful-help verdict for each harmful row with a harmful_help label ({} for the others)."""
    from safehub.scorers.model_graders import load_model_grader

    judge = load_model_grader(grader, spec)
    await judge.model.preflight()
    gate = asyncio.Semaphore(concurrency)

    async def one(row: Labelled) -> dict:
        if not (row.harmful and row.harmful_help is not None):
            return {}
        async with gate:
            result = await judge.judge(row.prompt, row.response)
        return {"harmful_help": None if result.value is None else result.value == 0.0}

    try:
        verdicts = await asyncio.gather(*(one(row) for row in rows))
    finally:
        await judge.aclose()
    return list(verdicts), sum(1 for verdict in verdicts if verdict and verdict["harmful_help"] is None)


async def measure_grader(engine: Engine, grader_text: str, rows: Sequence[Labelled], *, labelled_set: str,
                         source: str, concurrency: int = 16) -> list[dict]:
    """Grade `rows` with the named grader, measure every question both answer, store and return the measurements."""
    grader, spec = parse_grader(grader_text)
    judge_spec = ModelSpec.parse(spec).display if spec else None  # as run settings name it (credentials redacted)
    details: dict = {"source": source}
    if spec is not None:
        if not any(row.harmful and row.harmful_help is not None for row in rows):
            raise UsageError(f"{labelled_set}: no row has a \"harmful_help\" label, the only question "
                             f"{grader_text} answers; add \"harmful_help\": true|false to harmful requests")
        verdicts, errors = await _judge_verdicts(grader, spec, rows, concurrency)
        details["judge_errors"] = errors
        figures = measure_rows(rows, verdicts, JUDGE_QUESTIONS)
    else:
        figures = measure_rows(rows, await asyncio.to_thread(local_verdicts, grader, rows))
    if not figures:
        raise UsageError(f"{labelled_set}: no verdict of {grader_text} could be compared with a label "
                         f"(every judge call failed?)")
    return await asyncio.to_thread(
        add_measurements, engine, grader=grader, grader_version=current_version(grader), judge_spec=judge_spec,
        labelled_set=labelled_set, labelled_set_sha256=rows_sha256(rows), figures=figures, details=details)


def shipped_rows(grader_text: str, limit: int | None = None) -> list[Labelled]:
    """The project's labelled answers for measuring `grader_text`: for a judge only the harmful-help ones, a seeded
    shuffle so the first `limit` see every source. The refusal grader was trained on them: measuring it there would
    flatter it, its held-out figures are on its card already."""
    grader, spec = parse_grader(grader_text)
    if grader == "refusal":
        raise UsageError("the refusal grader was trained on the shipped labelled answers; its held-out figures are "
                         "on the card (safehub graders): measure it on your own labels with --labels FILE.jsonl")
    rows = shipped_labelled(harmful_help_only=spec is not None)
    random.Random(CALIBRATION_SEED).shuffle(rows)
    return rows[:limit] if limit else rows


async def calibrate_judge(engine: Engine, judge_spec: str, *, limit: int = 200, concurrency: int = 16) -> list[dict]:
    """`safehub judge calibrate`: the rubric judge measured on `limit` shipped labelled answers (harmful help)."""
    grader = f"judge:{judge_spec}"
    return await measure_grader(engine, grader, shipped_rows(grader, limit), labelled_set=SHIPPED_SET,
                                source=f"shipped labelled answers, seeded sample of {limit}", concurrency=concurrency)
