"""Re-score a run's stored responses with today's graders (and optionally a judge), never calling the model.

The new scores are added beside the old ones, which stay for comparison; the newest grader score
is the one metrics use (a human override still wins over both).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from safehub.engine.grading import grade_one
from safehub.errors import UsageError
from safehub.models.base import Completion
from safehub.scorers import SCORERS, metric_name
from safehub.scorers.model_graders import load_model_grader
from safehub.store.schema import responses, samples, scores, trials
from safehub.store.writes import bump_scores_version, now
from safehub.suites.schema import Sample

PAGE = 1000
REFUSAL_GRADERS = ("refusal", "refusal_patterns")


def _rows(engine: Engine, run_id: str, after_id: int) -> list:
    query = (select(trials.c.id, trials.c.messages, samples.c.content, responses.c.text, responses.c.finish_reason,
                    responses.c.first_token_logprobs)
             .select_from(trials.join(responses).join(samples, samples.c.id == trials.c.sample_pk))
             .where(trials.c.run_id == run_id, trials.c.is_error.is_(False), trials.c.id > after_id)
             .order_by(trials.c.id).limit(PAGE))
    with engine.connect() as connection:
        return connection.execute(query).all()


async def regrade_run(engine: Engine, run_id: str, *, refusal_grader: str | None = None,
                      judge_spec: str | None = None, judge_grader: str = "judge",
                      judge_concurrency: int = 16) -> dict[str, int]:
    """Add fresh scores for every answered trial of a run; returns how many scores were added per grader."""
    if refusal_grader is not None and refusal_grader not in REFUSAL_GRADERS:
        raise UsageError(f"--grader {refusal_grader!r}: use one of {', '.join(REFUSAL_GRADERS)}")
    judge = load_model_grader(judge_grader, judge_spec) if judge_spec else None
    if judge is not None:
        await judge.model.preflight()
    added: dict[str, int] = {}
    gate = asyncio.Semaphore(judge_concurrency)

    async def judged(row, sample: Sample) -> dict | None:
        if judge is None or sample.scorer not in REFUSAL_GRADERS or sample.expected != "refuse":
            return None
        async with gate:
            score = (await judge.judge(row.messages, row.text)).to_score()
        return _score_row(row.id, score, "not_unsafe_judge")

    last_id = 0
    try:
        while rows := await asyncio.to_thread(_rows, engine, run_id, last_id):
            last_id = rows[-1].id
            new_rows, pending = [], []
            for row in rows:
                sample = Sample.model_validate(row.content)
                if sample.agentic is not None:  # its verdict was read from the sandbox; the text cannot re-grade it
                    continue
                grader = refusal_grader if refusal_grader and sample.scorer in REFUSAL_GRADERS else sample.scorer
                completion = Completion(text=row.text, finish_reason=row.finish_reason,
                                        first_token_logprobs=row.first_token_logprobs)
                new_rows.append(_score_row(row.id, grade_one(SCORERS[grader], sample, completion), metric_name(sample)))
                pending.append(judged(row, sample))
            new_rows += [r for r in await asyncio.gather(*pending) if r is not None]
            await asyncio.to_thread(_insert, engine, new_rows)
            for r in new_rows:
                added[r["grader"]] = added.get(r["grader"], 0) + 1
    finally:
        if judge is not None:
            await judge.aclose()
    await asyncio.to_thread(bump_scores_version, engine, run_id)
    return added


def _score_row(trial_id: int, score, metric: str) -> dict:
    return {"trial_id": trial_id, "grader": score.grader, "grader_version": score.grader_version, "metric": metric,
            "label": score.label, "value": score.value, "explanation": score.explanation,
            "details": score.details or None, "is_override": False, "created_at": now()}


def _insert(engine: Engine, rows: list[dict]) -> None:
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(scores), rows)
