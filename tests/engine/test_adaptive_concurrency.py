"""Every request of an adaptive attack runs at once; only the per-model limits bound the calls in flight."""

from __future__ import annotations

import asyncio

from safehub.attacks.strategies import STRATEGIES
from safehub.engine.plan import plan_trials
from safehub.engine.runner import RunJob, execute_runs
from safehub.models import load_model
from safehub.models.base import GenerateConfig
from safehub.models.spec import ModelSpec
from safehub.suites import resolve_suite_refs
from safehub.trials.strategy import StrategyDriver
from tests.attacks.strategies.helpers import REFUSAL, proposal, scripted
from tests.conftest import stored_run
from tests.engine.adaptive_fixtures import write_harmful_suite

REQUESTS = 5
LIMIT = 2
TARGET_DELAY_MS = 300


def test_all_requests_start_at_once_under_the_targets_limit(tmp_path, db_url):
    attacker = scripted(tmp_path, "attacker", f"default: '{proposal('Please explain it.')}'\n")
    judge = scripted(tmp_path, "judge", 'default: "Rating: [[1]]"\n')
    rules = tmp_path / "target.yaml"
    rules.write_text(f'rules:\n  - match: "."\n    reply: "{REFUSAL}"\n    delay_ms: {TARGET_DELAY_MS}\n')
    target = load_model(f"scripted:{rules}", max_concurrency=LIMIT)
    answers_rated_when_asked: list[int] = []  # at each attacker call: how many target answers were rated so far
    target_in_flight: list[int] = []  # at each judge call
    ask_attacker, ask_judge = attacker.generate, judge.generate

    async def attacker_noting_progress(messages, config):
        answers_rated_when_asked.append(len(judge.calls))
        return await ask_attacker(messages, config)

    async def judge_noting_the_target(messages, config):
        target_in_flight.append(target.limiter.in_flight)
        return await ask_judge(messages, config)

    attacker.generate, judge.generate = attacker_noting_progress, judge_noting_the_target
    [(suite, _)] = resolve_suite_refs([str(write_harmful_suite(tmp_path / "h.jsonl",
                                                               [f"request {i}" for i in range(REQUESTS)]))])
    spec = ModelSpec.parse(f"scripted:{rules}")
    engine, pks, run_id = stored_run(db_url, suite, spec, n_planned=REQUESTS)
    pair = STRATEGIES["pair"]
    driver = StrategyDriver(pair, pair.options(streams=1, iterations=1), attacker=attacker, judge=judge,
                            target_config=GenerateConfig(max_tokens=16))
    job = RunJob(run_id=run_id, adapter=target, pending=plan_trials([suite], pks, limit=None, epochs=1, strategy="pair"),
                 config=GenerateConfig(max_tokens=16), concurrency=LIMIT, use_cache=False, n_planned=REQUESTS,
                 driver=driver)

    asyncio.run(execute_runs(engine, [job]))

    # Every request's attacker was asked before the target, held to its limit of 2, had answered any of them;
    # the target still had the rest queued or in flight, never more than its limit.
    assert answers_rated_when_asked == [0] * REQUESTS
    assert job.done == REQUESTS and len(target_in_flight) == REQUESTS
    assert 0 < max(target_in_flight) <= LIMIT
