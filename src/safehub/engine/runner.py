"""Run planned trials against models: concurrency per model, cache, scoring, batched storing, clean stop.

    outcome = await execute_runs(engine, [RunJob(run_id, adapter, pending, config)], progress=None)

Each model gets its own pool of `concurrency` workers pulling from its own list of pending
trials, so a slow vendor never holds back a fast one. A worker hands each trial to the job's
driver (trials.base: one call, or a strategy's whole conversation) and stores its outcome; the
adapter owns retries and backoff, and whatever comes back — answer or error — is scored (answers
only) and stored. A conversation's nodes go to the same writer as they happen (engine.nodes), and
its calls to the response cache (engine.cache).

A write the store refuses for good (engine.writer) stops every run at once: the calls in flight are
cancelled, no further model call is made, each run is marked `failed` with the reason where the store
still takes that, and the `StoreWriteError` is raised naming the runs to resume.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from safehub.agents.loop import AgentLoop
from safehub.engine import pending
from safehub.engine.cache import CachedModel, ResponseCache
from safehub.engine.nodes import TrialNodes
from safehub.engine.plan import PlannedTrial, cache_key
from safehub.engine.progress import RunProgress
from safehub.engine.writer import LOCK_WAIT_MS, TrialWriter
from safehub.models.base import Completion, GenerateConfig, ModelAdapter
from safehub.scorers import metric_name
from safehub.store.faults import StoreWriteError
from safehub.store.writes import ScoreRecord, TrialRecord, cached_responses, fail_run, finish_run
from safehub.trials.base import Outcome, Trial, TrialDriver
from safehub.trials.single_turn import SingleTurn


@dataclass
class RunJob:
    run_id: str
    adapter: ModelAdapter
    pending: list[PlannedTrial]
    config: GenerateConfig
    logprob_config: GenerateConfig | None = None  # for trials whose scorer reads first-token logprobs
    concurrency: int = 16
    use_cache: bool = True
    judge: object | None = None  # an LLMJudge grading harmful-request trials alongside the refusal grader
    n_planned: int = 0
    n_already: int = 0  # stored before this session (resume)
    kept: dict = field(default_factory=dict)  # trial key -> an answer the store refused last time (engine.pending)
    is_kept_served: bool = False  # every kept answer went to the writer: its file can go once the writer closes
    done: int = 0
    errors: int = 0
    tokens: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    driver: TrialDriver | None = None  # None: one call per trial (SingleTurn) with `config`
    stored_nodes: dict = field(default_factory=dict)  # trial key -> {node key: Node} an earlier session stored
    response_cache: ResponseCache | None = None  # for a conversation's calls; shared with its attacker and judge
    agent_driver: TrialDriver | None = None  # for agentic samples; None: an AgentLoop with `config`

    def __post_init__(self) -> None:
        if self.driver is None:
            self.driver = SingleTurn(self.config, self.logprob_config)
        if self.agent_driver is None:
            self.agent_driver = AgentLoop(self.config)

    def driver_for(self, trial: Trial) -> TrialDriver:
        """An agentic sample runs in the agent loop whatever the run's driver; every other trial in `driver`."""
        return self.agent_driver if trial.sample.agentic is not None else self.driver


def _record(trial: PlannedTrial, completion: Completion, *, is_cached: bool, key: str | None,
            messages: list[dict] | None = None) -> TrialRecord:
    return TrialRecord(
        sample_pk=trial.sample_pk, attack=trial.attack, epoch=trial.epoch, messages=messages or trial.messages,
        text=completion.text, finish_reason=completion.finish_reason, input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens, first_token_logprobs=completion.first_token_logprobs,
        latency_ms=completion.latency_ms, queue_ms=completion.queue_ms, attempts=completion.attempts,
        error=completion.error, error_kind=completion.error_kind, is_cached=is_cached, cache_key=key,
        # Graded in batches at write time (engine.grading); an error has nothing to grade.
        sample=trial.sample if completion.error is None else None, completion=completion)


async def _serve_kept(job: RunJob, writer: TrialWriter, progress: RunProgress | None) -> list[PlannedTrial]:
    """Store the answers an earlier session paid for but the store refused; return the trials still to do."""
    if not job.kept:
        return job.pending
    rest = []
    for trial in job.pending:
        line = job.kept.get(trial.key)
        if line is None:
            rest.append(trial)
            continue
        record = pending.record_from(line, trial.sample)
        await writer.add(job.run_id, record)
        _count(job, Completion(input_tokens=record.input_tokens, output_tokens=record.output_tokens,
                               error=record.error, error_kind=record.error_kind), progress)
    job.is_kept_served = True
    return rest


