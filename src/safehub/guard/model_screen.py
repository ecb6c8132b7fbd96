"""The guard's second tier: a model-backed screen, any model spec that answers in Llama Guard's format.

    rules:
      harmful_request: {action: flag}
      llama_guard:
        action: block
        model:
          spec: openai-compat:llama-guard3@http://127.0.0.1:8000/v1   # vLLM, llama.cpp server, Ollama ...
          stage: input                                  # input | output | both
          only_when_unsure: {screen: harmful_request, band: 0.2}   # omit: ask about every request
          timeout_s: 2
          on_error: fail_open                           # or fail_closed

    tier = ModelTier.from_config(config.rules, screens, metrics, breaker=config.breaker)
    decision = await tier.screen_input(messages, policy.screen_input(messages))

Operators run Llama Guard, ShieldGemma or WildGuard behind a server that applies the model's own chat template, so
the model is sent the plain conversation (classifiers/llama_guard_format.py) and answers `safe`, or `unsafe` and a
line of category codes. `unsafe` acts like a fast screen reaching its threshold (the rule's `action`); `safe` leaves
the fast screens' decision as it was. The model is asked only when no fast screen already blocked, and with
`only_when_unsure` only when the named fast screen's score lies within `band` of its threshold.

A timeout (the whole call, waiting for a free slot included), an HTTP error, a refused key, an open circuit or a
reply in another shape is an error verdict: `fail_open` lets the request through, `fail_closed` treats it as unsafe.
Either way the audit records the verdict (safe / unsafe / error), the categories, the latency, the error's kind and
which way it failed, under `details.model_screens`; never the model's reply or the spec's credentials.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from safehub.classifiers.llama_guard_format import VERDICT_MAX_TOKENS, guard_conversation, parse_llama_guard_output
from safehub.errors import UsageError
from safehub.guard.config import BreakerConfig, ModelScreenConfig, RuleConfig, UpstreamConfig
from safehub.guard.metrics import Metrics
from safehub.guard.policy import Decision, StreamScreen
from safehub.guard.screens.base import Screen
from safehub.guard.upstreams import CircuitBreaker, Upstream, UpstreamError
from safehub.models.base import GenerateConfig
from safehub.redact import redact

_ERROR_CHARS = 120  # of an error's first clause in the audit: the rest may quote the server's reply


@dataclass(frozen=True)
class ModelVerdict:
    """One model screen's answer about one request or answer."""

    rule: str
    verdict: str  # "safe" | "unsafe" | "error"
    categories: tuple[str, ...] = ()
    latency_ms: float = 0.0
    error: str | None = None
    on_error: str | None = None  # with an error: "fail_open" or "fail_closed"

    @property
    def is_unsafe(self) -> bool:
        """Unsafe, or an error the rule fails closed on."""
        return self.verdict == "unsafe" or (self.verdict == "error" and self.on_error == "fail_closed")

    def audit(self) -> dict:
        record: dict = {"verdict": self.verdict, "categories": list(self.categories),
                        "latency_ms": round(self.latency_ms, 3)}
        if self.error is not None:
            record.update(error=self.error, on_error=self.on_error)
        return record


@dataclass(frozen=True)
class Unsure:
    """Ask the model only when this fast screen's score is within `band` of `threshold`."""

    screen: Screen
    threshold: float
    band: float

    def is_unsure(self, score: float) -> bool:
        return abs(score - self.threshold) <= self.band


def _error_text(exc: BaseException) -> str:
    return redact(str(exc).split(":", 1)[0])[:_ERROR_CHARS] or type(exc).__name__


class ModelScreen:
    """One model rule: `classify` asks the model and never raises (errors are verdicts)."""

    def __init__(self, rule: str, action: str, config: ModelScreenConfig, stages: frozenset[str],
                 unsure: Unsure | None, upstream: Upstream):
        self.rule = rule
        self.action = action
        self.config = config
        self.stages = stages
        self.unsure = unsure
        self.upstream = upstream
        self.generate = GenerateConfig(max_tokens=VERDICT_MAX_TOKENS, temperature=0.0, timeout_s=config.timeout_s)

    @property
    def spec_display(self) -> str:
        return self.upstream.name  # the spec with any base-URL credentials redacted

    def describe(self) -> str:
        when = f", when {self.unsure.screen.rule} within {self.unsure.band:g} of {self.unsure.threshold:g}" \
            if self.unsure else ""
        return f"{self.rule}={self.action}@model({'+'.join(sorted(self.stages))}{when}, {self.config.on_error})"

    async def classify(self, conversation: list[dict]) -> ModelVerdict:
        started = time.perf_counter()
        breaker = self.upstream.breaker
        if not breaker.allow():
            return self._error(started, "circuit open after repeated failures")
        try:
            async with asyncio.timeout(self.config.timeout_s):
                completion = await self.upstream.complete(conversation, self.generate)
        except TimeoutError:
            breaker.record_failure()
            return self._error(started, f"timeout: no response within {self.config.timeout_s:g}s")
        except UpstreamError as exc:
            breaker.record_failure()
            return self._error(started, f"{exc.kind}: {_error_text(exc)}")
        if completion.finish_reason == "length":  # the codes may be cut, e.g. S1 for S10
            breaker.record_failure()
            return self._error(started, f"reply cut at max_tokens={VERDICT_MAX_TOKENS}")
        verdict = parse_llama_guard_output(completion.text)
        if verdict is None:
            breaker.record_failure()
            return self._error(started, "reply is not in Llama Guard's format")
        breaker.record_success()
        return ModelVerdict(self.rule, "unsafe" if verdict.is_unsafe else "safe", verdict.categories,
                            (time.perf_counter() - started) * 1000.0)

    def _error(self, started: float, error: str) -> ModelVerdict:
        return ModelVerdict(self.rule, "error", (), (time.perf_counter() - started) * 1000.0, error,
                            self.config.on_error)


