"""Which upstream answers: priority order (or a weighted first pick), failover, circuit breakers.

    router = Router(upstreams, strategy="priority", metrics=Metrics())
    routed = await router.complete(messages, GenerateConfig(max_tokens=64))
    routed.result.text, routed.upstream.name, routed.attempts

A failure that another upstream might not have (HTTP 5xx, 429, a timeout, a dropped connection, an
unreadable answer, a refused upstream key) moves the request to the next upstream and counts
against the failed one's circuit breaker. A failure that is the request's own (HTTP 400 from the
upstream) is returned to the client at once. When every upstream failed, the client gets 502
(or 429 with Retry-After when all of them only said "too many requests").
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from safehub.guard.metrics import Metrics
from safehub.guard.shapes import RequestError
from safehub.guard.upstreams import TextStream, Upstream, UpstreamError
from safehub.models.base import Completion, GenerateConfig

T = TypeVar("T")
_NO_FAILOVER = frozenset({"client"})
_KIND_TEXT = {"rate_limit": "rate limited (HTTP 429)", "server": "server error", "timeout": "timed out",
              "connection": "connection failed", "bad_response": "unreadable answer", "auth": "refused the guard's key",
              "internal": "internal error", "circuit_open": "circuit open", "paused": "in Retry-After pause"}


@dataclass
class Routed(Generic[T]):
    result: T
    upstream: Upstream
    attempts: int
    upstream_s: float  # time spent waiting on upstreams, failed attempts included


class Router:
    def __init__(self, upstreams: list[Upstream], *, strategy: str, metrics: Metrics, rng: random.Random | None = None):
        self.upstreams = upstreams
        self.strategy = strategy
        self.metrics = metrics
        self.rng = rng or random.Random()
        metrics.breaker_states = lambda: {u.name: u.breaker.state for u in self.upstreams}

    def order(self) -> list[Upstream]:
        """Priority order; under `weighted` the first try is drawn by weight, the rest keep priority order."""
        if self.strategy != "weighted" or len(self.upstreams) < 2:
            return self.upstreams
        weighted = [u for u in self.upstreams if u.weight > 0 and u.breaker.state != "open"]
        if not weighted:
            return self.upstreams
        first = self.rng.choices(weighted, weights=[u.weight for u in weighted])[0]
        return [first, *(u for u in self.upstreams if u is not first)]

    async def complete(self, messages: list[dict], generate: GenerateConfig) -> Routed[Completion]:
        return await self._route(lambda upstream: upstream.complete(messages, generate))

    async def open_stream(self, messages: list[dict], generate: GenerateConfig, *, include_usage: bool) -> Routed[TextStream]:
        return await self._route(lambda upstream: upstream.open_stream(messages, generate, include_usage=include_usage))

    async def _route(self, call: Callable[[Upstream], Awaitable[T]]) -> Routed[T]:
        failures: list[tuple[int, str]] = []
        attempts = 0
        waited_s = 0.0
        pauses: list[float] = []
        order = self.order()
        for position, upstream in enumerate(order):
            number = self.upstreams.index(upstream) + 1
            paused_s = upstream.paused_s()
            if paused_s > 0:  # it said Retry-After: honour it by asking the next one meanwhile
                failures.append((number, "paused"))
                pauses.append(paused_s)
                continue
            if not upstream.breaker.allow():
                failures.append((number, "circuit_open"))
                continue
            attempts += 1
            started = time.perf_counter()
            try:
                result = await call(upstream)
            except UpstreamError as exc:
                elapsed = time.perf_counter() - started
                waited_s += elapsed
                self.metrics.upstream_errors[(upstream.name, exc.kind)] += 1
                if exc.kind in _NO_FAILOVER:  # the upstream is fine; the request is not
                    upstream.breaker.record_success()
                    raise RequestError(400, f"the upstream model rejected the request: {exc}", code="upstream_rejected") from None
                upstream.breaker.record_failure()
                if position < len(order) - 1:
                    self.metrics.failovers[(upstream.name, exc.kind)] += 1
                failures.append((number, exc.kind))
                if exc.kind == "rate_limit":
                    pauses.append(upstream.paused_s())
                continue
            except BaseException:
                upstream.breaker.probe_started_at = None  # cancelled: neither a success nor a failure
                raise
            elapsed = time.perf_counter() - started
            upstream.breaker.record_success()
            self.metrics.observe_upstream(upstream.name, elapsed)
            return Routed(result, upstream, attempts, waited_s + elapsed)
        raise self._exhausted(failures, pauses, attempts)

    def _exhausted(self, failures: list[tuple[int, str]], pauses: list[float], attempts: int) -> RequestError:
        said = "; ".join(f"upstream {number}: {_KIND_TEXT.get(kind, kind)}" for number, kind in failures)
        if failures and all(kind in ("rate_limit", "paused") for _, kind in failures):
            retry_after = max(1, math.ceil(min(pauses))) if pauses and min(pauses) > 0 else 1
            return RequestError(429, f"every upstream is rate limiting; retry after {retry_after}s ({said})",
                                type="rate_limit_error", code="upstream_rate_limited",
                                headers={"retry-after": str(retry_after)})
        return RequestError(502, f"no upstream could answer after {attempts} attempt{'s' if attempts != 1 else ''} "
                                 f"({said})", type="server_error", code="upstream_unavailable")
