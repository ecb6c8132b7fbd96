"""Evaluation settings, from CLI flags or an eval.yaml kept in version control.

    models: [openai:gpt-4o-mini, local]
    suites: [smoke]
    epochs: 1
    limit: 20             # samples per suite
    concurrency: 16       # requests in flight per model
    judge: openai:gpt-4o-mini
    judge_grader: judge   # or llama_guard, for a guard model that answers in Llama Guard's format
    store_wait_s: 60      # how long a locked store (or a lost database connection) is waited for
    generation: {max_tokens: 512, temperature: 0.0, timeout_s: 60}

An adaptive attack instead of the suites' static ones (attacks.strategies); `judge` is then the strategy's judge:

    attack: tap           # pair | tap | crescendo
    attacker: openai:gpt-4o-mini   # default: local, the embedded model (as is the judge)
    judge: openai:gpt-4o-mini
    max_queries: 50       # target queries per request
    strategy: {branching: 4, width: 10, depth: 10, threshold: 10}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from safehub.attacks.strategies import STRATEGIES
from safehub.errors import UsageError
from safehub.models.base import GenerateConfig, RetryPolicy
from safehub.redact import redact
from safehub.yamlfile import read_yaml


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_tokens: int = Field(512, ge=1, le=200_000)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = None
    timeout_s: float = Field(60.0, gt=0.0)

    def to_config(self, top_logprobs: int = 0) -> GenerateConfig:
        return GenerateConfig(max_tokens=self.max_tokens, temperature=self.temperature, top_p=self.top_p,
                              seed=self.seed, timeout_s=self.timeout_s, top_logprobs=top_logprobs)


class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[str] = Field(min_length=1)
    suites: list[str] = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    epochs: int = Field(1, ge=1, le=1000)
    concurrency: int = Field(16, ge=1, le=4096)
    judge: str | None = None
    judge_grader: str = "judge"  # the model grader that talks to the judge model (scorers.model_graders)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    cache: bool = True
    max_attempts: int = Field(4, ge=1, le=20)
    retry_base_delay_s: float = Field(0.5, ge=0.0, le=60.0)
    # How long a store that is locked by another process, or whose server connection dropped, is waited
    # for before the run stops (exit 2; `--resume` finishes it). A full or read-only store stops it at once.
    store_wait_s: float = Field(60.0, gt=0.0, le=3600.0)
    attack: str | None = None  # an adaptive strategy run against every harmful request (attacks.strategies)
    attacker: str | None = None  # the strategy's attacker model; default DEFAULT_STRATEGY_MODEL
    max_queries: int | None = Field(None, ge=1)  # target queries per request before the search stops
    strategy: dict[str, Any] = Field(default_factory=dict)  # the strategy's options, e.g. {streams: 20}

    @field_validator("attack")
    @classmethod
    def _known_strategy(cls, value: str | None) -> str | None:
        if value is not None and value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; known: {', '.join(sorted(STRATEGIES))}")
        return value

    @field_validator("strategy")
    @classmethod
    def _strategy_options(cls, value: dict, info: ValidationInfo) -> dict:
        attack = info.data.get("attack")
        if attack is None:
            return value
        try:
            return STRATEGIES[attack].options(**value).model_dump()
        except ValidationError as exc:
            error = exc.errors()[0]
            option = ".".join(str(part) for part in error["loc"])
            known = ", ".join(STRATEGIES[attack].Options.model_fields)
            raise ValueError(f"{attack} option {option!r}: {error['msg']} ({attack} takes {known})") from None

    @model_validator(mode="after")
    def _strategy_settings_need_an_attack(self) -> EvalConfig:
        if self.attack is None:
            given = [f"--{name.replace('_', '-')}" for name in ("attacker", "max_queries") if getattr(self, name)]
            if given or self.strategy:
                raise ValueError(f"{(given or ['strategy options'])[0]} only apply to an adaptive attack: "
                                 f"add --attack {'|'.join(sorted(STRATEGIES))}")
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, base_delay_s=self.retry_base_delay_s)

    def stored(self) -> dict:
        """What goes into the store: the settings, never keys (keys only ever come from the environment) and
        the judge's base URL redacted."""
        settings = self.model_dump(mode="json", exclude={"models"})
        for role in ("judge", "attacker"):
            if getattr(self, role):
                settings[role] = redact(getattr(self, role))
        return settings


_FLAG_NAMES = {"models": "--model", "suites": "--suite", "limit": "--limit", "epochs": "--epochs",
               "concurrency": "--concurrency", "judge": "--judge", "attack": "--attack", "attacker": "--attacker",
               "max_queries": "--max-queries", "strategy": "strategy option"}


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    return field, error["msg"].removeprefix("Value error, ")


def config_from_flags(**flags) -> EvalConfig:
    try:
        return EvalConfig.model_validate({k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        field, message = _first_problem(exc)
        if not field:  # a rule across fields: its message names them
            raise UsageError(message) from None
        flag = _FLAG_NAMES.get(field.split(".")[0], f"--{field.replace('_', '-')}")
        raise UsageError(f"{flag}: {message}") from None


def config_from_file(path: Path) -> EvalConfig:
    data = read_yaml(path, str(path))
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping with models, suites and settings")
    for key in ("models", "suites"):  # accept a single string or a comma list, as the flags do
        if isinstance(data.get(key), str):
            data[key] = [part.strip() for part in data[key].split(",") if part.strip()]
    try:
        return EvalConfig.model_validate(data)
    except ValidationError as exc:
        field, message = _first_problem(exc)
        raise UsageError(f"{path}: field '{field}': {message}" if field else f"{path}: {message}") from None
