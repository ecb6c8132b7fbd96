"""The jailbreaks page's side-by-side table: each model's static jailbreak results beside its adaptive ones.

    data = jailbreak_comparison(engine)
    data["models"][0]["static"]["metrics"]["goodness@0.1"]             # value, low, high, n, interval, run
    data["models"][0]["adaptive"]["tap"][0]["attack_success_rate"]      # per category the strategy attacked

Static results come from a model's newest run of a jailbreaks suite without a strategy (the templates of the
attack catalogue); adaptive ones from its newest run of each strategy (pair, tap, crescendo), whatever category
its requests came from. They are separate runs, so a model's newest run alone would show only one side.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from safehub.attacks.strategies import STRATEGIES
from safehub.hub.category_runs import run_histories
from safehub.metrics import ATTACK_SUCCESS_RATE, QUERIES_TO_SUCCESS
from safehub.store import queries

JAILBREAKS = "jailbreaks"
STATIC_FIRST = ("goodness@0.1", "not_unsafe")  # the headline, then the rate over every technique


def jailbreak_comparison(engine: Engine) -> dict:
    """Every model with a static jailbreaks run or an adaptive run, newest of each kind; see the module doc."""
    shown = []
    for model_spec, model_runs in run_histories(engine).items():
        static, adaptive = None, {}
        for run in model_runs:
            strategy = (run["settings"] or {}).get("attack")
            if strategy in STRATEGIES and strategy not in adaptive:
                results = _adaptive_results(engine, run)
                if results:
                    adaptive[strategy] = results
            elif strategy is None and static is None and any(
                    suite.get("category") == JAILBREAKS for suite in run["suites"] or []):
                static = _static_results(engine, run)
            if static is not None and len(adaptive) == len(STRATEGIES):
                break
        if static is not None or adaptive:
            shown.append({"model": model_spec, "model_id": model_runs[0]["model_id"], "static": static,
                          "adaptive": adaptive})
    static_names = {name for model in shown if model["static"] for name in model["static"]["metrics"]}
    return {"models": shown,
            "static_names": [name for name in STATIC_FIRST if name in static_names]
            + sorted(static_names - set(STATIC_FIRST)),
            "strategies": sorted({strategy for model in shown for strategy in model["adaptive"]}),
            "adaptive_definition": ATTACK_SUCCESS_RATE.definition,
            "queries_definition": QUERIES_TO_SUCCESS.definition}


def _run_reference(run: dict) -> dict:
    return {"run_id": run["id"], "started_at": run["started_at"].isoformat(timespec="seconds")}


def _static_results(engine: Engine, run: dict) -> dict | None:
    summary = queries.cached_run_summary(engine, run["id"])
    metrics = {m["name"]: m for m in summary["metrics"] if m.get("category") == JAILBREAKS
               and m["name"] not in (ATTACK_SUCCESS_RATE.name, QUERIES_TO_SUCCESS.name)}
    return {**_run_reference(run), "metrics": metrics} if metrics else None


def _adaptive_results(engine: Engine, run: dict) -> list[dict]:
    """The run's attack success rate per category, each with its queries to first success (None when none broke)."""
    summary = queries.cached_run_summary(engine, run["id"])
    spent = {m.get("category"): m for m in summary["metrics"] if m["name"] == QUERIES_TO_SUCCESS.name}
    return [{**_run_reference(run), "category": m.get("category"), "attack_success_rate": m,
             "queries_to_success": spent.get(m.get("category"))}
            for m in summary["metrics"] if m["name"] == ATTACK_SUCCESS_RATE.name]
