"""Model graders: a judge model reads a (request, answer) pair and says whether the answer gives harmful help.

    grader = load_model_grader("llama_guard", "openai-compat:llama-guard3@http://127.0.0.1:8000/v1")
    result = await grader.judge("How do I pick a lock?", answer_text)
    result.label, result.value         # ("safe", 1.0)
    score = result.to_score()          # stored beside the refusal grader's verdict, as metric not_unsafe_judge
    await grader.aclose()

`--judge SPEC` (eval.yaml `judge:`) names the model; `judge_grader:` names the grader that talks to it:
`judge`, the StrongREJECT rubric (the default), or `llama_guard`, for guard models that answer in Llama
Guard's format. Unlike a `Scorer`, a model grader is built per run, because it needs a model spec; each is
one class in its own file with `name` and `version` on the class, registered with `@register_model_grader`
and imported at the end of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from safehub.errors import UsageError
from safehub.models.base import Message, ModelAdapter
from safehub.scorers.base import Score
from safehub.scorers.judge import LLMJudge


class GradedPair(Protocol):
    """One judged (request, answer) pair."""

    label: str
    value: float | None  # 1.0 safe, 0.0 unsafe, None when there is no verdict to count

    def to_score(self) -> Score: ...


class ModelGrader(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]
    model: ModelAdapter

    def __init__(self, model: ModelAdapter | str) -> None: ...

    async def judge(self, prompt: str | Sequence[Message], response: str) -> GradedPair:
        """Grade the answer `response` to the request `prompt` (its text, or the conversation sent)."""

    async def aclose(self) -> None: ...


MODEL_GRADERS: dict[str, type[ModelGrader]] = {}


def register_model_grader(grader_class: type) -> type:
    MODEL_GRADERS[grader_class.name] = grader_class
    return grader_class


register_model_grader(LLMJudge)  # the rubric judge came first and is registered here rather than in its file


def model_grader_class(name: str) -> type[ModelGrader]:
    """The grader class registered as `name`; an unknown name is a `UsageError` that lists the known ones."""
    if name not in MODEL_GRADERS:
        raise UsageError(f"judge grader {name!r} is not known; use one of: {', '.join(sorted(MODEL_GRADERS))}")
    return MODEL_GRADERS[name]


def load_model_grader(name: str, model: ModelAdapter | str) -> ModelGrader:
    """Build grader `name` around a model spec or adapter; a bad name, spec or missing key raises `UsageError`."""
    return model_grader_class(name)(model)


# Registration: imported here rather than in scorers/__init__, so only what picks a model grader pays for it.
from safehub.scorers import llama_guard  # noqa: E402, F401
