"""One upstream: a model spec built by the engine's registry, with the guard's timeout and a circuit breaker.

    upstream = Upstream(UpstreamConfig(spec="openai-compat:m@http://127.0.0.1:9000/v1"), breaker)
    completion = await upstream.complete(messages, GenerateConfig(max_tokens=64))   # or raises UpstreamError
    stream = await upstream.open_stream(messages, GenerateConfig(max_tokens=64), include_usage=False)
    async for text in stream: ...

Every spec is built by `load_model` (so keys, presets and errors are the engine's). OpenAI-compatible
upstreams (but Azure) are then called through `OpenAIHTTP`, which streams and is cheap per request (see
openai_http.py for the measurement); every other adapter is called through its own `generate`, with
one attempt (failing over is the router's job; retries here would fight it), and a stream is the
generated answer handed on in pieces.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time

from safehub.guard.config import UpstreamConfig
from safehub.guard.openai_http import OpenAIHTTP, TextStream, UpstreamError
from safehub.models.base import Completion, GenerateConfig, ModelAdapter, RetryPolicy
from safehub.models.openai_compat import OpenAICompatModel
from safehub.models.registry import load_model

__all__ = ["CircuitBreaker", "TextStream", "Upstream", "UpstreamError"]


class CircuitBreaker:
    """Closed until `failures` calls in a row fail; then open for `cooldown_s`; then one probe (half-open)
    whose outcome closes or reopens it."""

    def __init__(self, failures: int, cooldown_s: float):
        self.failures = failures
        self.cooldown_s = cooldown_s
        self.state = "closed"
        self.consecutive_failures = 0
        self.opened_at = 0.0
        self.probe_started_at: float | None = None

    def allow(self) -> bool:
        """May a call go out now? In half-open state this claims the single probe."""
        if self.state == "closed":
            return True
        now = time.monotonic()
        if self.state == "open":
            if now - self.opened_at < self.cooldown_s:
                return False
            self.state = "half_open"
        # A probe whose caller vanished (cancelled request) must not hold the circuit half-open forever.
        if self.probe_started_at is not None and now - self.probe_started_at < self.cooldown_s:
            return False
        self.probe_started_at = now
        return True

    def record_success(self) -> None:
        self.state = "closed"
        self.consecutive_failures = 0
        self.probe_started_at = None

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self.state == "half_open" or self.consecutive_failures >= self.failures:
            self.state = "open"
            self.opened_at = time.monotonic()
        self.probe_started_at = None


class Upstream:
    def __init__(self, config: UpstreamConfig, breaker: CircuitBreaker, adapter: ModelAdapter | None = None):
        self.config = config
        self.timeout_s = config.timeout_s
        self.weight = config.weight
        self.breaker = breaker
        self.adapter = adapter or load_model(config.spec, max_concurrency=config.max_concurrency,
                                             retry=RetryPolicy(max_attempts=1))
        self.name = self.adapter.spec.display
        self.paused_until = 0.0  # time.monotonic() before which its Retry-After asks us to stay away
        self.http: OpenAIHTTP | None = None
        if isinstance(self.adapter, OpenAICompatModel) and self.adapter.spec.provider != "azure":
            preset = self.adapter.preset
            endpoint = self.adapter.endpoint  # the base URL's credentials and query, taken out of it
            self.http = OpenAIHTTP(endpoint.url, model=self.adapter.spec.model, timeout_s=self.timeout_s,
                                   api_key=os.environ.get(preset.key_env) if preset.key_env else None,
                                   max_connections=config.max_concurrency, authorization=endpoint.authorization,
                                   query=endpoint.query)

    def paused_s(self) -> float:
        """Seconds until the upstream's last Retry-After has passed (0 when it may be called)."""
        until = max(self.paused_until, self.adapter.limiter.paused_until)
        return max(0.0, until - time.monotonic())

    def _note(self, error: UpstreamError) -> UpstreamError:
        if error.kind == "rate_limit" and error.retry_after_s:
            self.paused_until = max(self.paused_until, time.monotonic() + error.retry_after_s)
        return error

    async def complete(self, messages: list[dict], generate: GenerateConfig) -> Completion:
        if self.http is not None:
            try:
                return await self.http.complete(messages, generate)
            except UpstreamError as exc:
                raise self._note(exc) from None
        config = dataclasses.replace(generate, timeout_s=self.timeout_s)
        try:
            # The adapter times the call itself; this bound also covers waiting for a concurrency slot.
            async with asyncio.timeout(self.timeout_s * 2):
                completion = await self.adapter.generate(messages, config)
        except TimeoutError:
            raise UpstreamError("timeout", f"no response within {self.timeout_s:g}s") from None
        if completion.is_error:
            raise UpstreamError(completion.error_kind or "internal", completion.error or "failed")
        return completion

    async def open_stream(self, messages: list[dict], generate: GenerateConfig, *, include_usage: bool) -> TextStream:
        """Start streaming; raise `UpstreamError` when the upstream fails before its answer starts."""
        if self.http is not None:
            try:
                return await self.http.open_stream(messages, generate, include_usage=include_usage)
            except UpstreamError as exc:
                raise self._note(exc) from None
        return TextStream.from_completion(await self.complete(messages, generate))

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        await self.adapter.aclose()
