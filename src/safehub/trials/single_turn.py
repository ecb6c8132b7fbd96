"""The one-call trial: send the trial's messages to the target once, grade the answer.

    outcome = await SingleTurn(config).run(trial, target, sink)   # writes no nodes
"""

from __future__ import annotations

from typing import ClassVar

from safehub.models.base import GenerateConfig
from safehub.trials.base import NodeSink, Outcome, Target, Trial


class SingleTurn:
    is_one_call: ClassVar[bool] = True

    def __init__(self, config: GenerateConfig, logprob_config: GenerateConfig | None = None):
        self.config = config
        self.logprob_config = logprob_config  # for trials whose scorer reads first-token logprobs

    def config_for(self, trial: Trial) -> GenerateConfig:
        return self.logprob_config if trial.needs_logprobs and self.logprob_config is not None else self.config

    async def run(self, trial: Trial, target: Target, sink: NodeSink) -> Outcome:
        completion = await target.generate(trial.messages, self.config_for(trial))
        return Outcome(completion, trial.messages)
