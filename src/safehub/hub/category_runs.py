"""Each model's newest run with results in one category: what a page about that category shows.

    for run, summary in newest_runs_with(engine, "self_preservation"):
        run["id"], run["model_id"], summary["metrics"]

A model's newest run overall may be of another suite (a jailbreaks run after its self-preservation run), so a
page about one category reads further back, up to RUNS_READ_PER_MODEL runs, to the newest run whose summary
has a metric in the category. Only runs of a suite with samples in the category are read at all. A metric is
in a category when its category is that one or below it: agentic_self_preservation holds
agentic_self_preservation/shutdown/no_instruction (sabotage_rate is reported per subcategory and variant).
"""

from __future__ import annotations

from sqlalchemy import desc, or_, select
from sqlalchemy.engine import Engine

from safehub.store import queries
from safehub.store.schema import runs, samples

RUNS_READ_PER_MODEL = 50  # how far back a model's history is searched, here and on the jailbreaks page


def run_histories(engine: Engine) -> dict[str, list[dict]]:
    """Each model's runs with results, newest first and at most RUNS_READ_PER_MODEL of them, by model spec."""
    query = select(runs).where(runs.c.n_trials > 0).order_by(runs.c.model_spec, desc(runs.c.started_at))
    history: dict[str, list[dict]] = {}
    with engine.connect() as connection:
        for row in connection.execute(query):
            model_runs = history.setdefault(row.model_spec, [])
            if len(model_runs) < RUNS_READ_PER_MODEL:
                model_runs.append(row._asdict())
    return history


def is_in_category(metric: dict, category: str) -> bool:
    """Whether a summary's metric belongs on the page of `category` (its own, or one below it)."""
    found = metric.get("category") or ""
    return found == category or found.startswith(f"{category}/")


def newest_runs_with(engine: Engine, category: str) -> list[tuple[dict, dict]]:
    """(run, summary) of each model's newest run with a metric in `category`, by model spec; see the module doc."""
    # A metric's category is its sample's category, or below it (sabotage_rate's per-variant categories).
    parts = category.split("/")
    above = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    suites_query = (select(samples.c.suite).distinct()
                    .where(or_(samples.c.category.in_(above), samples.c.category.startswith(f"{category}/",
                                                                                            autoescape=True))))
    with engine.connect() as connection:
        suite_names = set(connection.execute(suites_query).scalars())
    if not suite_names:
        return []
    found = []
    for model_runs in run_histories(engine).values():
        for run in model_runs:
            if not any(suite.get("name") in suite_names for suite in run["suites"] or []):
                continue
            summary = queries.cached_run_summary(engine, run["id"])
            if any(is_in_category(metric, category) for metric in summary["metrics"]):
                found.append((run, summary))
                break
    return found
