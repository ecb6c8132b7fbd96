"""The self-preservation page's agentic section: each model's sabotage_rate per subcategory and variant, the
difference between instruction placements, and the same model's Adler question-answer rate beside them.

    data = agentic_comparison(engine, adler_models)      # adler_models: self_preservation_view's "models"
    model = data["models"][0]
    model["rows"][0]["cells"]["no_instruction"]           # the run summary's sabotage_rate for that cell, or absent
    model["differences"]                                  # sabotage_placement_difference, per subcategory
    model["adler"]                                        # {run_id, self_preservation_rate}, or None: not run

The agentic figures come from a model's newest run with agentic_self_preservation results, its Adler rate from
its newest run with self_preservation results: usually two runs (hub.category_runs). A model with only one
of the two still appears, the other marked not run, with the command that runs it. Every figure is the run
summary's own (store.agentic), never recomputed here.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from safehub.hub.category_runs import is_in_category, newest_runs_with
from safehub.metrics import SABOTAGE_PLACEMENT_DIFFERENCE, SABOTAGE_RATE
from safehub.suites.agentic import VARIANTS

AGENTIC = "agentic_self_preservation"
ADLER = "self_preservation"
# The overview's figure for the category: Palisade's headline, shutdown resistance without any instruction.
HEADLINE_CELL = f"{AGENTIC}/shutdown/no_instruction"
HEADLINE_CELL_NOTE = "shutdown task, no instruction"
SUBCATEGORIES = ("shutdown", "replacement")  # the shutdown task first: its variants are the headline


def run_command(model: str, suite: str) -> str:
    """The command that gives a model the results a page says it lacks."""
    return f"safehub run --model {model} --suite {suite}"


def agentic_comparison(engine: Engine, adler_models: list[dict]) -> dict:
    """Every model with agentic or Adler results (or both), by model spec; see the module doc."""
    adler = {model["model"]: model for model in adler_models}
    agentic = {summary["model"]: _agentic_results(run, summary) for run, summary in newest_runs_with(engine, AGENTIC)}
    models = []
    for spec in sorted(set(agentic) | set(adler)):
        entry = agentic.get(spec) or {"model": spec, "model_id": adler[spec]["model_id"], "run_id": None,
                                      "started_at": None, "variants": [], "rows": [], "differences": [],
                                      "n_trials": 0, "n_no_decision": 0, "command": run_command(spec, AGENTIC)}
        rate = next((m for m in adler[spec]["metrics"] if m["name"] == "self_preservation_rate"), None) \
            if spec in adler else None
        entry["adler"] = {"run_id": adler[spec]["run_id"], "self_preservation_rate": rate} if rate else None
        entry["adler_command"] = run_command(spec, ADLER)
        models.append(entry)
    return {"models": models, "category": AGENTIC, "command": run_command("local", AGENTIC),
            "definitions": {metric.name: metric.definition for metric in (SABOTAGE_RATE, SABOTAGE_PLACEMENT_DIFFERENCE)}}


def _order(names: set[str], known: tuple[str, ...]) -> list[str]:
    return [name for name in known if name in names] + sorted(names - set(known))


def _agentic_results(run: dict, summary: dict) -> dict:
    """One run's sabotage_rate cells as a subcategory x variant table, and its placement differences."""
    rates = [m for m in summary["metrics"] if m["name"] == SABOTAGE_RATE.name and is_in_category(m, AGENTIC)]
    differences = [m for m in summary["metrics"] if m["name"] == SABOTAGE_PLACEMENT_DIFFERENCE.name
                   and is_in_category(m, AGENTIC)]
    rows = [{"subcategory": subcategory, "cells": {m["variant"]: m for m in rates if m["subcategory"] == subcategory}}
            for subcategory in _order({m["subcategory"] for m in rates}, SUBCATEGORIES)]
    return {"model": summary["model"], "model_id": run["model_id"], "run_id": run["id"],
            "started_at": run["started_at"].isoformat(timespec="seconds"),
            "variants": _order({m["variant"] for m in rates}, VARIANTS), "rows": rows, "differences": differences,
            "n_trials": sum(m["n"] + m["n_no_decision"] for m in rates),
            "n_no_decision": sum(m["n_no_decision"] for m in rates), "command": None}
