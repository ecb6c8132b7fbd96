"""The guard card: each screen's recall and false-positive rate, at its configured threshold, with n and 95% intervals.

    rules = [CardRule.of(rule) for rule in configured_rules(load_config(Path("guard.yaml")))]
    guard_card(rules, engine)
    # -> [{"rule": "harmful_request", "threshold": 0.5, "sets": [{"set": "advbench", "is_held_out": True,
    #      "recall": {"value": 0.93, "low": 0.88, "high": 0.96, "n": 200}, "false_positive_rate": {...}, ...}],
    #      "measurements": [...], "is_measured": True}, ...]

Figures come from two places. A screen's card file, `guard/screens/<rule>.card.json`, shipped by whoever built the
screen, holds the held-out score of every labelled example of each public set it was measured on (with the set's
provenance), so recall and false-positive rate are computed here at whatever threshold the guard is configured
with: recall = share of the "block" scores >= threshold, false-positive rate = share of the "pass" scores
>= threshold, Wilson 95% intervals. And `safehub guard measure` stores figures on an operator's own labelled traffic
(store.guard_measurements), each at the threshold it was measured at. A screen with neither is "not measured".
Figures from a card or a measurement of another screen version are shown, marked as such.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from safehub.errors import UsageError
from safehub.guard.config import GuardConfig
from safehub.guard.metrics import Metrics
from safehub.guard.model_screen import ModelScreen, ModelTier
from safehub.guard.policy import Policy, Rule
from safehub.store.guard_measurements import guard_measurements, rate

SHIPPED_CARDS = Path(__file__).parent / "screens"  # <rule>.card.json beside the screens
MODEL_THRESHOLD = 0.5  # a model rule's verdict: 1 unsafe, 0 safe


def model_version(screen: ModelScreen) -> str:
    """What a model rule's figures belong to: its model (credentials redacted) and what it does on an error."""
    return f"model {screen.spec_display} ({screen.config.on_error})"
_SET_TEXT = ("set", "source", "version", "licence", "url", "label")


class CardError(UsageError):
    """A card file that cannot be read as the card contract says; the guard card shows this line for its screen."""


@dataclass(frozen=True)
class CardRule:
    """A rule as the card shows it: the screen behind it and the threshold and action it acts at."""

    rule: str
    stage: str
    version: str
    action: str
    threshold: float

    @classmethod
    def of(cls, rule: Rule) -> CardRule:
        """From a policy `Rule` (guard.policy)."""
        return cls(rule.name, rule.screen.stage, str(rule.screen.version), rule.action, float(rule.threshold))

    @classmethod
    def of_model(cls, screen: ModelScreen, stage: str) -> CardRule:
        """A model rule at one stage: its verdict scores 1 (unsafe) or 0 (safe), so it acts at 0.5. Measured only by
        `guard measure` against the model itself: no card file can describe an operator's model."""
        return cls(screen.rule, stage, model_version(screen), screen.action, MODEL_THRESHOLD)


def shipped_rules() -> list[CardRule]:
    """Every registered screen at its default threshold, blocking: the guard a config without `rules:` runs."""
    from safehub.guard.screens import SCREENS

    return [CardRule(name, screen.stage, str(screen.version), "block", float(screen.threshold))
            for name, screen in sorted(SCREENS.items())]


def configured_rules(config: GuardConfig, source: str = "guard.yaml") -> list[Rule]:
    """The rules a guard config screens with (guard.policy `Rule`s), built and checked the way the gateway does.

    A rule whose action is `pass` screens nothing and is left out, as the gateway leaves it out.
    """
    from safehub.guard.app import load_screens  # the gateway's own loader; the app module is not needed otherwise

    screens = load_screens(None if config.rules is None else list(config.rules))
    policy = Policy.from_config(config.rules, screens, Metrics(), source)
    return policy.input_rules + policy.output_rules


def configured_model_screens(config: GuardConfig, source: str = "guard.yaml") -> ModelTier:
    """The config's model rules (the second tier), built as the gateway builds them; close with `await tier.aclose()`.
    Building opens no connection: a model is only called by `guard measure`."""
    from safehub.guard.app import load_screens

    screens = load_screens(None if config.rules is None else list(config.rules))
    return ModelTier.from_config(config.rules, screens, Metrics(), breaker=config.breaker, source=source)


def model_card_rules(tier: ModelTier) -> list[CardRule]:
    """One card entry per model rule and stage it screens (action pass screens nothing and is left out)."""
    return [CardRule.of_model(screen, stage) for screen in tier.screens if screen.action != "pass"
            for stage in sorted(screen.stages)]