def input_conversation(messages: list[dict]) -> list[dict]:
    """The request as the guard model reads it. System and developer turns become user text: a jailbreak persona
    usually sits there, and Llama Guard's template accepts only user and assistant turns."""
    return guard_conversation([{"role": "user" if m["role"] in ("system", "developer") else m["role"],
                                "content": m["content"]} for m in messages])


def output_conversation(messages: list[dict], text: str) -> list[dict]:
    """The answer with its request, as the llama_guard grader sends it (system turns left out)."""
    return guard_conversation(messages, text)


def unsure_screen_names(rules: dict[str, RuleConfig] | None) -> list[str]:
    """The fast screens model rules consult, so the gateway loads them even when no rule of their own names them."""
    return [rule.model.only_when_unsure.screen for rule in (rules or {}).values()
            if rule.model is not None and rule.model.only_when_unsure is not None]


class ModelTier:
    """The model rules of one gateway; `screen_input` / `screen_output` add their verdicts to a fast decision."""

    def __init__(self, screens: list[ModelScreen], metrics: Metrics):
        self.screens = screens
        self.input_screens = [s for s in screens if "input" in s.stages and s.action != "pass"]
        self.output_screens = [s for s in screens if "output" in s.stages and s.action != "pass"]
        self.metrics = metrics

    @classmethod
    def from_config(cls, rules: dict[str, RuleConfig] | None, screens: dict[str, Screen], metrics: Metrics, *,
                    breaker: BreakerConfig, source: str = "guard.yaml") -> ModelTier:
        built = []
        for name, rule in (rules or {}).items():
            if rule.model is None:
                continue
            where = f"{source}: rules.{name}.model"
            if name in screens:
                raise UsageError(f"{where}: a model rule needs a name of its own: {name!r} is a screen's")
            unsure, stages = None, {"input", "output"}
            if rule.model.only_when_unsure is not None:
                unsure = _unsure(rule.model, rules, screens, f"{where}.only_when_unsure.screen")
                stages = {unsure.screen.stage}
                if rule.model.stage not in (None, unsure.screen.stage):
                    raise UsageError(f"{where}.stage: {rule.model.stage}, but {unsure.screen.rule} screens "
                                     f"{unsure.screen.stage}s only: use stage: {unsure.screen.stage} (and a second "
                                     "rule for the other stage)")
            elif rule.model.stage in ("input", "output"):
                stages = {rule.model.stage}
            upstream_config = UpstreamConfig(spec=rule.model.spec, timeout_s=rule.model.timeout_s,
                                             max_concurrency=rule.model.max_concurrency)
            try:
                upstream = Upstream(upstream_config, CircuitBreaker(breaker.failures, breaker.cooldown_s))
            except UsageError as exc:
                raise UsageError(f"{where}.spec: {exc}") from None
            built.append(ModelScreen(name, rule.action, rule.model, frozenset(stages), unsure, upstream))
        return cls(built, metrics)

    def describe(self) -> list[str]:
        return [screen.describe() for screen in self.screens]

    async def screen_input(self, messages: list[dict], decision: Decision) -> Decision:
        """Ask the input model rules about the request, unless a fast screen already blocked it."""
        if decision.action == "block":
            return decision
        asked = [s for s in self.input_screens if self._is_asked(s, decision, lambda screen: screen.score_input(messages))]
        if asked:
            conversation = input_conversation(messages)
            await self._apply(decision, asked, conversation)
        return decision

    async def screen_output(self, messages: list[dict], text: str, decision: Decision) -> Decision:
        """Ask the output model rules about the answer (so far), unless a fast screen already blocked it."""
        if decision.action == "block":
            return decision
        asked = [s for s in self.output_screens
                 if self._is_asked(s, decision, lambda screen: screen.score_output(messages, text))]
        if asked:
            await self._apply(decision, asked, output_conversation(messages, text))
        return decision

    @staticmethod
    def _is_asked(screen: ModelScreen, decision: Decision, score) -> bool:
        if screen.unsure is None:
            return True
        fast = screen.unsure.screen
        value = decision.scores.get(fast.rule)
        if value is None:  # a fast screen that is no rule of its own (or passes): scored here
            try:
                value = score(fast).score
            except Exception:
                return False
        return screen.unsure.is_unsure(value)

    async def _apply(self, decision: Decision, asked: list[ModelScreen], conversation: list[dict]) -> None:
        if not conversation:  # nothing a guard model could read (no user turn)
            return
        if len(asked) == 1:
            verdicts = [await asked[0].classify(conversation)]
        else:
            verdicts = await asyncio.gather(*(screen.classify(conversation) for screen in asked))
        for screen, verdict in zip(asked, verdicts):
            self.metrics.model_screen_calls[(screen.rule, verdict.verdict)] += 1
            self.metrics.observe_model_screen(screen.rule, verdict.latency_ms / 1000.0)
            _record(decision, verdict)
            if not verdict.is_unsafe:
                continue
            if screen.action == "block":
                if decision.action != "block":
                    decision.action, decision.rule, decision.score = "block", screen.rule, 1.0
            elif screen.rule not in {rule for rule, _ in decision.flagged}:
                decision.flagged.append((screen.rule, 1.0))
                if decision.action == "pass":
                    decision.action, decision.rule, decision.score = "flag", screen.rule, 1.0

    async def aclose(self) -> None:
        for screen in self.screens:
            await screen.upstream.aclose()


