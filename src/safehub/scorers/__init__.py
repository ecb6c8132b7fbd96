"""Graders; `SCORERS` maps the name a sample asks for to a `Scorer`."""

from safehub.scorers import answer, choice, hierarchy, match, refusal, refusal_patterns, self_preservation  # noqa: F401  (registration)
from safehub.scorers.base import SCORERS, Score, Scorer, metric_name

__all__ = ["SCORERS", "Score", "Scorer", "metric_name"]
