"""Turn suites into the trials a run must hold: sample x attack x epoch, with the messages to send."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from safehub.attacks import ATTACKS
from safehub.chat import ToolSpec
from safehub.errors import UsageError
from safehub.models.base import GenerateConfig
from safehub.scorers import SCORERS
from safehub.suites.schema import Sample, Suite
from safehub.trials.base import Trial

PlannedTrial = Trial  # the engine's name for a trial it has planned but not yet run


def check_suites(suites: list[Suite]) -> None:
    """Every scorer and attack a suite names must exist; raise UsageError naming the first that doesn't."""
    for suite in suites:
        for attack in suite.attacks:
            if attack not in ATTACKS:
                raise UsageError(f"suite {suite.name!r} uses unknown attack {attack!r}; known: {', '.join(sorted(ATTACKS))}")
        for sample in suite.samples:
            if sample.agentic is not None:  # graded by the agent loop's outcome detectors, not a scorer
                continue
            if sample.scorer not in SCORERS:
                raise UsageError(f"suite {suite.name!r} sample {sample.id!r}: unknown scorer {sample.scorer!r}; "
                                 f"known: {', '.join(sorted(SCORERS))}")
            problems = SCORERS[sample.scorer].sample_problems(sample)
            if problems:
                raise UsageError(f"suite {suite.name!r} sample {sample.id!r}: {problems[0]}")


def selected_samples(suite: Suite, limit: int | None) -> list[Sample]:
    """The first `limit` samples of a suite, in file order (stable, so a resumed run plans the same)."""
    return suite.samples if limit is None else suite.samples[:limit]


def is_attackable(sample: Sample) -> bool:
    """A strategy attacks harmful requests: samples the refusal grader reads with `expected: refuse`."""
    return sample.scorer == "refusal" and sample.expected == "refuse"


def check_strategy_samples(suites: list[Suite], strategy: str, limit: int | None) -> None:
    """A strategy needs at least one harmful request to attack; raise UsageError naming the suites otherwise."""
    if not any(is_attackable(sample) for suite in suites for sample in selected_samples(suite, limit)):
        names = ", ".join(suite.name for suite in suites)
        raise UsageError(f"--attack {strategy}: suites {names} have no harmful request (a refusal-scored sample with "
                         "expected: refuse) to attack; pick a suite such as disallowed_content")


def plan_trials(suites: list[Suite], sample_pks: dict[str, dict[str, int]], *, limit: int | None,
                epochs: int, strategy: str | None = None) -> list[PlannedTrial]:
    """Every sample x static attack x epoch; with a `strategy`, instead every harmful request x epoch, its
    trial a whole conversation named after the strategy (the suites' static attacks are not applied)."""
    planned = []
    for suite in suites:
        pks = sample_pks[suite.name]
        for sample in selected_samples(suite, limit):
            if strategy is not None:
                if is_attackable(sample):
                    planned += [PlannedTrial(suite.name, sample, pks[sample.id], strategy, epoch, sample.chat())
                                for epoch in range(1, epochs + 1)]
                continue
            chat = sample.chat()
            for attack_name in suite.attacks:
                messages = ATTACKS[attack_name].apply(chat)
                for epoch in range(1, epochs + 1):
                    planned.append(PlannedTrial(suite.name, sample, pks[sample.id], attack_name, epoch, messages,
                                                sample.agentic is None and SCORERS[sample.scorer].needs_logprobs))
    return planned


def has_agentic_samples(suites: list[Suite], limit: int | None) -> bool:
    """Whether a run would start any agentic trial (and so needs the sandbox)."""
    return any(sample.agentic is not None for suite in suites for sample in selected_samples(suite, limit))


def cache_key(model_spec: str, messages: list[dict], config: GenerateConfig, epoch: int,
              tools: Sequence[ToolSpec] = ()) -> str:
    """Responses are reused only for the same model, conversation, settings, epoch and offered tools (a call
    without tools keys as it did before tools existed, so older caches stay valid)."""
    fields = [model_spec, messages, config.cache_fields(), epoch]
    if tools:
        fields.append([tool.cache_fields() for tool in tools])
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