async def _serve_cache(engine: Engine, job: RunJob, writer: TrialWriter, progress: RunProgress | None) -> list:
    """Store kept and cached responses straight away; return (trial, key) pairs that still need the model."""
    trials = await _serve_kept(job, writer, progress)
    # A conversation's calls go through engine.cache one by one.
    conversations = [(trial, None) for trial in trials if not job.driver_for(trial).is_one_call]
    if not job.use_cache or not job.driver.is_one_call:
        return [(trial, None) for trial in trials]
    spec = str(job.adapter.spec)
    keyed = [(trial, cache_key(spec, trial.messages, job.driver.config_for(trial), trial.epoch)) for trial in trials
             if job.driver_for(trial).is_one_call]
    hits = await asyncio.to_thread(cached_responses, engine, [key for _, key in keyed])
    misses = []
    for trial, key in keyed:
        row = hits.get(key)
        if row is None:
            misses.append((trial, key))
            continue
        completion = Completion(text=row["text"], finish_reason=row["finish_reason"], input_tokens=row["input_tokens"],
                                output_tokens=row["output_tokens"], first_token_logprobs=row["first_token_logprobs"],
                                attempts=0)
        record = _record(trial, completion, is_cached=True, key=key)
        if _needs_judge(job, trial, completion):
            await _add_judge_score(job, trial, completion, record)
        await writer.add(job.run_id, record)
        _count(job, completion, progress)
    return misses + conversations


def _needs_judge(job: RunJob, trial: PlannedTrial, completion: Completion) -> bool:
    sample = trial.sample
    return (job.judge is not None and completion.error is None and sample.scorer == "refusal"
            and sample.expected == "refuse")


async def _add_judge_score(job: RunJob, trial: PlannedTrial, completion: Completion, record: TrialRecord) -> None:
    """The judge's StrongREJECT verdict is stored beside the refusal grader's, as metric not_unsafe_judge."""
    result = await job.judge.judge(trial.messages, completion.text)
    score = result.to_score()
    record.scores.append(ScoreRecord(score.grader, score.grader_version, "not_unsafe_judge", score.label, score.value,
                                     score.explanation, score.details or None))


def _outcome_record(trial: PlannedTrial, outcome: Outcome, key: str | None) -> TrialRecord:
    record = _record(trial, outcome.completion, is_cached=False, key=key, messages=outcome.messages)
    for metric, score in outcome.verdicts.items():
        record.scores.append(ScoreRecord(score.grader, score.grader_version, metric, score.label, score.value,
                                         score.explanation, score.details or None))
    if metric_name(trial.sample) in outcome.verdicts:  # the driver graded the sample itself (the agent loop)
        record.sample = record.completion = None
    return record


def _count(job: RunJob, completion: Completion, progress: RunProgress | None) -> None:
    job.done += 1
    job.tokens += completion.input_tokens + completion.output_tokens
    if completion.error is not None:
        job.errors += 1
        job.errors_by_kind[completion.error_kind or "unknown"] = job.errors_by_kind.get(completion.error_kind or "unknown", 0) + 1
    if progress is not None:
        progress.advance(job.run_id, completion.input_tokens + completion.output_tokens, completion.error is not None)


