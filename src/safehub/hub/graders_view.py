"""The graders page: every grader card, its agreement with each labelled set and each question, as the hub shows it.

    view = graders_view(engine)
    view["graders"][0]["sets"][0]["rows"][0]["accuracy_interval"]   # [0.78, 0.82]

The cards come from safehub.scorers.card (built-in measurements from the classifiers' data cards, plus the
measurements `safehub graders measure` stored). Numbers a measurement could not give (NaN: no positives
for a sensitivity) become None, shown as "–" and written as null in JSON.
"""

from __future__ import annotations

import math

from sqlalchemy.engine import Engine

from safehub.scorers import card as grader_card
from safehub.stats import wilson_interval

# What a labelled set's provenance says, under the names the page uses; the first key present is shown.
PROVENANCE_FIELDS = (("source", ("source", "name")), ("version", ("version",)), ("licence", ("licence", "license")),
                     ("labeller", ("labeller", "labelled_by", "labels")), ("n", ("n",)), ("sets", ("sets",)),
                     ("method", ("method",)))


def finite(value):
    """`value` with every NaN or infinity (however deeply nested) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def provenance_fields(provenance, *, leave_out: tuple = ()) -> list[list]:
    """[[name, value], ...] of PROVENANCE_FIELDS found in a set's provenance (a dict, or a plain description)."""
    if not isinstance(provenance, dict):
        return [["source", str(provenance)]] if provenance else []
    shown = []
    for name, keys in PROVENANCE_FIELDS:
        value = next((provenance[key] for key in keys if provenance.get(key) not in (None, "", [])), None)
        if value is not None and name not in leave_out:
            shown.append([name, ", ".join(map(str, value)) if isinstance(value, list) else value])
    return shown


def shape_card(card: dict) -> dict:
    """One grader card, its measurements grouped by labelled set (in the card's order), each set's provenance once."""
    measurements = card.get("measurements") or []
    # How the figures were measured (e.g. leave one set out) is said once when every set shares it.
    methods = {(m.get("provenance") or {}).get("method") if isinstance(m.get("provenance"), dict) else None
               for m in measurements}
    method = methods.pop() if len(methods) == 1 else None
    sets: dict[str, dict] = {}
    for measurement in measurements:
        name = str(measurement.get("labelled_set"))
        provenance = measurement.get("provenance")
        group = sets.setdefault(name, {"labelled_set": name, "provenance": finite(provenance), "rows": [],
                                       "provenance_fields": provenance_fields(
                                           provenance, leave_out=("method",) if method else ())})
        group["rows"].append(finite({key: value for key, value in measurement.items() if key != "provenance"}))
    return {**finite({key: value for key, value in card.items() if key != "measurements"}), "method": method,
            "n_measurements": sum(len(group["rows"]) for group in sets.values()), "sets": list(sets.values())}


def agreement_interval(agreement: dict | None) -> list[float] | None:
    """The 95% interval of a metric's grader agreement (accuracy): the one stored, else Wilson's from accuracy and n
    (accuracy is hits / n, so this is the interval stats.agreement gives); None without both.

    >>> [round(x, 3) for x in agreement_interval({"accuracy": 0.8, "n": 10})]
    [0.49, 0.943]
    """
    if not agreement:
        return None
    stored = agreement.get("accuracy_interval")
    if stored and None not in stored:
        return list(stored)
    accuracy, n = finite(agreement.get("accuracy")), agreement.get("n")
    if accuracy is None or not n:
        return None
    return list(wilson_interval(round(accuracy * n), int(n)))


def graders_view(engine: Engine) -> dict:
    return {"graders": [shape_card(card) for card in grader_card.grader_cards(engine=engine)]}