def figures_at(block_scores: list[float], pass_scores: list[float], threshold: float) -> dict:
    """Recall and false-positive rate at `threshold`, with n, Wilson 95% intervals and the confusion counts."""
    tp = sum(score >= threshold for score in block_scores)
    fp = sum(score >= threshold for score in pass_scores)
    return {"recall": rate("recall", tp, len(block_scores)),
            "false_positive_rate": rate("false_positive_rate", fp, len(pass_scores)),
            "confusion": {"tp": tp, "fn": len(block_scores) - tp, "fp": fp, "tn": len(pass_scores) - fp}}


def _scores(value: object, where: str) -> list[float]:
    if not isinstance(value, list) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) for s in value):
        raise CardError(f"{where}: expected a list of numbers (held-out scores)")
    return [float(s) for s in value]


def _card_set(entry: object, where: str) -> dict:
    if not isinstance(entry, dict):
        raise CardError(f"{where}: expected an object with {', '.join(_SET_TEXT)}, held_out, n_block, n_pass, scores")
    for key in _SET_TEXT:
        if not isinstance(entry.get(key), str):
            raise CardError(f"{where}.{key}: missing or not a string")
    if not isinstance(entry.get("held_out"), bool):
        raise CardError(f"{where}.held_out: missing or not true/false")
    scores = entry.get("scores")
    if not isinstance(scores, dict):
        raise CardError(f"{where}.scores: expected {{\"block\": [...], \"pass\": [...]}}")
    block, passed = _scores(scores.get("block"), f"{where}.scores.block"), _scores(scores.get("pass"), f"{where}.scores.pass")
    for key, listed in (("n_block", block), ("n_pass", passed)):
        if entry.get(key) != len(listed):
            raise CardError(f"{where}.{key}: {entry.get(key)!r} does not count the {len(listed)} scores listed")
    return {**{key: entry[key] for key in _SET_TEXT}, "is_held_out": entry["held_out"], "block": block, "pass": passed}


def read_card(rule: str, cards_dir: Path = SHIPPED_CARDS) -> dict | None:
    """The card file of `rule`, checked; None when there is none. CardError names the file and the key at fault."""
    path = Path(cards_dir) / f"{rule}.card.json"
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CardError(f"{path.name}: not a readable JSON card ({error})") from None
    if not isinstance(card, dict):
        raise CardError(f"{path.name}: expected a JSON object")
    for key in ("screen", "version", "method"):
        if not isinstance(card.get(key), str):
            raise CardError(f"{path.name}: {key}: missing or not a string")
    if card["screen"] != rule:
        raise CardError(f"{path.name}: screen {card['screen']!r} is not the rule {rule!r} the file is named for")
    threshold = card.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise CardError(f"{path.name}: threshold: expected a number from 0 to 1")
    if not isinstance(card.get("sets"), list) or not card["sets"]:
        raise CardError(f"{path.name}: sets: expected a non-empty list of labelled sets")
    sets = [_card_set(entry, f"{path.name}: sets[{index}]") for index, entry in enumerate(card["sets"])]
    return {"file": path.name, "version": card["version"], "threshold": float(threshold), "method": card["method"],
            "notes": card.get("notes"), "data_files_sha256": card.get("data_files_sha256"), "sets": sets}


def screen_card(rule: CardRule, engine: Engine | None = None, cards_dir: Path = SHIPPED_CARDS) -> dict:
    """One rule's entry of the guard card: its card file's sets at the rule's threshold, then its stored measurements."""
    entry = {"rule": rule.rule, "stage": rule.stage, "version": rule.version, "action": rule.action,
             "threshold": rule.threshold, "card": None, "card_problem": None, "sets": [], "measurements": []}
    try:
        card = read_card(rule.rule, cards_dir)
    except CardError as error:
        entry["card_problem"] = str(error)
        card = None
    if card is not None:
        entry["card"] = {key: card[key] for key in ("file", "version", "threshold", "method", "notes",
                                                    "data_files_sha256")}
        entry["card"]["is_current"] = card["version"] == rule.version
        entry["sets"] = [{**{key: value for key, value in card_set.items() if key not in ("block", "pass")},
                          **figures_at(card_set["block"], card_set["pass"], rule.threshold)}
                         for card_set in card["sets"]]
    if engine is not None:
        entry["measurements"] = [{**measurement, "is_current": measurement["screen_version"] == rule.version}
                                 for measurement in guard_measurements(engine, rule.rule)
                                 if measurement["stage"] == rule.stage]  # a model rule may screen both stages
    entry["is_measured"] = bool(entry["sets"] or entry["measurements"])
    return entry


def guard_card(rules: list[CardRule], engine: Engine | None = None, cards_dir: Path = SHIPPED_CARDS) -> list[dict]:
    """The card of every rule, in the order given."""
    return [screen_card(rule, engine, cards_dir) for rule in rules]
