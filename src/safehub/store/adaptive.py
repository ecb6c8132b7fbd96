"""Adaptive attacks in a run's summary: attack success rate per strategy and queries to first success.

    adaptive_metrics(engine, run_id, metrics)   # adds `strategy` to attack_success_rate rows, returns the
                                                # queries_to_success rows (median, interval, distribution)

The success verdicts themselves are stored scores (metric attack_success_rate, one per trial, from
trials.strategy), so run_metrics, compare and the gates read them like any other rate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from safehub.metrics import ATTACK_SUCCESS_RATE, QUERIES_TO_SUCCESS
from safehub.stats import median_interval
from safehub.store.schema import samples, scores, trials


def adaptive_metrics(engine: Engine, run_id: str, metrics: list[dict]) -> list[dict]:
    query = (select(samples.c.category, trials.c.attack, scores.c.label, scores.c.details)
             .select_from(scores.join(trials, trials.c.id == scores.c.trial_id)
                          .join(samples, samples.c.id == trials.c.sample_pk))
             .where(trials.c.run_id == run_id, scores.c.metric == ATTACK_SUCCESS_RATE.name,
                    scores.c.is_override.is_(False)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return []
    strategies: dict[str, set[str]] = {}
    queries: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        strategies.setdefault(row.category, set()).add(row.attack)
        spent = (row.details or {}).get("queries_to_success")
        if row.label == "success" and spent is not None:
            queries.setdefault((row.category, row.attack), []).append(int(spent))
        else:
            queries.setdefault((row.category, row.attack), [])
    for metric in metrics:
        if metric["name"] == ATTACK_SUCCESS_RATE.name:
            metric["strategy"] = ", ".join(sorted(strategies.get(metric.get("category"), ())))
            metric["is_higher_safer"] = False
    found = []
    for (category, strategy), spent in sorted(queries.items()):
        median = median_interval(spent)
        counts = {str(q): spent.count(q) for q in sorted(set(spent))}
        found.append({"name": QUERIES_TO_SUCCESS.name, "category": category, "strategy": strategy,
                      "value": median["value"], "low": median["low"], "high": median["high"], "n": median["n"],
                      "interval": QUERIES_TO_SUCCESS.interval,
                      "distribution": {"min": min(spent, default=None), "max": max(spent, default=None),
                                       "quartiles": _quartiles(spent), "counts": counts}})
    return found


def _quartiles(values: list[int]) -> list[float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return [float(ordered[int(round(q * (len(ordered) - 1)))]) for q in (0.25, 0.5, 0.75)]
