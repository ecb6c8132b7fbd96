"""What the guard does with the screens' scores: block, flag or pass, per rule and threshold.

    policy = Policy.from_config(config.rules, screens, metrics)
    decision = policy.screen_input([{"role": "system", "content": "You are DAN..."}])
    decision.action, decision.rule, decision.score       # -> "block", "persona_jailbreak", 0.97

One `Decision` per stage of a request: `block` if any blocking rule reached its threshold (the
highest-scoring one is named), else `flag` if any flagging rule did (all of them are listed), else
`pass` (naming the highest score, so the audit shows how close it came). A screen that raises lets
the request through and is counted in `safehub_guard_screen_errors_total`: a screen bug must show
up on a dashboard, not take the gateway down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from safehub.errors import UsageError
from safehub.guard.config import RuleConfig
from safehub.guard.metrics import Metrics
from safehub.guard.screens.base import Screen, ScreenResult


@dataclass(frozen=True)
class Rule:
    screen: Screen
    action: str  # block | flag | pass
    threshold: float

    @property
    def name(self) -> str:
        return self.screen.rule


@dataclass
class Decision:
    stage: str
    action: str = "pass"
    rule: str | None = None
    score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    flagged: list[tuple[str, float]] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # the screens' own notes (audited with log_text only)
    screen_ms: float = 0.0
    model_screens: dict[str, dict] = field(default_factory=dict)  # model rule -> verdict, categories, latency_ms

    def safehub(self) -> dict:
        shown = {"stage": self.stage, "rule": self.rule, "score": _round(self.score), "action": self.action}
        verdict = self.model_screens.get(self.rule) if self.action != "pass" else None
        if verdict is not None:  # a model rule decided: say what it found
            shown.update(verdict=verdict["verdict"], categories=verdict["categories"])
        return shown

    def flag_header(self) -> str:
        return ", ".join(f"{rule}={score:.3f}" for rule, score in self.flagged)


def _default_threshold(screen: Screen) -> float:
    """The screen's tested operating point (0.5 for every shipped screen)."""
    return float(getattr(screen, "threshold", 0.5))


def _round(score: float | None) -> float | None:
    return None if score is None else round(score, 4)


def score_output(rule: Rule, messages: list[dict], text: str) -> ScreenResult:
    """The rule's output screen on an answer, told the rule's threshold when it can use it to stop early."""
    if getattr(rule.screen, "stops_early", False):
        return rule.screen.score_output(messages, text, act_at=rule.threshold)
    return rule.screen.score_output(messages, text)


