"""Start or resume evaluations: validate everything first, then touch the store, then run.

Order matters for the promise that bad input writes nothing: model specs, keys, suites and the
database URL are all checked, and every base URL reached, before the database is even opened.
A write the store refuses, here or during the run, is a `StoreWriteError` (store.faults): one line.
"""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import contextmanager

from pydantic import TypeAdapter
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from safehub.agents import Sandbox
from safehub.attacks.strategies import STRATEGIES
from safehub.engine import pending as kept_answers
from safehub.engine.cache import CachedModel, ResponseCache
from safehub.engine.config import EvalConfig
from safehub.engine.plan import check_strategy_samples, check_suites, has_agentic_samples, plan_trials
from safehub.engine.progress import RunProgress
from safehub.engine.runner import RunJob, execute_runs
from safehub.errors import UsageError
from safehub.models import ModelAdapter, ModelSpec, load_model
from safehub.redact import is_redacted
from safehub.scorers.model_graders import ModelGrader, model_grader_class
from safehub.store import queries, writes
from safehub.store.db import connect, database_url, parse_url
from safehub.store.faults import write_fault
from safehub.store.nodes import stored_nodes
from safehub.suites import Sample, Suite, resolve_suite_refs
from safehub.trials.strategy import StrategyDriver

LOGPROB_TOP_K = 5
DEFAULT_STRATEGY_MODEL = "local"  # a strategy's attacker and judge: the embedded model, so it works with no key
_SAMPLE_LIST = TypeAdapter(list[Sample])


class StoredSuite:
    """A suite with each sample's stored form and content hash, computed once per invocation."""

    def __init__(self, suite: Suite, reference: str):
        self.suite = suite
        self.reference = reference
        self.contents = _SAMPLE_LIST.dump_python(suite.samples, mode="json", exclude_none=True)  # 3x one dump each
        self.hashes = [writes.sample_content_hash(content) for content in self.contents]
        self.fingerprint = hashlib.sha256("".join(self.hashes).encode()).hexdigest()

    def info(self) -> dict:
        return {"name": self.suite.name, "version": self.suite.version, "category": self.suite.category,
                "ref": self.reference, "samples": len(self.suite.samples), "fingerprint": self.fingerprint}


def build_adapters(specs: list[str], config: EvalConfig) -> list[ModelAdapter]:
    parsed = [ModelSpec.parse(spec) for spec in specs]
    seen: set[str] = set()
    for spec in parsed:
        if str(spec) in seen:
            raise UsageError(f"model {spec.display!r} is given twice; name each model once")
        seen.add(str(spec))
    return [load_model(spec, max_concurrency=config.concurrency, retry=config.retry_policy()) for spec in parsed]


async def preflight(adapters: list[ModelAdapter]) -> None:
    await asyncio.gather(*(adapter.preflight() for adapter in adapters))


async def check_sandbox(suites: list[Suite], limit: int | None) -> None:
    """An agentic trial needs a sandbox: one that cannot start (bwrap missing, no user namespaces) is a
    UsageError naming the fix now, before anything is stored."""
    if has_agentic_samples(suites, limit):
        async with Sandbox({}):
            pass


def _store_suites(engine: Engine, stored: list[StoredSuite]) -> dict[str, dict[str, int]]:
    return {s.suite.name: writes.upsert_samples(engine, s.suite.name, s.suite.version, s.contents, s.hashes)
            for s in stored}


def _job(run_id: str, adapter: ModelAdapter, config: EvalConfig, pending, n_planned: int, n_already: int,
         judge: ModelGrader | None, driver: StrategyDriver | None = None,
         response_cache: ResponseCache | None = None) -> RunJob:
    logprobs = LOGPROB_TOP_K if adapter.supports_logprobs else 0
    return RunJob(run_id=run_id, adapter=adapter, pending=pending, config=config.generation.to_config(),
                  logprob_config=config.generation.to_config(top_logprobs=logprobs) if logprobs else None,
                  concurrency=config.concurrency, use_cache=config.cache, n_planned=n_planned, n_already=n_already,
                  judge=judge, driver=driver, response_cache=response_cache)


def _judge_for(config: EvalConfig) -> ModelGrader | None:
    """One judge for the whole evaluation; a bad spec, grader name or missing key fails before anything starts.
    With an adaptive attack the judge model is the strategy's (`strategy_models`), not a grader."""
    grader = model_grader_class(config.judge_grader)  # checked even when no judge is given
    return grader(config.judge) if config.judge and not config.attack else None


