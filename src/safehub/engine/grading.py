"""Grade finished trials in batches, just before they are written.

A grader with a per-call cost (the refusal classifier's feature extraction and matrix product)
is called once per batch of a few hundred trials instead of once per trial.

Grader errors are data: a scorer that raises on a trial gives that trial a `grader_error`
verdict (value None, so no rate counts it) and the rest of its batch is graded one by one.

    score = grade_one(SCORERS["choice"], sample, completion)
    score.label, score.value   # ("grader_error", None) if the scorer raised, else its verdict
"""

from __future__ import annotations

from safehub.models.base import Completion
from safehub.scorers import SCORERS, Score, Scorer, metric_name
from safehub.store.writes import ScoreRecord, TrialRecord
from safehub.suites.schema import Sample

GRADER_ERROR = "grader_error"
MAX_ERROR_CHARS = 2000  # a scorer's message can quote a whole answer; the store needs only enough to act on


def grader_error(scorer: Scorer, exc: Exception, *, while_doing: str) -> Score:
    """The verdict stored when `scorer` raised `exc`: shown on the trial, never counted in a rate."""
    message = f"{type(exc).__name__}: {exc}"
    if len(message) > MAX_ERROR_CHARS:
        message = message[:MAX_ERROR_CHARS] + " [truncated]"
    return Score(scorer.name, scorer.version, GRADER_ERROR, None, message,
                 {"error_type": type(exc).__name__, "during": while_doing})


def grade_one(scorer: Scorer, sample: Sample, completion: Completion) -> Score:
    """`scorer.score`, with an exception turned into a `grader_error` verdict."""
    try:
        return scorer.score(sample, completion)
    except Exception as exc:  # any bug in any grader: the trial is kept and says what went wrong
        return grader_error(scorer, exc, while_doing="score")


def grade_many(scorer: Scorer, samples: list[Sample], completions: list[Completion]) -> list[Score]:
    """`scorer.score_many`; if the batch call raises (or returns the wrong number of verdicts), each
    trial is scored on its own, so only the trials the scorer really fails on get `grader_error`."""
    try:
        verdicts = list(scorer.score_many(samples, completions))
        if len(verdicts) != len(samples):
            raise ValueError(f"score_many returned {len(verdicts)} verdicts for {len(samples)} trials")
        return verdicts
    except Exception:
        return [grade_one(scorer, sample, completion) for sample, completion in zip(samples, completions, strict=True)]


def grade_records(records: list[TrialRecord]) -> None:
    """Add each ungraded record's score, one `score_many` call per scorer; clears the transient fields.

    Never raises for a scorer's error: every record leaves with a verdict, `grader_error` at worst.
    """
    by_scorer: dict[str, list[TrialRecord]] = {}
    for record in records:
        if record.sample is not None:
            by_scorer.setdefault(record.sample.scorer, []).append(record)
    for scorer_name, group in by_scorer.items():
        verdicts = grade_many(SCORERS[scorer_name], [r.sample for r in group], [r.completion for r in group])
        for record, score in zip(group, verdicts, strict=True):
            record.scores.append(ScoreRecord(score.grader, score.grader_version, metric_name(record.sample),
                                             score.label, score.value, score.explanation, score.details or None))
    for record in records:
        record.sample = record.completion = None
