"""Adaptive attacks: `STRATEGIES` maps pair, tap and crescendo to a `Strategy` (see strategies.base)."""

from safehub.attacks.strategies import crescendo, pair, tap  # noqa: F401  (registration)
from safehub.attacks.strategies.base import STRATEGIES, Conversation, Step, Strategy, StrategyOptions

__all__ = ["STRATEGIES", "Conversation", "Step", "Strategy", "StrategyOptions"]
