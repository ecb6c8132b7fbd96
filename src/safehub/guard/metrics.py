"""The guard's counters, in the Prometheus text format (version 0.0.4), without a client library.

    metrics.count_request(200)
    metrics.blocks[("input", "persona_jailbreak")] += 1
    metrics.render()   # -> '# TYPE safehub_guard_requests_total counter\\n...'

Everything is updated from the event loop's thread only, so plain dicts and ints suffice.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
OVERHEAD_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}


class Histogram:
    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last slot is +Inf
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        out, running = [], 0
        for bound, count in zip((*self.buckets, "+Inf"), self.counts):
            running += count
            le = bound if isinstance(bound, str) else f"{bound:g}"
            out.append(f'{name}_bucket{{{labels}{sep}le="{le}"}} {running}')
        braced = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{braced} {self.total:.6f}")
        out.append(f"{name}_count{braced} {self.n}")
        return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**pairs: str) -> str:
    return ",".join(f'{key}="{_escape(str(value))}"' for key, value in pairs.items())


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[int] = Counter()  # by HTTP status
        self.blocks: Counter[tuple[str, str]] = Counter()  # (stage, rule)
        self.flags: Counter[tuple[str, str]] = Counter()
        self.failovers: Counter[tuple[str, str]] = Counter()  # (upstream that failed, error kind)
        self.upstream_errors: Counter[tuple[str, str]] = Counter()
        self.screen_errors: Counter[str] = Counter()
        self.model_screen_calls: Counter[tuple[str, str]] = Counter()  # (model rule, verdict: safe|unsafe|error)
        self.model_screen_latency: dict[str, Histogram] = {}
        self.upstream_latency: dict[str, Histogram] = {}
        self.overhead = Histogram(OVERHEAD_BUCKETS_S)  # the guard's own time, upstream wait excluded
        self.breaker_states: Callable[[], dict[str, str]] = dict
        self.audit_counts: Callable[[], dict[str, int]] = dict

    def count_request(self, status: int) -> None:
        self.requests[status] += 1

    def observe_upstream(self, upstream: str, seconds: float) -> None:
        histogram = self.upstream_latency.get(upstream)
        if histogram is None:
            histogram = self.upstream_latency[upstream] = Histogram(LATENCY_BUCKETS_S)
        histogram.observe(seconds)

    def observe_model_screen(self, rule: str, seconds: float) -> None:
        histogram = self.model_screen_latency.get(rule)
        if histogram is None:
            histogram = self.model_screen_latency[rule] = Histogram(LATENCY_BUCKETS_S)
        histogram.observe(seconds)

    def render(self) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        family("safehub_guard_requests_total", "counter", "Chat completion requests answered, by HTTP status.")
        for status, n in sorted(self.requests.items()):
            lines.append(f"safehub_guard_requests_total{{{_labels(status=str(status))}}} {n}")
        family("safehub_guard_blocks_total", "counter", "Requests or answers blocked, by stage and rule.")
        for (stage, rule), n in sorted(self.blocks.items()):
            lines.append(f"safehub_guard_blocks_total{{{_labels(stage=stage, rule=rule)}}} {n}")
        family("safehub_guard_flags_total", "counter", "Requests or answers flagged (passed on, marked), by stage and rule.")
        for (stage, rule), n in sorted(self.flags.items()):
            lines.append(f"safehub_guard_flags_total{{{_labels(stage=stage, rule=rule)}}} {n}")
        family("safehub_guard_failovers_total", "counter", "Attempts moved to the next upstream, by the failed one and why.")
        for (upstream, kind), n in sorted(self.failovers.items()):
            lines.append(f"safehub_guard_failovers_total{{{_labels(upstream=upstream, kind=kind)}}} {n}")
        family("safehub_guard_upstream_errors_total", "counter", "Failed upstream calls, by upstream and error kind.")
        for (upstream, kind), n in sorted(self.upstream_errors.items()):
            lines.append(f"safehub_guard_upstream_errors_total{{{_labels(upstream=upstream, kind=kind)}}} {n}")
        family("safehub_guard_screen_errors_total", "counter", "Screens that raised (the request was let through).")
        for rule, n in sorted(self.screen_errors.items()):
            lines.append(f"safehub_guard_screen_errors_total{{{_labels(rule=rule)}}} {n}")
        family("safehub_guard_model_screen_calls_total", "counter",
               "Model screen verdicts, by rule and verdict (error: timeout, HTTP error, open circuit, unreadable reply).")
        for (rule, verdict), n in sorted(self.model_screen_calls.items()):
            lines.append(f"safehub_guard_model_screen_calls_total{{{_labels(rule=rule, verdict=verdict)}}} {n}")
        family("safehub_guard_model_screen_latency_seconds", "histogram", "Model screen call latency, by rule.")
        for rule, histogram in sorted(self.model_screen_latency.items()):
            lines.extend(histogram.lines("safehub_guard_model_screen_latency_seconds", _labels(rule=rule)))
        family("safehub_guard_upstream_latency_seconds", "histogram",
               "Upstream call latency (streams: until the first chunk), successful calls.")
        for upstream, histogram in sorted(self.upstream_latency.items()):
            lines.extend(histogram.lines("safehub_guard_upstream_latency_seconds", _labels(upstream=upstream)))
        family("safehub_guard_overhead_seconds", "histogram", "Time the guard adds to a request, upstream wait excluded.")
        lines.extend(self.overhead.lines("safehub_guard_overhead_seconds", ""))
        family("safehub_guard_circuit_state", "gauge", "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.")
        for upstream, state in sorted(self.breaker_states().items()):
            lines.append(f"safehub_guard_circuit_state{{{_labels(upstream=upstream)}}} {BREAKER_STATES[state]}")
        family("safehub_guard_audit_decisions_total", "counter", "Audit records by outcome: written, dropped, failed.")
        for outcome, n in sorted(self.audit_counts().items()):
            lines.append(f"safehub_guard_audit_decisions_total{{{_labels(outcome=outcome)}}} {n}")
        return "\n".join(lines) + "\n"