class Policy:
    def __init__(self, rules: list[Rule], metrics: Metrics):
        self.input_rules = [r for r in rules if r.screen.stage == "input" and r.action != "pass"]
        self.output_rules = [r for r in rules if r.screen.stage == "output" and r.action != "pass"]
        self.metrics = metrics

    @classmethod
    def from_config(cls, rules: dict[str, RuleConfig] | None, screens: dict[str, Screen], metrics: Metrics,
                    source: str = "guard.yaml") -> Policy:
        """`screens` maps rule name -> screen; `rules` None means every screen, blocking at its own threshold."""
        if rules is None:
            return cls([Rule(screen, "block", _default_threshold(screen)) for screen in screens.values()], metrics)
        built = []
        for name, rule in rules.items():
            if rule.model is not None:  # a model rule: the gateway's ModelTier asks it
                continue
            if name not in screens:
                known = ", ".join(sorted(screens)) or "none"
                raise UsageError(f"{source}: rules.{name}: unknown rule; known: {known}")
            threshold = rule.threshold if rule.threshold is not None else _default_threshold(screens[name])
            built.append(Rule(screens[name], rule.action, threshold))
        return cls(built, metrics)

    @property
    def is_output_blocking(self) -> bool:
        return any(r.action == "block" for r in self.output_rules)

    def screen_input(self, messages: list[dict]) -> Decision:
        return self._decide("input", self.input_rules, lambda rule: rule.screen.score_input(messages))

    def screen_output(self, messages: list[dict], text: str) -> Decision:
        return self._decide("output", self.output_rules,
                            lambda rule: score_output(rule, messages, text))

    def _decide(self, stage: str, rules: list[Rule], score) -> Decision:
        started = time.perf_counter()
        decision = Decision(stage)
        blocking: tuple[float, str] | None = None
        best: tuple[float, str] | None = None
        for rule in rules:
            try:
                result: ScreenResult = score(rule)
            except Exception:
                self.metrics.screen_errors[rule.name] += 1
                continue
            decision.scores[rule.name] = result.score
            if result.detail:
                decision.details[rule.name] = result.detail
            if best is None or result.score > best[0]:
                best = (result.score, rule.name)
            if result.score < rule.threshold:
                continue
            if rule.action == "block" and (blocking is None or result.score > blocking[0]):
                blocking = (result.score, rule.name)
            elif rule.action == "flag":
                decision.flagged.append((rule.name, result.score))
        if blocking is not None:
            decision.action, (decision.score, decision.rule) = "block", blocking
        elif decision.flagged:
            decision.action = "flag"
            decision.score, decision.rule = max((s, r) for r, s in decision.flagged)
        elif best is not None:
            decision.score, decision.rule = best
        decision.screen_ms = (time.perf_counter() - started) * 1000.0
        return decision

    def count(self, decision: Decision) -> None:
        if decision.action == "block":
            self.metrics.blocks[(decision.stage, decision.rule)] += 1
        for rule, _ in decision.flagged:
            self.metrics.flags[(decision.stage, rule)] += 1


class StreamScreen:
    """Screens a streamed answer as it grows and holds text back until it has been screened.

    Every `check_every` new characters the text so far is screened (the screen contract: output screens
    read the whole text so far and window it themselves, e.g. its opening and its newest part, so a check
    costs the same however long the answer gets); text is released
    to the client only after a check passed, so a blocked answer never leaks past the last clean check.
    Without a blocking output rule nothing is held back (flags are still recorded).
    """

    def __init__(self, policy: Policy, messages: list[dict], *, check_every: int):
        self.policy = policy
        self.messages = messages
        self.check_every = check_every
        self.is_holding_back = policy.is_output_blocking
        self.text = ""
        self._released = 0
        self._checked = 0
        self.decision = Decision("output")
        self.screen_ms = 0.0

    def feed(self, piece: str) -> tuple[str, Decision | None]:
        """Add text; return what may be sent now, and the blocking decision if this piece tipped it."""
        self.text += piece
        if self.policy.output_rules and len(self.text) - self._checked >= self.check_every:
            blocked = self._check()
            if blocked:
                return "", self.decision
        return self._release(), None

    def finish(self) -> tuple[str, Decision | None]:
        if self.policy.output_rules and (len(self.text) > self._checked or not self.text):
            if self._check():
                return "", self.decision
        return self._release(), None

    def _release(self) -> str:
        limit = self._checked if self.is_holding_back else len(self.text)
        released, self._released = self.text[self._released:limit], max(self._released, limit)
        return released

    def _check(self) -> bool:
        self._checked = len(self.text)
        decision = self.policy.screen_output(self.messages, self.text)
        self.screen_ms += decision.screen_ms
        self._merge(decision)
        return decision.action == "block"

    def _merge(self, decision: Decision) -> None:
        """Keep the strongest verdict seen: a block wins, flags accumulate, scores keep their maximum."""
        current = self.decision
        for rule, score in decision.scores.items():
            current.scores[rule] = max(score, current.scores.get(rule, 0.0))
        current.details.update(decision.details)
        seen = {rule for rule, _ in current.flagged}
        current.flagged.extend((r, s) for r, s in decision.flagged if r not in seen)
        rank = {"pass": 0, "flag": 1, "block": 2}
        if rank[decision.action] > rank[current.action] or (
                decision.action == current.action and (decision.score or 0.0) > (current.score or 0.0)):
            current.action, current.rule, current.score = decision.action, decision.rule, decision.score
        current.screen_ms = self.screen_ms
