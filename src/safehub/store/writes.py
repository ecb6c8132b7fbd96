"""Everything the engine writes. Plain synchronous functions; the engine calls them from one thread.

Trials are written in batches, each batch in one transaction together with its responses,
scores and cache entries, so a crash leaves whole trials or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Integer, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from safehub.metrics import is_higher_safer
from safehub.models.presets import estimated_cost_usd
from safehub.models.spec import ModelSpec
from safehub.store.schema import evaluations, models, response_cache, responses, runs, samples, scores, trials


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def _insert_ignoring_duplicates(connection: Connection, table, index_elements: list[str]):
    # Imported here: the PostgreSQL dialect module costs 25 ms of every SQLite run's start.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=index_elements)


@dataclass
class ScoreRecord:
    grader: str
    grader_version: str
    metric: str
    label: str
    value: float | None
    explanation: str = ""
    details: dict | None = None


@dataclass
class TrialRecord:
    """One finished trial as the engine hands it to the store."""

    sample_pk: int
    attack: str
    epoch: int
    messages: list[dict]
    text: str
    finish_reason: str | None
    input_tokens: int
    output_tokens: int
    first_token_logprobs: dict | None
    latency_ms: float
    attempts: int
    error: str | None
    error_kind: str | None
    is_cached: bool
    cache_key: str | None = None  # set when this response should be cached
    queue_ms: float | None = None  # waiting to be sent; latency_ms is the model calls alone
    scores: list[ScoreRecord] = field(default_factory=list)
    # Not stored: what the engine grades in batches just before the write (see engine.grading).
    sample: object | None = None
    completion: object | None = None


def upsert_model(engine: Engine, spec: ModelSpec) -> int:
    shown = spec.display
    with engine.begin() as connection:
        connection.execute(_insert_ignoring_duplicates(connection, models, ["spec"]).values(
            spec=shown, provider=spec.provider, name=spec.model or spec.provider, base_url=None if not spec.base_url
            else shown.partition("@")[2]))
        return connection.execute(select(models.c.id).where(models.c.spec == shown)).scalar_one()


def create_evaluation(engine: Engine, config: dict) -> str:
    evaluation_id = new_id()
    with engine.begin() as connection:
        connection.execute(insert(evaluations).values(id=evaluation_id, created_at=now(), config=config))
    return evaluation_id


def _owner() -> dict:
    """This process as a run's owner: a reader on this host can tell whether it is still alive."""
    return {"owner_pid": os.getpid(), "owner_host": socket.gethostname()[:255], "heartbeat_at": now()}


def create_run(engine: Engine, *, evaluation_id: str, model_id: int, model_spec: str, suites_info: list[dict],
               settings: dict, n_planned: int) -> str:
    run_id = new_id()
    started_at = now()
    with engine.begin() as connection:
        connection.execute(insert(runs).values(
            id=run_id, evaluation_id=evaluation_id, model_id=model_id, model_spec=model_spec, suites=suites_info,
            settings=settings, status="running", started_at=started_at, n_planned=n_planned, n_trials=0, n_errors=0,
            input_tokens=0, output_tokens=0, duration_s=0.0, **_owner()))
    return run_id


def claim_run(engine: Engine, run_id: str) -> None:
    """Mark a run running again, owned by this process (a resume)."""
    with engine.begin() as connection:
        connection.execute(update(runs).where(runs.c.id == run_id).values(status="running", failure=None, **_owner()))


def beat(engine: Engine, run_ids: list[str], *, lock_wait_ms: int | None = None) -> None:
    """This process is still working on these runs (see queries.run_liveness)."""
    with _transaction(engine, lock_wait_ms) as connection:
        connection.execute(update(runs).where(runs.c.id.in_(run_ids)).values(heartbeat_at=now()))


