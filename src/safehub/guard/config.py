"""guard.yaml: what the guard exposes, where it sends requests, and what each screen does.

    models: [assistant]                  # the names clients pass as `model`
    upstreams:                           # model specs, in priority order
      - spec: openai-compat:gpt-x@http://127.0.0.1:9000/v1
        timeout_s: 30
      - spec: anthropic:claude-haiku-4-5
    rules:                               # per screen: block | flag | pass above a threshold
      persona_jailbreak: {action: block, threshold: 0.5}
      harmful_output: {action: block, threshold: 0.5}
      llama_guard:                       # a model rule: any spec answering in Llama Guard's format
        action: block
        model: {spec: "openai-compat:llama-guard3@http://127.0.0.1:8000/v1", stage: input, timeout_s: 2}
    clients:                             # optional; without it no key is asked for (loopback only)
      - name: team-a
        key_hash: "sha256:..."           # from `safehub guard hash-key`
        rate_limit: {requests_per_s: 5, burst: 10}

Every problem is one `UsageError` line naming the file and the key, e.g.
`guard.yaml: upstreams[1].spec: unknown provider 'foo'; known: ...`. See examples/guard.yaml.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from safehub.errors import UsageError
from safehub.guard.keys import check_key_hash
from safehub.models.spec import ModelSpec
from safehub.yamlfile import read_yaml

Action = Literal["block", "flag", "pass"]
DEFAULT_REFUSAL = "I'm sorry, but I can't help with that request."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_provider(value: str) -> str:
    from safehub.models.registry import ADAPTERS

    try:
        parsed = ModelSpec.parse(value)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    if parsed.provider not in ADAPTERS:
        raise ValueError(f"unknown provider {parsed.provider!r}; known: {', '.join(sorted(ADAPTERS))}")
    return value


class UpstreamConfig(_Strict):
    spec: str
    weight: float = Field(1.0, ge=0.0)  # share of first tries under `routing: weighted`
    timeout_s: float = Field(60.0, gt=0.0)
    max_concurrency: int = Field(256, ge=1, le=100_000)

    @field_validator("spec")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        return _check_provider(value)


class UnsureConfig(_Strict):
    screen: str  # a fast screen's rule name
    band: float = Field(gt=0.0, le=1.0)  # "unsure": its score within this distance of its threshold


class ModelScreenConfig(_Strict):
    """The second tier: a model spec that answers in Llama Guard's format (safe / unsafe + category codes)."""

    spec: str
    stage: Literal["input", "output", "both"] | None = None  # None: only_when_unsure's screen's stage, else both
    only_when_unsure: UnsureConfig | None = None  # None: ask the model about every request (or answer)
    timeout_s: float = Field(5.0, gt=0.0, le=600.0)  # the whole call, waiting for a free slot included
    on_error: Literal["fail_open", "fail_closed"] = "fail_open"  # timeout, HTTP error or unreadable reply
    max_concurrency: int = Field(64, ge=1, le=100_000)  # calls in flight to the model; more wait (within timeout_s)
    check_every_chars: int = Field(1000, ge=1)  # streamed answers: asked each time this much new text arrived

    @field_validator("spec")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        return _check_provider(value)


class RuleConfig(_Strict):
    action: Action = "block"
    threshold: float | None = Field(None, ge=0.0, le=1.0)  # None: the screen's own tested operating point
    model: ModelScreenConfig | None = None  # a model rule (named freely) rather than a shipped screen

    @model_validator(mode="after")
    def _no_threshold_for_a_model(self) -> RuleConfig:
        if self.model is not None and self.threshold is not None:
            raise ValueError("a model rule has no threshold (its verdict is safe or unsafe): remove 'threshold'")
        return self


class RateLimit(_Strict):
    requests_per_s: float = Field(gt=0.0)
    burst: int | None = Field(None, ge=1)

    @property
    def burst_or_default(self) -> float:
        return float(self.burst or max(1, math.ceil(self.requests_per_s)))


class ClientConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
    key_hash: str
    rate_limit: RateLimit | None = None

    @field_validator("key_hash")
    @classmethod
    def _is_a_hash(cls, value: str) -> str:
        return check_key_hash(value.strip())