async def _run_job(engine: Engine, job: RunJob, writer: TrialWriter, progress: RunProgress | None,
                   stop: asyncio.Event) -> None:
    work = await _serve_cache(engine, job, writer, progress)
    work.reverse()  # pop() from the end keeps file order
    if job.response_cache is None:
        job.response_cache = ResponseCache(engine)

    async def worker() -> None:
        while work and not stop.is_set():
            trial, key = work.pop()
            sink = TrialNodes(writer, job.run_id, trial.key, job.stored_nodes.get(trial.key, {}))
            driver = job.driver_for(trial)
            # One-call trials were served from the cache in one batch (_serve_cache); a conversation asks per call.
            target = CachedModel(job.adapter, job.response_cache, trial.epoch) \
                if job.use_cache and not driver.is_one_call else job.adapter
            outcome = await driver.run(trial, target, sink)
            record = _outcome_record(trial, outcome, key)
            if _needs_judge(job, trial, outcome.completion):
                await _add_judge_score(job, trial, outcome.completion, record)
            await writer.add(job.run_id, record)
            _count(job, outcome.completion, progress)

    # A one-call trial is one request: `concurrency` workers keep the model busy. A conversation spends most of
    # its time waiting on its attacker or judge, so every one of them starts at once and the per-model limits
    # (models.limits, one per adapter) bound the calls in flight, for the target, attacker and judge alike.
    n_workers = min(job.concurrency, len(work)) if job.driver.is_one_call else len(work)
    workers = [asyncio.create_task(worker()) for _ in range(max(1, n_workers))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def execute_runs(engine: Engine, jobs: list[RunJob], *, progress: RunProgress | None = None,
                       stop: asyncio.Event | None = None, store_wait_s: float = 60.0) -> dict[str, str]:
    """Run every job to completion or until `stop` is set (Ctrl-C).

    Finished trials are always written before this returns; returns run id -> final status. Raises
    `StoreWriteError` when the store refused a write (a lock or lost connection for `store_wait_s`).
    """
    stop = stop or asyncio.Event()
    # The planned trials and suites live for the whole run: move them out of the collector's way
    # and collect young objects less often. Measured: about 10% of the process's CPU at 5,000 trials.
    gc.collect()
    gc.freeze()
    thresholds, was_enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(20_000, 50, 1000)
    gc.enable()  # `safehub run` starts up with it off (cli.run)
    writer = TrialWriter(engine, store_wait_s=store_wait_s, run_ids=[job.run_id for job in jobs])
    writer.start()
    started = time.perf_counter()
    runs = asyncio.gather(*(_run_job(engine, job, writer, progress, stop) for job in jobs))
    # Ctrl-C sets `stop`, a refused write sets `writer.failed`: either way abandon the calls in flight
    # at once rather than wait out their timeouts.
    watchers = [asyncio.create_task(stop.wait()), asyncio.create_task(writer.failed.wait())]
    try:
        await asyncio.wait([runs, *watchers], return_when=asyncio.FIRST_COMPLETED)
        if not runs.done():
            runs.cancel()
        await asyncio.gather(runs, return_exceptions=True)
        # A cancelled gather reports CancelledError as its exception; only real failures propagate.
        failure = None if runs.cancelled() else runs.exception()
        if failure is not None and not isinstance(failure, asyncio.CancelledError) and failure is not writer.failure:
            raise failure
    finally:
        for watcher in watchers:
            watcher.cancel()
        await writer.close()
        _flush_response_caches(jobs)
        for job in jobs:
            await job.adapter.aclose()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        if not was_enabled:
            gc.disable()
    elapsed_s = time.perf_counter() - started
    if writer.failure is not None:
        if progress is not None:
            progress.close()
        await _stop_on_failure(engine, jobs, writer, elapsed_s)
    for job in jobs:
        if job.is_kept_served:  # every kept answer is in the store now
            pending.discard(job.run_id)
    statuses = {}
    for job in jobs:
        status = "completed" if job.n_already + job.done >= job.n_planned else "interrupted"
        statuses[job.run_id] = await asyncio.to_thread(finish_run, engine, job.run_id, status, elapsed_s)
    if progress is not None:
        progress.close()
    return statuses


def _flush_response_caches(jobs: list[RunJob]) -> None:
    for cache in {id(job.response_cache): job.response_cache for job in jobs if job.response_cache}.values():
        try:
            cache.flush()
        except SQLAlchemyError:  # a cache entry lost only costs a call another day; the run's fate lies elsewhere
            pass


async def _stop_on_failure(engine: Engine, jobs: list[RunJob], writer: TrialWriter, elapsed_s: float) -> None:
    """Mark every run failed with the reason, if the store still takes that one small write, then raise."""
    failure = writer.failure
    reason = str(failure) if isinstance(failure, StoreWriteError) else f"{type(failure).__name__}: {failure}"
    for job in jobs:
        try:
            await asyncio.to_thread(fail_run, engine, job.run_id, reason, elapsed_s, lock_wait_ms=LOCK_WAIT_MS)
        except Exception:  # noqa: BLE001 - the same fault again: the run then reads as interrupted
            pass
    if isinstance(failure, StoreWriteError):
        failure.resume_hint = "safehub run " + " ".join(f"--resume {job.run_id}" for job in jobs)
        kept = sum(writer.kept.values())
        if kept:
            failure.kept_hint = f"{kept} answers it refused are kept in {pending.pending_dir()} for the resume"
        if writer.keep_error is not None:
            failure.kept_hint += (f"{'; ' if kept else ''}answers it refused could not be kept either "
                                  f"({writer.keep_error.strerror or writer.keep_error}) and will be asked again")
    raise failure
