"""The model interface: one async call turns chat messages (and optional tools) into a `Completion`.

    model = load_model("openai-compat:my-model@http://127.0.0.1:8000/v1")
    completion = await model.generate([{"role": "user", "content": "Hi"}], GenerateConfig(max_tokens=16))
    print(completion.text, completion.error)
    completion = await model.generate(messages, config, tools=[ToolSpec("bash", "Run a command.", schema)])
    print(completion.tool_calls)   # [ToolCall(id=..., name="bash", arguments={"command": "ls"})]

The shapes (`Message`, `ToolSpec`, `ToolCall`, `Completion`) live in `safehub.chat` and are re-exported here.

`ModelAdapter.generate` is final: it owns timing, the per-request timeout, retries with backoff,
the adaptive concurrency limit and error capture. Each adapter fills in `_generate` and raises
`ModelCallError` for anything that went wrong. `generate` never raises for a failed call: the
error comes back in `Completion.error` (errors are data).
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from safehub.chat import Completion, Message, ToolSpec
from safehub.models.limits import AdaptiveLimiter
from safehub.models.spec import ModelSpec
from safehub.redact import redact


@dataclass(frozen=True)
class GenerateConfig:
    """Generation settings; all of them (but the timeout) are part of the response cache key."""

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    top_logprobs: int = 0  # > 0 asks for the k most likely first tokens, when the adapter can
    timeout_s: float = 60.0

    def cache_fields(self) -> dict:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "seed": self.seed, "stop": list(self.stop) if self.stop else None,
                "top_logprobs": self.top_logprobs}


ErrorKind = Literal["rate_limit", "server", "timeout", "connection", "bad_response", "client", "auth", "internal"]
RETRYABLE_KINDS: frozenset[str] = frozenset({"rate_limit", "server", "timeout", "connection", "bad_response"})


class ModelCallError(Exception):
    """Raised by `_generate`; `kind` decides whether `generate` retries."""

    def __init__(self, kind: ErrorKind, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after_s = retry_after_s

    @property
    def is_retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        """Exponential backoff with full jitter; a server's Retry-After is a floor, never shortened."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + random.random())
        return max(jittered, retry_after_s or 0.0)


class ModelAdapter(ABC):
    """Base of every adapter. Subclasses declare `provider` and implement `_generate`."""

    provider: ClassVar[str]
    supports_logprobs: ClassVar[bool] = False
    enforces_timeout: ClassVar[bool] = True  # False where the call cannot be abandoned (in-process model)

    def __init__(self, spec: ModelSpec, *, max_concurrency: int = 16, retry: RetryPolicy | None = None):
        self.spec = spec
        self.retry = retry or RetryPolicy()
        self.limiter = AdaptiveLimiter(max_concurrency)
        self.retries_by_kind: dict[str, int] = {}

    def __repr__(self) -> str:  # the spec never carries a key; base_url credentials are redacted
        return f"<{type(self).__name__} {self.spec.display}>"

    async def generate(self, messages: list[Message], config: GenerateConfig,
                       tools: Sequence[ToolSpec] | None = None) -> Completion:
        """Ask the model; with `tools`, it may answer with `Completion.tool_calls` instead of (or beside) text."""
        tools = tuple(tools or ())
        started = time.perf_counter()
        calling_s = 0.0  # time inside _generate: under load the wait for a slot can be 100x the call
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.limiter.slot():
                    call_started = time.perf_counter()
                    try:
                        if self.enforces_timeout:
                            async with asyncio.timeout(config.timeout_s):
                                completion = await self._generate(messages, config, tools)
                        else:
                            completion = await self._generate(messages, config, tools)
                    finally:
                        calling_s += time.perf_counter() - call_started
                self.limiter.on_success()
                completion.attempts = attempt
                completion.latency_ms = calling_s * 1000.0
                completion.queue_ms = (time.perf_counter() - started - calling_s) * 1000.0
                return completion
            except (ModelCallError, TimeoutError) as exc:
                error = exc if isinstance(exc, ModelCallError) else ModelCallError(
                    "timeout", f"no response within {config.timeout_s:g}s")
            except Exception as exc:  # an adapter bug is still a stored, attributed error
                error = ModelCallError("internal", f"{type(exc).__name__}: {redact(str(exc))}")  # may quote a URL
            if error.kind == "rate_limit":
                self.limiter.on_rate_limit(error.retry_after_s)
            if not error.is_retryable or attempt >= self.retry.max_attempts:
                return Completion(error=str(error) or error.kind, error_kind=error.kind, attempts=attempt,
                                  latency_ms=calling_s * 1000.0,
                                  queue_ms=(time.perf_counter() - started - calling_s) * 1000.0)
            self.retries_by_kind[error.kind] = self.retries_by_kind.get(error.kind, 0) + 1
            await asyncio.sleep(self.retry.delay_s(attempt, error.retry_after_s))

    @abstractmethod
    async def _generate(self, messages: list[Message], config: GenerateConfig,
                        tools: tuple[ToolSpec, ...] = ()) -> Completion:
        """One attempt, offering `tools` (empty: none). Return the completion or raise `ModelCallError`."""

    async def preflight(self) -> None:
        """Raise `UsageError` when the model cannot possibly be reached (checked before a run starts)."""

    async def aclose(self) -> None:
        """Release connections."""