def strategy_models(config: EvalConfig) -> dict[str, ModelAdapter]:
    """The attacker and judge adapters of an adaptive attack ({} without one); one adapter when both name the
    same model, so its concurrency limit covers both roles. A bad spec or missing key names the flag."""
    if config.attack is None:
        return {}
    built: dict[str, ModelAdapter] = {}
    models = {}
    for role, text in (("attacker", config.attacker), ("judge", config.judge)):
        try:
            spec = ModelSpec.parse(text or DEFAULT_STRATEGY_MODEL)
            if str(spec) not in built:
                built[str(spec)] = load_model(spec, max_concurrency=config.concurrency, retry=config.retry_policy())
        except UsageError as exc:
            raise UsageError(f"--{role}: {exc}") from None
        models[role] = built[str(spec)]
    return models


def _strategy_driver(config: EvalConfig, models: dict[str, ModelAdapter], cache: ResponseCache) -> StrategyDriver | None:
    if config.attack is None:
        return None
    # The attacker's seeds carry the epoch (attacks.strategies), so its and the judge's cache entries need none.
    cached = (lambda model: CachedModel(model, cache, epoch=0)) if config.cache else (lambda model: model)
    strategy = STRATEGIES[config.attack]
    return StrategyDriver(strategy, strategy.options(**config.strategy), attacker=cached(models["attacker"]),
                          judge=cached(models["judge"]), target_config=config.generation.to_config(),
                          max_queries=config.max_queries)


def _distinct(models: list[ModelAdapter]) -> list[ModelAdapter]:
    return list({id(model): model for model in models}.values())


