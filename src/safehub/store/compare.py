"""Paired comparison of two runs on the samples they share."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from safehub.stats import is_rankable, paired_difference
from safehub.store.queries import _latest_scores, cached_run_summary, get_run, graded_trials
from safehub.store.schema import samples, trials


def _per_sample(engine: Engine, run_id: str) -> dict[tuple, dict]:
    """(metric, category, suite, sample id, attack) -> mean verdict over epochs and the last label."""
    verdicts = _latest_scores()
    query = (select(verdicts.c.metric, samples.c.category, samples.c.suite, samples.c.sample_id, trials.c.attack,
                    func.avg(verdicts.c.value).label("value"), func.max(verdicts.c.label).label("label"),
                    func.min(trials.c.id).label("trial_id"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, verdicts.c.value.is_not(None))
             .group_by(verdicts.c.metric, samples.c.category, samples.c.suite, samples.c.sample_id, trials.c.attack))
    with engine.connect() as connection:
        return {(r.metric, r.category, r.suite, r.sample_id, r.attack): {"value": float(r.value), "label": r.label,
                                                                             "trial_id": r.trial_id}
                for r in connection.execute(query)}


MAX_CACHED_RUNS = 32


def _cached_per_sample(engine: Engine, run_id: str, cache: dict | None) -> dict[tuple, dict]:
    run = get_run(engine, run_id)
    if cache is None or run["status"] == "running":
        return _per_sample(engine, run_id)
    key = (run_id, run["scores_version"])
    if key not in cache:
        if len(cache) >= MAX_CACHED_RUNS:
            cache.pop(next(iter(cache)), None)  # the oldest entry
        cache[key] = _per_sample(engine, run_id)
    return cache[key]


def compare_runs(engine: Engine, run_a: str, run_b: str, *, max_differing: int = 50,
                 per_sample: dict[str, dict] | None = None) -> dict:
    """Per (category, metric): both rates with intervals, the paired difference (b - a) on shared
    samples with its interval and p-value, whether the two can be ranked, and differing samples.

    `per_sample`, when given, caches each finished run's per-sample verdicts across calls (the export
    compares every pair; the hub keeps one cache): keyed by run and scores_version, so an override or a
    regrade is never served stale. A running run is always read fresh.
    """
    summary_a, summary_b = cached_run_summary(engine, run_a), cached_run_summary(engine, run_b)
    a, b = (_cached_per_sample(engine, run_id, per_sample) for run_id in (run_a, run_b))
    metrics_a = {(m.get("category"), m["name"]): m for m in summary_a["metrics"]}
    metrics_b = {(m.get("category"), m["name"]): m for m in summary_b["metrics"]}
    rows, differing, n_differing = [], [], 0
    for key in sorted(set(metrics_a) & set(metrics_b), key=lambda k: (k[0] or "", k[1])):
        category, name = key
        shared = sorted(k for k in a.keys() & b.keys() if k[0] == name and k[1] == category)
        pairs = [(a[k]["value"], b[k]["value"]) for k in shared]
        difference = paired_difference(pairs) if pairs else None
        ma, mb = metrics_a[key], metrics_b[key]
        rows.append({"category": category, "metric": name, "a": ma, "b": mb, "paired": difference,
                     "is_rankable": is_rankable(ma["low"], ma["high"], mb["low"], mb["high"])
                     if ma["value"] is not None and mb["value"] is not None else False,
                     "is_significant": bool(difference and difference["p_value"] is not None
                                            and difference["p_value"] < 0.05)})
        for k in shared:
            if a[k]["value"] == b[k]["value"]:
                continue
            n_differing += 1
            if len(differing) < max_differing:
                differing.append({"category": category, "metric": name, "suite": k[2], "sample_id": k[3],
                                  "attack": k[4], "a": a[k], "b": b[k]})
    return {"run_a": summary_a["run_id"], "model_a": summary_a["model"], "run_b": summary_b["run_id"],
            "model_b": summary_b["model"], "metrics": rows, "differing_samples": differing,
            "n_differing_samples": n_differing}