class LimitsConfig(_Strict):
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    max_response_chars: int = Field(1_000_000, ge=1)  # longer answers are cut, finish_reason "length"
    default_max_tokens: int = Field(1024, ge=1)  # when the client sends no max_tokens
    # wrong API keys per client address, checked before any hash; beyond them the address gets 429
    failed_auth: RateLimit = Field(default_factory=lambda: RateLimit(requests_per_s=1.0, burst=10))


class BreakerConfig(_Strict):
    failures: int = Field(5, ge=1)  # consecutive failures that open the circuit
    cooldown_s: float = Field(30.0, gt=0.0)  # open for this long, then one probe (half-open)


class RoutingConfig(_Strict):
    strategy: Literal["priority", "weighted"] = "priority"


class StreamScreeningConfig(_Strict):
    # Screen the stream each time this much new text arrived; text is released only once screened, so this is
    # also how far the client's view lags behind the upstream. The screens window the text themselves.
    check_every_chars: int = Field(120, ge=1)


class AuditConfig(_Strict):
    enabled: bool = True
    log_text: bool = False  # store message and answer text with each decision
    flush_interval_s: float = Field(1.0, gt=0.0, le=60.0)
    max_pending: int = Field(100_000, ge=1)  # decisions waiting for the writer; beyond it they are dropped, counted


class GuardConfig(_Strict):
    models: list[str] = Field(default_factory=list)
    upstreams: list[UpstreamConfig] = Field(min_length=1)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    rules: dict[str, RuleConfig] | None = None  # None: every shipped screen, block at its default threshold
    clients: list[ClientConfig] = Field(default_factory=list)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    stream_screening: StreamScreeningConfig = Field(default_factory=StreamScreeningConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    refusal: str = Field(DEFAULT_REFUSAL, min_length=1)
    db: str | None = None  # audit store URL; --db and $SAFEHUB_DB win

    @model_validator(mode="after")
    def _defaults_and_uniqueness(self) -> GuardConfig:
        if not self.models:
            first = ModelSpec.parse(self.upstreams[0].spec)
            self.models = [first.model if first.model and first.provider != "scripted" else first.provider]
        if len(set(self.models)) != len(self.models):
            raise ValueError("models: each exposed name once")
        names = [c.name for c in self.clients]
        if len(set(names)) != len(names):
            raise ValueError("clients: each name once (it is what the audit records)")
        if self.routing.strategy == "weighted" and not any(u.weight > 0 for u in self.upstreams):
            raise ValueError("routing.strategy weighted: give at least one upstream a weight above 0")
        return self


def _where(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def format_validation_error(error: ValidationError, source: str) -> str:
    """The first problem as one line: `guard.yaml: upstreams[1].spec: ...`, with how many more there are."""
    problems = error.errors()
    first = problems[0]
    message = first["msg"].removeprefix("Value error, ")
    where = _where(first["loc"])
    if first["type"] == "extra_forbidden":
        message = "unknown key; check the spelling against examples/guard.yaml"
    elif first["type"] == "missing":
        message = "required"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{source}: {where + ': ' if where else ''}{message}{more}"


def parse_config(data: object, source: str = "guard.yaml") -> GuardConfig:
    if not isinstance(data, dict):
        raise UsageError(f"{source}: expected a mapping with at least 'upstreams:' (see examples/guard.yaml)")
    try:
        return GuardConfig.model_validate(data)
    except ValidationError as exc:
        raise UsageError(format_validation_error(exc, source)) from None


def load_config(path: Path) -> GuardConfig:
    """Read and validate guard.yaml. Scripted upstreams' relative paths are resolved against its folder."""
    path = Path(path)
    config = parse_config(read_yaml(path, f"guard config {path}"), path.name)
    for upstream in config.upstreams:
        spec = ModelSpec.parse(upstream.spec)
        if spec.provider == "scripted" and not Path(spec.model).is_absolute():
            beside = path.parent / spec.model
            if beside.exists():
                upstream.spec = f"scripted:{beside}"
    return config