@contextmanager
def _transaction(engine: Engine, lock_wait_ms: int | None):
    """engine.begin(), waiting at most `lock_wait_ms` for SQLite's write lock instead of the connection's
    busy timeout, so the engine's writer can back off on the event loop rather than block it for 30 s."""
    with engine.connect() as connection:
        sqlite = connection.connection.driver_connection if (
            lock_wait_ms is not None and connection.dialect.name == "sqlite") else None
        if sqlite is not None:
            previous_ms = sqlite.execute("PRAGMA busy_timeout").fetchone()[0]
            sqlite.execute(f"PRAGMA busy_timeout={int(lock_wait_ms)}")
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite is not None:
                sqlite.execute(f"PRAGMA busy_timeout={int(previous_ms)}")


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode  # json.dumps builds one per call


def sample_content_hash(content: dict) -> str:
    return hashlib.sha256(_CANONICAL_JSON(content).encode()).hexdigest()


def upsert_samples(engine: Engine, suite_name: str, suite_version: str, sample_contents: list[dict],
                   content_hashes: list[str] | None = None) -> dict[str, int]:
    """Store each sample once per content; return sample id -> primary key.

    Samples already stored (every re-run and resume of a suite) are only looked up: one read of the
    suite's rows, where inserting-and-ignoring 20,000 samples cost 0.5 s of a resume's start.
    """
    hashes = content_hashes or [sample_content_hash(c) for c in sample_contents]
    wanted = {(c["id"], h) for c, h in zip(sample_contents, hashes)}
    with engine.begin() as connection:
        pks = _stored_sample_pks(connection, suite_name, wanted)
        missing = [{"suite": suite_name, "suite_version": suite_version, "sample_id": c["id"], "content_hash": h,
                    "category": c["category"], "subcategory": c.get("subcategory"), "scorer": c["scorer"],
                    "content": c} for c, h in zip(sample_contents, hashes) if c["id"] not in pks]
        if missing:
            statement = _insert_ignoring_duplicates(connection, samples, ["suite", "sample_id", "content_hash"])
            for start in range(0, len(missing), 500):
                connection.execute(statement, missing[start:start + 500])
            pks = _stored_sample_pks(connection, suite_name, wanted)
    return pks


def _stored_sample_pks(connection, suite_name: str, wanted: set[tuple[str, str]]) -> dict[str, int]:
    """sample id -> primary key of the stored samples of `suite_name` whose (id, content hash) is wanted."""
    rows = connection.execute(select(samples.c.id, samples.c.sample_id, samples.c.content_hash)
                              .where(samples.c.suite == suite_name))
    return {row.sample_id: row.id for row in rows if (row.sample_id, row.content_hash) in wanted}


