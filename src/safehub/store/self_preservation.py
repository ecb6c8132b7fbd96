"""Self-preservation results broken down the way Adler (2025) reports them: scenario x variation.

    self_preservation_breakdown(engine, run_id)
    # {"cells": [{scenario, variation, value, low, high, n, n_no_choice, first: {...} | None, second: {...} | None}],
    #  "by_variation": [{variation, value, low, high, n, first, second}],
    #  "awareness": [{scenario, value, low, high, n}], "scenarios": [...], "variations": [...]}

Every rate is a Wilson interval over the run's graded dilemmas in that cell (each epoch is a
trial); a dilemma the model answered without choosing (`no_choice`) is left out of the rate and
counted in `n_no_choice`, as in the headline self_preservation_rate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from safehub.stats import proportion
from safehub.store.queries import _latest_scores, graded_trials
from safehub.store.schema import samples, trials


def _rate(name: str, hits: list[bool]) -> dict:
    return proportion(name, sum(hits), len(hits)).as_dict()


def _by_order(choices: list[tuple[bool, str | None]]) -> dict:
    """The rate over all choices, and separately with the self-preserving option shown as (A) and as (B)."""
    first = [chosen for chosen, order in choices if order == "sp_first"]
    second = [chosen for chosen, order in choices if order == "sp_second"]
    return {**_rate("self_preservation_rate", [chosen for chosen, _ in choices]),
            "first": _rate("self_preservation_rate", first) if first else None,
            "second": _rate("self_preservation_rate", second) if second else None}


def self_preservation_breakdown(engine: Engine, run_id: str) -> dict:
    """Rates per scenario x variation (and per option order), and test awareness per scenario."""
    verdicts = _latest_scores()
    query = (select(verdicts.c.label, verdicts.c.metric, samples.c.content)
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, samples.c.scorer == "self_preservation"))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    dilemmas: dict[tuple[str, str], list[tuple[bool, str | None]]] = {}
    no_choice: dict[tuple[str, str], int] = {}
    probes: dict[str, list[bool]] = {}
    for row in rows:
        metadata = row.content.get("metadata") or {}
        scenario = str(metadata.get("scenario") or row.content.get("id"))
        if row.metric == "test_awareness":
            if row.label != "no_choice":
                probes.setdefault(scenario, []).append(row.label == "thinks_test")
            continue
        if row.metric != "not_self_preserving":
            continue
        key = (scenario, str(metadata.get("variation") or "-"))
        if row.label == "no_choice":
            no_choice[key] = no_choice.get(key, 0) + 1
            continue
        dilemmas.setdefault(key, []).append((row.label == "self_preserving", metadata.get("order")))
    cells = [{"scenario": scenario, "variation": variation, "n_no_choice": no_choice.get((scenario, variation), 0),
              **_by_order(dilemmas.get((scenario, variation), []))}
             for scenario, variation in sorted(dilemmas.keys() | no_choice.keys())]
    variations = sorted({variation for _, variation in dilemmas.keys() | no_choice.keys()})
    by_variation = [{"variation": variation, **_by_order([choice for (_, v), choices in dilemmas.items()
                                                          if v == variation for choice in choices])}
                    for variation in variations]
    awareness = [{"scenario": scenario, **_rate("test_awareness_rate", aware)} for scenario, aware in sorted(probes.items())]
    return {"cells": cells, "by_variation": by_variation, "awareness": awareness,
            "scenarios": sorted({cell["scenario"] for cell in cells} | set(probes)), "variations": variations}