def _record(decision: Decision, verdict: ModelVerdict) -> None:
    """Put a verdict in the decision; a stream's later checks add their latency and never undo an unsafe verdict."""
    record = verdict.audit()
    earlier = decision.model_screens.get(verdict.rule)
    if earlier is not None:
        if earlier["verdict"] == "unsafe":
            record = {**earlier}
        record["checks"] = earlier.get("checks", 1) + 1
        record["latency_ms"] = round(earlier["latency_ms"] + verdict.latency_ms, 3)
    decision.model_screens[verdict.rule] = record
    score = 1.0 if verdict.verdict == "unsafe" else 0.0
    decision.scores[verdict.rule] = max(score, decision.scores.get(verdict.rule, 0.0))


def _unsure(config: ModelScreenConfig, rules: dict[str, RuleConfig], screens: dict[str, Screen], where: str) -> Unsure:
    unsure = config.only_when_unsure
    fast = screens.get(unsure.screen)
    if fast is None:
        known = ", ".join(sorted(screens)) or "none"
        raise UsageError(f"{where}: unknown screen {unsure.screen!r}; known: {known}")
    own = rules.get(unsure.screen)
    threshold = own.threshold if own is not None and own.threshold is not None else float(getattr(fast, "threshold", 0.5))
    return Unsure(fast, threshold, unsure.band)


class TieredStream:
    """A streamed answer screened by the fast screens (`StreamScreen`) and then by the output model rules.

    The model is asked each time `check_every_chars` new characters arrived and once at the end; when a model rule
    blocks, text is released only once the model has passed it, so a blocked answer never leaks past the last
    clean verdict. Verdicts land in the fast screens' decision, which the gateway audits."""

    def __init__(self, inner: StreamScreen, tier: ModelTier, messages: list[dict]):
        self.inner = inner
        self.tier = tier
        self.messages = messages
        self.check_every = min(s.config.check_every_chars for s in tier.output_screens)
        self.is_holding_back = any(s.action == "block" for s in tier.output_screens)
        self._ready = ""  # released by the fast screens, not yet by the model
        self._sent = 0
        self._model_checked = 0
        self.model_ms = 0.0

    @property
    def decision(self) -> Decision:
        return self.inner.decision

    @property
    def text(self) -> str:
        return self.inner.text

    @property
    def screen_ms(self) -> float:
        return self.inner.screen_ms + self.model_ms

    async def feed(self, piece: str) -> tuple[str, Decision | None]:
        release, blocked = self.inner.feed(piece)
        if blocked is not None:
            return "", blocked
        self._ready += release
        if len(self.text) - self._model_checked >= self.check_every and await self._is_blocked():
            return "", self.decision
        return self._release(), None

    async def finish(self) -> tuple[str, Decision | None]:
        release, blocked = self.inner.finish()
        if blocked is not None:
            return "", blocked
        self._ready += release
        if (len(self.text) > self._model_checked or not self.text) and await self._is_blocked():
            return "", self.decision
        return self._release(), None

    async def _is_blocked(self) -> bool:
        self._model_checked = len(self.text)
        started = time.perf_counter()
        await self.tier.screen_output(self.messages, self.text, self.decision)
        self.model_ms += (time.perf_counter() - started) * 1000.0
        return self.decision.action == "block"

    def _release(self) -> str:
        count = len(self._ready) if not self.is_holding_back else max(0, self._model_checked - self._sent)
        released, self._ready = self._ready[:count], self._ready[count:]
        self._sent += len(released)
        return released