def existing_trial_keys(engine: Engine, run_id: str) -> set[tuple[int, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(select(trials.c.sample_pk, trials.c.attack, trials.c.epoch)
                                  .where(trials.c.run_id == run_id))
        return {(r.sample_pk, r.attack, r.epoch) for r in rows}


def cached_responses(engine: Engine, keys: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    with engine.connect() as connection:
        for start in range(0, len(keys), 500):
            rows = connection.execute(select(response_cache).where(response_cache.c.key.in_(keys[start:start + 500])))
            found.update({row.key: row._asdict() for row in rows})
    return found


def cache_responses(engine: Engine, answers: dict) -> None:
    """Store answers (cache key -> Completion) in the response cache (engine.cache); a key already there is kept."""
    if not answers:
        return
    created_at = now()
    rows = [{"key": key, "text": c.text, "finish_reason": c.finish_reason, "input_tokens": c.input_tokens,
             "output_tokens": c.output_tokens, "first_token_logprobs": c.first_token_logprobs, "created_at": created_at,
             "tool_calls": [call.to_message() for call in c.tool_calls] or None}
            for key, c in answers.items()]
    with engine.begin() as connection:
        connection.execute(_insert_ignoring_duplicates(connection, response_cache, ["key"]), rows)


def write_trials(engine: Engine, run_id: str, records: list[TrialRecord], *, lock_wait_ms: int | None = None) -> int:
    """Store a batch in one transaction; a trial already stored is skipped. Returns how many were new.

    Any other failure raises with nothing of the batch stored (see store.faults for what it means).
    """
    if not records:
        return 0
    try:
        with _transaction(engine, lock_wait_ms) as connection:
            return _write(connection, run_id, records)
    except IntegrityError:
        # Another writer stored some of these (two resumes at once, or a commit whose connection dropped
        # before it was acknowledged and is now retried): fall back to one at a time.
        written = 0
        for record in records:
            try:
                with _transaction(engine, lock_wait_ms) as connection:
                    written += _write(connection, run_id, [record])
            except IntegrityError:
                continue
        return written


def _write(connection: Connection, run_id: str, records: list[TrialRecord]) -> int:
    created_at = now()
    trial_rows = [{"run_id": run_id, "sample_pk": r.sample_pk, "attack": r.attack, "epoch": r.epoch,
                   "messages": r.messages, "is_error": r.error is not None, "created_at": created_at}
                  for r in records]
    ids = connection.execute(insert(trials).returning(trials.c.id, sort_by_parameter_order=True),
                             trial_rows).scalars().all()
    response_rows, score_rows, cache_rows = [], [], []
    for trial_id, r in zip(ids, records):
        response_rows.append({
            "trial_id": trial_id, "text": r.text, "finish_reason": r.finish_reason, "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens, "first_token_logprobs": r.first_token_logprobs,
            "latency_ms": r.latency_ms, "queue_ms": r.queue_ms, "attempts": r.attempts, "error": r.error,
            "error_kind": r.error_kind, "is_cached": r.is_cached})
        for s in r.scores:
            score_rows.append({"trial_id": trial_id, "grader": s.grader, "grader_version": s.grader_version,
                               "metric": s.metric, "label": s.label, "value": s.value, "explanation": s.explanation,
                               "details": s.details, "is_override": False, "created_at": created_at})
        if r.cache_key and r.error is None and not r.is_cached:
            cache_rows.append({"key": r.cache_key, "text": r.text, "finish_reason": r.finish_reason,
                               "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
                               "first_token_logprobs": r.first_token_logprobs, "created_at": created_at,
                               "tool_calls": None})
    connection.execute(insert(responses), response_rows)
    if score_rows:
        connection.execute(insert(scores), score_rows)
    if cache_rows:
        connection.execute(_insert_ignoring_duplicates(connection, response_cache, ["key"]), cache_rows)
    return len(ids)


def finish_run(engine: Engine, run_id: str, status: str, session_duration_s: float, *,
               failure: str | None = None) -> str:
    """Recompute the run's counts from its trials (so resumed runs add up), set its status, store its summary.

    A run that got through its trials with every one of them an error is `failed`, its `failure` naming the
    most common error. Returns the status stored.
    """
    with engine.begin() as connection:
        run = connection.execute(select(runs.c.model_spec, runs.c.duration_s).where(runs.c.id == run_id)).one()
        totals = connection.execute(
            select(func.count(trials.c.id), func.coalesce(func.sum(func.cast(trials.c.is_error, Integer)), 0),
                   func.coalesce(func.sum(responses.c.input_tokens), 0),
                   func.coalesce(func.sum(responses.c.output_tokens), 0))
            .select_from(trials.join(responses, responses.c.trial_id == trials.c.id))
            .where(trials.c.run_id == run_id)).one()
        fresh = connection.execute(
            select(func.coalesce(func.sum(responses.c.input_tokens), 0),
                   func.coalesce(func.sum(responses.c.output_tokens), 0))
            .select_from(trials.join(responses, responses.c.trial_id == trials.c.id))
            .where(trials.c.run_id == run_id, responses.c.is_cached.is_(False))).one()
        spec = ModelSpec.parse(run.model_spec)
        cost = estimated_cost_usd(spec.provider, spec.model, int(fresh[0]), int(fresh[1]))
        if status == "completed" and 0 < int(totals[0]) == int(totals[1]):
            status, failure = "failed", f"every trial errored; most common: {_most_common_error(connection, run_id)}"
        connection.execute(update(runs).where(runs.c.id == run_id).values(
            status=status, failure=failure, finished_at=now(), n_trials=int(totals[0]), n_errors=int(totals[1]),
            input_tokens=int(totals[2]), output_tokens=int(totals[3]), cost_usd=cost,
            scores_version=runs.c.scores_version + 1,
            duration_s=(run.duration_s or 0.0) + session_duration_s))
    _store_summary(engine, run_id)
    return status


MAX_FAILURE_CHARS = 300


def _most_common_error(connection: Connection, run_id: str) -> str:
    """'KIND: MESSAGE (N of M trials)' for a run's most frequent stored error."""
    count = func.count().label("n")
    row = connection.execute(
        select(responses.c.error_kind, responses.c.error, count)
        .select_from(trials.join(responses, responses.c.trial_id == trials.c.id))
        .where(trials.c.run_id == run_id, trials.c.is_error.is_(True))
        .group_by(responses.c.error_kind, responses.c.error).order_by(count.desc(), responses.c.error).limit(1)).one()
    total = connection.execute(select(func.count()).select_from(trials).where(trials.c.run_id == run_id)).scalar_one()
    message = " ".join((row.error or "").split())[:MAX_FAILURE_CHARS]
    return f"{row.error_kind or 'unknown'}: {message} ({row.n} of {total} trials)"


def fail_run(engine: Engine, run_id: str, failure: str, session_duration_s: float, *,
             lock_wait_ms: int | None = None) -> None:
    """Mark a run `failed` with the reason, in one small write: the store has just refused one, so this
    asks for as little as it can (no counts, no summary; readers count a failed run's trials)."""
    with _transaction(engine, lock_wait_ms) as connection:
        connection.execute(update(runs).where(runs.c.id == run_id).values(
            status="failed", failure=failure[:2000], finished_at=now(),
            duration_s=func.coalesce(runs.c.duration_s, 0.0) + session_duration_s))


def _store_summary(engine: Engine, run_id: str) -> None:
    """Store the run's summary now that its verdicts changed, so the hub's first request reads one row."""
    from safehub.store.queries import store_run_summary  # the read side imports statistics: load it on use

    store_run_summary(engine, run_id)


def set_run_status(engine: Engine, run_id: str, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(runs).where(runs.c.id == run_id).values(status=status))


def add_override(engine: Engine, trial_id: int, *, is_safe: bool, by: str, reason: str) -> list[str]:
    """Store a human verdict on a trial for each metric it was graded on; it wins in every metric.

    The graders' scores stay (for comparison); returns the metrics overridden.
    """
    from safehub.errors import UsageError

    with engine.begin() as connection:
        trial = connection.execute(select(trials.c.id, trials.c.is_error, trials.c.run_id)
                                   .where(trials.c.id == trial_id)).first()
        if trial is None:
            raise UsageError(f"no trial {trial_id} in this database; `safehub show RUN_ID --json` lists trial ids")
        if trial.is_error:
            raise UsageError(f"trial {trial_id} failed and has no response to judge; resume or re-run it instead")
        metrics = sorted({row.metric for row in connection.execute(
            select(scores.c.metric).where(scores.c.trial_id == trial_id, scores.c.is_override.is_(False)))})
        if not metrics:
            raise UsageError(f"trial {trial_id} has no grader verdict to override")
        created_at = now()
        connection.execute(insert(scores), [
            {"trial_id": trial_id, "grader": "human", "grader_version": "1", "metric": metric,
             "label": "human_safe" if is_safe else "human_unsafe",
             # 1.0 is the safe verdict, except where a metric counts the unsafe outcome (attack_success_rate).
             "value": float(is_safe) if is_higher_safer(metric) else float(not is_safe),
             "explanation": reason, "details": None, "is_override": True, "created_by": by,
             "created_at": created_at} for metric in metrics])
        connection.execute(update(runs).where(runs.c.id == trial.run_id)
                           .values(scores_version=runs.c.scores_version + 1))
    _store_summary(engine, trial.run_id)
    return metrics


def bump_scores_version(engine: Engine, run_id: str) -> None:
    """Mark a run's verdicts as changed and store its recomputed summary."""
    with engine.begin() as connection:
        connection.execute(update(runs).where(runs.c.id == run_id).values(scores_version=runs.c.scores_version + 1))
    _store_summary(engine, run_id)