@contextmanager
def _store_faults(engine: Engine):
    """A write the store refuses while setting up or finishing runs is one line, as during them."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise write_fault(engine, exc) from None


async def _run_with_judges(engine: Engine, jobs: list[RunJob], judges: list[ModelGrader], progress, stop,
                           store_wait_s: float, strategy_adapters: list[ModelAdapter] = ()) -> None:
    try:
        await execute_runs(engine, jobs, progress=progress, stop=stop, store_wait_s=store_wait_s)
    finally:
        for judge in judges:
            await judge.aclose()
        for model in _distinct(list(strategy_adapters)):
            await model.aclose()


async def start_evaluation(config: EvalConfig, db: str | None, progress: RunProgress | None,
                           stop: asyncio.Event | None = None, *, config_source: str = "flags") -> list[str]:
    """Create one run per model, grouped as an evaluation, and run them all concurrently. Returns run ids."""
    parse_url(database_url(db))
    suite_refs = resolve_suite_refs(config.suites)
    suites = [suite for suite, _ in suite_refs]
    check_suites(suites)
    if config.attack:
        check_strategy_samples(suites, config.attack, config.limit)
    if not config.attack:  # an adaptive attack runs no agentic sample
        await check_sandbox(suites, config.limit)
    adapters = build_adapters(config.models, config)
    judge = _judge_for(config)
    models = strategy_models(config)
    await preflight(adapters + ([judge.model] if judge else []) + _distinct(list(models.values())))
    engine = await asyncio.to_thread(connect, db)
    with _store_faults(engine):
        return await _start(engine, config, suite_refs, adapters, judge, progress, stop, config_source, models)


async def _start(engine: Engine, config: EvalConfig, suite_refs, adapters: list[ModelAdapter],
                 judge: ModelGrader | None, progress: RunProgress | None, stop, config_source: str,
                 models: dict[str, ModelAdapter]) -> list[str]:
    suites = [suite for suite, _ in suite_refs]
    stored = [StoredSuite(suite, reference) for suite, reference in suite_refs]
    sample_pks = await asyncio.to_thread(_store_suites, engine, stored)
    suites_info = [s.info() for s in stored]
    evaluation_id = await asyncio.to_thread(writes.create_evaluation, engine, {
        "models": [a.spec.display for a in adapters], "source": config_source, **config.stored()})
    planned = plan_trials(suites, sample_pks, limit=config.limit, epochs=config.epochs, strategy=config.attack)
    response_cache = ResponseCache(engine)
    driver = _strategy_driver(config, models, response_cache)
    jobs = []
    for adapter in adapters:
        model_id = await asyncio.to_thread(writes.upsert_model, engine, adapter.spec)
        run_id = await asyncio.to_thread(
            writes.create_run, engine, evaluation_id=evaluation_id, model_id=model_id,
            model_spec=adapter.spec.display, suites_info=suites_info, settings=config.stored(),
            n_planned=len(planned))
        jobs.append(_job(run_id, adapter, config, list(planned), len(planned), 0, judge, driver, response_cache))
        if progress is not None:
            progress.add_run(run_id, f"{run_id} {adapter.spec.display}", len(planned))
    await _run_with_judges(engine, jobs, [judge] if judge else [], progress, stop, config.store_wait_s,
                           list(models.values()))
    return [job.run_id for job in jobs]


async def resume_runs(run_ids: list[str], db: str | None, progress: RunProgress | None,
                      stop: asyncio.Event | None = None) -> list[str]:
    """Run only the trials each run is missing, with the settings it was started with."""
    parse_url(database_url(db))
    engine = await asyncio.to_thread(connect, db)
    with _store_faults(engine):
        return await _resume(engine, run_ids, progress, stop)


async def _resume(engine: Engine, run_ids: list[str], progress: RunProgress | None, stop) -> list[str]:
    prepared = []
    for run_id in run_ids:
        run = await asyncio.to_thread(queries.get_run, engine, run_id)
        if run["status"] == "running":  # its owner is alive (queries.run_liveness): two would pay twice
            raise UsageError(f"run {run_id} is still running (process {run['owner_pid']} on {run['owner_host']}); "
                             "wait for it, or stop it (Ctrl-C) and resume then")
        if any(is_redacted(text or "") for text in (run["model_spec"], run["settings"].get("judge"),
                                                    run["settings"].get("attacker"))):
            raise UsageError(f"run {run_id}: a base URL of its model, judge or attacker carried credentials, which "
                             "are never stored; start a new run instead")
        refs = list(dict.fromkeys(info["ref"] for info in run["suites"]))
        config = EvalConfig.model_validate({**run["settings"], "models": [run["model_spec"]], "suites": refs})
        stored = [StoredSuite(suite, reference) for suite, reference in resolve_suite_refs(refs)]
        if [s.suite.name for s in stored] != [info["name"] for info in run["suites"]]:
            raise UsageError(f"run {run_id}: its suites are no longer the same set; start a new run")
        suites = [s.suite for s in stored]
        for suite, fresh, info in zip(suites, stored, run["suites"]):
            if fresh.fingerprint != info["fingerprint"]:
                raise UsageError(f"run {run_id}: suite {suite.name!r} changed since the run started "
                                 f"(was version {info['version']}, now {suite.version}); start a new run")
        check_suites(suites)
        if not config.attack:
            await check_sandbox(suites, config.limit)
        prepared.append((run, config, stored, build_adapters(config.models, config)[0]))
    judges = {(config.judge, config.judge_grader): _judge_for(config) for _, config, _, _ in prepared
              if config.judge and not config.attack}
    models = {run["id"]: strategy_models(config) for run, config, _, _ in prepared}
    strategy_adapters = [model for built in models.values() for model in built.values()]
    await preflight([adapter for *_, adapter in prepared] + [judge.model for judge in judges.values()]
                    + _distinct(strategy_adapters))
    jobs = []
    response_cache = ResponseCache(engine)
    for run, config, stored, adapter in prepared:
        sample_pks = await asyncio.to_thread(_store_suites, engine, stored)
        planned = plan_trials([s.suite for s in stored], sample_pks, limit=config.limit, epochs=config.epochs,
                              strategy=config.attack)
        stored = await asyncio.to_thread(writes.existing_trial_keys, engine, run["id"])
        pending = [trial for trial in planned if trial.key not in stored]
        await asyncio.to_thread(writes.claim_run, engine, run["id"])
        jobs.append(_job(run["id"], adapter, config, pending, len(planned), len(planned) - len(pending),
                         judges.get((config.judge, config.judge_grader)),
                         _strategy_driver(config, models[run["id"]], response_cache), response_cache))
        jobs[-1].kept = kept_answers.load(run["id"])  # answers the store refused last time: stored, not asked again
        # The steps of conversations a kill cut short: replayed, so no model is asked for them again.
        jobs[-1].stored_nodes = await asyncio.to_thread(stored_nodes, engine, run["id"])
        if progress is not None:
            progress.add_run(run["id"], f"{run['id']} {adapter.spec.display}", len(planned),
                             len(planned) - len(pending))
    await _run_with_judges(engine, jobs, list(judges.values()), progress, stop,
                           min(config.store_wait_s for _, config, _, _ in prepared), strategy_adapters)
    return [job.run_id for job in jobs]
