"""Trials, their nodes and the driver contract: what the engine schedules, stores and resumes.

    driver = SingleTurn(config)
    outcome = await driver.run(trial, target, sink)
    outcome.completion.text, outcome.messages, outcome.verdicts

A trial is sample x attack x epoch sent to one model. For a single call it is one request and one answer;
for a strategy (pair, tap, crescendo) it is a whole conversation or tree, each step a `Node` written to the
`sink` as it happens. A node has a `key` that names its place in the conversation ("s0.2/target": stream 0,
second level, the target's answer), the same on every run of the same search, so a resumed trial takes the
stored node back (`sink.stored(key)`) instead of asking the model again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from safehub.chat import ToolSpec
from safehub.models.base import Completion, GenerateConfig, Message
from safehub.models.spec import ModelSpec
from safehub.scorers.base import Score
from safehub.suites.schema import Sample

NodeKind = Literal["attacker_proposal", "on_topic", "target_answer", "judge_rating", "pruned", "backtrack",
                   "agent_turn", "tool_call", "tool_result", "environment_message", "shutdown_step"]
# search: a decision of the strategy itself; tool: a tool's output; environment: an agentic scenario's own turns
NodeRole = Literal["attacker", "target", "judge", "search", "tool", "environment"]


@dataclass(frozen=True)
class Trial:
    """One planned trial: the messages to send (after a static attack) and how to grade the answer."""

    suite: str
    sample: Sample
    sample_pk: int
    attack: str
    epoch: int
    messages: list[dict]
    needs_logprobs: bool = False

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.sample_pk, self.attack, self.epoch)


@dataclass
class Node:
    """One step of a conversation trial: an attacker proposal, a target answer, a judge rating, a decision
    of the search (a pruned branch, a backtracked turn), or an agent's turn, tool call or tool result. `parent` and
    `seq` number nodes within their trial."""

    kind: NodeKind
    role: NodeRole
    key: str
    parent: int | None = None
    seq: int = 0
    depth: int = 0
    text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    error: str | None = None
    model: str | None = None  # the display spec of the model asked (credentials redacted)
    rating: float | None = None  # a judge's 1-10 rating; None when it could not be read
    is_cached: bool = False
    details: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """What a driver hands back: the answer the trial is graded on, the conversation that produced it, and
    the verdicts the driver reached itself, by metric (a strategy's `attack_success_rate`)."""

    completion: Completion
    messages: list[dict]
    verdicts: dict[str, Score] = field(default_factory=dict)


class Target(Protocol):
    """The model under test (or an attacker or judge): anything with the adapters' `spec` and `generate`."""

    spec: ModelSpec

    async def generate(self, messages: list[Message], config: GenerateConfig,
                       tools: Sequence[ToolSpec] | None = None) -> Completion: ...


class NodeSink(Protocol):
    """Where a driver writes its nodes; it also holds the nodes an earlier, interrupted session stored."""

    def stored(self, key: str) -> Node | None:
        """The node stored under `key` before this session, if any: use it instead of asking a model."""

    async def add(self, node: Node) -> Node:
        """Number the node (`seq`) and queue it for the store; returns it."""


class TrialDriver(Protocol):
    """Runs one trial against the target. `is_one_call` drivers send exactly `trial.messages` once with
    `config_for(trial)`, so the engine can serve them from the response cache in one batch before they run."""

    is_one_call: ClassVar[bool]

    def config_for(self, trial: Trial) -> GenerateConfig: ...

    async def run(self, trial: Trial, target: Target, sink: NodeSink) -> Outcome: ...
