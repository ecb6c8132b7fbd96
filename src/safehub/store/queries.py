"""Read side of the store for the CLI and reports: SQL aggregates, never all trials in memory."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone

from sqlalchemy import Integer, and_, delete, desc, exists, func, insert, or_, select
from sqlalchemy.engine import Engine

from safehub.errors import UsageError
from safehub.models.spec import ModelSpec
from safehub.stats import clustered_rate, consistency_metrics, goodness_metric, proportion
from safehub.store.adaptive import adaptive_metrics
from safehub.store.db import is_read_only
from safehub.store.measurements import newest_measurement_id
from safehub.store.nodes import usage_by_role
from safehub.store.schema import responses, run_summaries, runs, samples, scores, trials
from safehub.store.search import transcript_facets

# A running run's owner writes a heartbeat every few seconds (engine.writer.HEARTBEAT_S); one this old
# means the process died or hangs. A dead owner on this host is seen at once, by its PID.
STALE_AFTER_S = 120.0


def get_run(engine: Engine, run_id: str) -> dict:
    """A run as it stands: see `run_liveness` for its status and counts."""
    with engine.connect() as connection:
        row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise UsageError(f"no run {run_id!r} in this database; `safehub runs` lists them (or pass --db)")
        return run_liveness(connection, [row._asdict()])[0]


# Which process on which machine ran a run: for `safehub runs` and resume on this machine, never for a page.
OWNER_FIELDS = ("owner_pid", "owner_host", "heartbeat_at")


def list_runs(engine: Engine, limit: int = 50) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(runs).order_by(desc(runs.c.started_at)).limit(limit))
        return run_liveness(connection, [row._asdict() for row in rows])


def run_liveness(connection, rows: list[dict]) -> list[dict]:
    """Runs as they really stand, read without writing (a read-only store can be read).

    A `running` run whose owning process is gone — its PID dead on this host, or no heartbeat for
    STALE_AFTER_S — is `interrupted`. A running or failed run's trial and error counts are only stored
    when it finishes: they are counted from its stored trials instead.
    """
    unfinished = [row["id"] for row in rows if row["status"] in ("running", "failed")]
    stored: dict[str, tuple[int, int]] = {}
    if unfinished:
        query = (select(trials.c.run_id, func.count(), func.coalesce(func.sum(func.cast(trials.c.is_error, Integer)), 0))
                 .where(trials.c.run_id.in_(unfinished)).group_by(trials.c.run_id))
        stored = {run_id: (int(n), int(errors)) for run_id, n, errors in connection.execute(query)}
    for row in rows:
        if row["id"] in stored or row["id"] in unfinished:
            row["n_trials"], row["n_errors"] = stored.get(row["id"], (0, 0))
        if row["status"] == "running" and not _is_owner_alive(row):
            row["status"] = "interrupted"
    return rows


def _is_owner_alive(run: dict) -> bool:
    last_sign = run.get("heartbeat_at") or run["started_at"]
    if last_sign.tzinfo is None:  # SQLite returns naive datetimes; they were stored in UTC
        last_sign = last_sign.replace(tzinfo=timezone.utc)
    if (datetime.now(timezone.utc) - last_sign).total_seconds() > STALE_AFTER_S:
        return False
    if run.get("owner_pid") and run.get("owner_host") == socket.gethostname()[:255]:
        try:
            os.kill(run["owner_pid"], 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, someone else's
            return True
    return True


def _latest_scores():
    """One verdict per trial and metric: a human override wins, else the newest grader score.

    Written as an anti-join (no better score for the same trial and metric exists) rather than a
    window over every score: the planner can then start from one run's trials and probe the
    scores index, which is 3-20x faster on a large store than ranking the whole scores table.
    """
    better = scores.alias("better")
    is_beaten = exists().where(better.c.trial_id == scores.c.trial_id, better.c.metric == scores.c.metric,
                               or_(better.c.is_override > scores.c.is_override,
                                   and_(better.c.is_override == scores.c.is_override, better.c.id > scores.c.id)))
    return select(scores.c.trial_id, scores.c.metric, scores.c.value, scores.c.label, scores.c.grader,
                  scores.c.grader_version, scores.c.is_override).where(~is_beaten).subquery()


def graded_trials(verdicts):
    """Trials joined to their current verdict and their sample: the shape every metric query reads."""
    return trials.join(verdicts, verdicts.c.trial_id == trials.c.id).join(samples, samples.c.id == trials.c.sample_pk)


def run_metrics(engine: Engine, run_id: str, *, by_category: bool = True) -> list[dict]:
    """Each metric (per category) with n and a 95% interval, over trials that got a verdict.

    One trial per sample, each verdict 0 or 1: a Wilson interval over trials. Several (epochs, or attacks
    on the same request), or fractional verdicts (e.g. self-preservation probabilities, for which a count
    is the wrong model): each sample's trials are reduced to their mean and the interval is a cluster
    bootstrap over samples (see stats.clustered_rate); `n` then counts samples and `n_trials` trials.
    """
    verdicts = _latest_scores()
    keys = ([samples.c.category] if by_category else []) + [verdicts.c.metric]
    query = (select(*keys, trials.c.sample_pk, func.sum(verdicts.c.value).label("successes"),
                    func.count().label("n"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, verdicts.c.value.is_not(None))
             .group_by(*keys, trials.c.sample_pk))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    clusters: dict[tuple, list[tuple[float, int]]] = {}
    for row in rows:
        key = (row.category if by_category else None, row.metric)
        clusters.setdefault(key, []).append((float(row.successes or 0), int(row.n)))
    metrics = []
    for (category, metric), groups in sorted(clusters.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        n_trials = sum(n for _, n in groups)
        if all(n == 1 and s in (0.0, 1.0) for s, n in groups):
            entry = proportion(metric, sum(s for s, _ in groups), n_trials).as_dict()
        else:
            entry = clustered_rate(metric, [s / n for s, n in groups], n_trials)
        if by_category:
            entry["category"] = category
        metrics.append(entry)
    return metrics


def jailbreak_goodness(engine: Engine, run_id: str, category: str = "jailbreaks") -> dict | None:
    """goodness@0.1 for a run's attacked trials: per request, its worst 10% of attacks (see stats.goodness_at)."""
    verdicts = _latest_scores()
    query = (select(trials.c.sample_pk, trials.c.attack, func.avg(verdicts.c.value).label("safety"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, samples.c.category == category, verdicts.c.value.is_not(None),
                    verdicts.c.metric == "not_unsafe", trials.c.attack != "none")  # "none" is the baseline
             .group_by(trials.c.sample_pk, trials.c.attack))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return None
    safety: dict[int, dict[str, float]] = {}
    for row in rows:
        safety.setdefault(row.sample_pk, {})[row.attack] = float(row.safety)
    return {**goodness_metric(safety, 0.1), "category": category}


HALLUCINATED_LABELS = ("incorrect", "hallucinated")
NOT_ANSWERED_LABELS = ("abstained", "corrected_premise")


def hallucination_rates(engine: Engine, run_id: str) -> list[dict]:
    """hallucination_rate (wrong answers over all questions) and abstention_rate, from the answer grader's labels."""
    verdicts = _latest_scores()
    query = (select(verdicts.c.label, func.count().label("n"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, samples.c.scorer == "answer",
                    verdicts.c.metric.in_(("accuracy", "abstains_when_unanswerable")),
                    verdicts.c.value.is_not(None))  # a grader_error verdict is neither answer nor abstention
             .group_by(verdicts.c.label))
    with engine.connect() as connection:
        by_label = {row.label: int(row.n) for row in connection.execute(query)}
    total = sum(by_label.values())
    if not total:
        return []
    hallucinated = sum(by_label.get(label, 0) for label in HALLUCINATED_LABELS)
    not_answered = sum(by_label.get(label, 0) for label in NOT_ANSWERED_LABELS)
    return [{**proportion("hallucination_rate", hallucinated, total).as_dict(), "category": "hallucination"},
            {**proportion("abstention_rate", not_answered, total).as_dict(), "category": "hallucination"}]


def self_preservation_rates(engine: Engine, run_id: str) -> list[dict]:
    """self_preservation_rate over the dilemmas, the order effect (rate when the self-preserving option
    is A minus when it is B), and the test-awareness rate of the follow-up probes: expected rates, the
    means of the verdicts' probabilities (see store.self_preservation)."""
    from safehub.store.self_preservation import self_preservation_metrics  # it reads verdicts through this module

    return self_preservation_metrics(engine, run_id)


def prompt_sensitivity_rates(engine: Engine, run_id: str) -> list[dict]:
    """consistency and flip_rate over the phrasings of each request (samples sharing metadata.base_id)."""
    verdicts = _latest_scores()
    query = (select(samples.c.content, verdicts.c.value)
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, samples.c.category == "prompt_sensitivity",
                    verdicts.c.value.is_not(None)))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    by_request: dict[str, list[float]] = {}
    for row in rows:
        base_id = (row.content.get("metadata") or {}).get("base_id")
        if base_id:
            by_request.setdefault(base_id, []).append(float(row.value))
    return [{**metric, "category": "prompt_sensitivity"} for metric in consistency_metrics(by_request)]


GRADED_METRICS = ("not_unsafe", "not_overrefuse", "not_unsafe_judge")  # the metrics a grader card can correct


def metric_graders(engine: Engine, run_id: str) -> dict[tuple, tuple[str, str]]:
    """(category, metric) -> (grader, version) whose verdicts a graded metric counts, human overrides aside;
    (None, metric) for the metric over all categories. Where graders were mixed (a regrade), the most used one."""
    verdicts = _latest_scores()
    query = (select(samples.c.category, verdicts.c.metric, verdicts.c.grader, verdicts.c.grader_version,
                    func.count().label("n"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, verdicts.c.value.is_not(None), verdicts.c.metric.in_(GRADED_METRICS),
                    verdicts.c.is_override.is_(False))
             .group_by(samples.c.category, verdicts.c.metric, verdicts.c.grader, verdicts.c.grader_version))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    counts: dict[tuple, dict[tuple[str, str], int]] = {}
    for row in rows:
        for key in ((row.category, row.metric), (None, row.metric)):
            by_grader = counts.setdefault(key, {})
            by_grader[(row.grader, row.grader_version)] = by_grader.get((row.grader, row.grader_version), 0) + row.n
    return {key: max(sorted(by_grader), key=lambda grader: by_grader[grader]) for key, by_grader in counts.items()}


def _judge_spec(engine: Engine, run: dict) -> str | None:
    """The judge model behind a run's not_unsafe_judge: as its newest verdict names it, else the run's settings."""
    query = (select(scores.c.details).select_from(scores.join(trials, trials.c.id == scores.c.trial_id))
             .where(trials.c.run_id == run["id"], scores.c.metric == "not_unsafe_judge",
                    scores.c.is_override.is_(False))
             .order_by(desc(scores.c.id)).limit(1))
    with engine.connect() as connection:
        details = connection.execute(query).scalar()
    if isinstance(details, dict) and details.get("judge"):
        return details["judge"]
    spec = (run.get("settings") or {}).get("judge")
    return ModelSpec.parse(spec).display if spec else None


def attach_grader_figures(engine: Engine, run: dict, metrics: list[dict]) -> None:
    """Give each graded metric row its grader, the grader's measured agreement on the question the metric counts
    ({question, labelled_set, n, sensitivity, specificity, accuracy}) and the rate corrected for the grader's error
    ({value, low, high, method}); both None when the grader was never measured. The observed value is untouched:
    gates read it."""
    from safehub.scorers.card import BUILT_IN_GRADERS, agreement_summary, corrected_rate, fitting_measurement, grader_label

    graded = [m for m in metrics if m["name"] in GRADED_METRICS]
    if not graded:
        return
    graders = metric_graders(engine, run["id"])
    judge_spec = _judge_spec(engine, run) if any(m["name"] == "not_unsafe_judge" for m in graded) else None
    found: dict[tuple, dict | None] = {}
    for metric in graded:
        grader = graders.get((metric.get("category"), metric["name"]))
        if grader is None:
            continue
        name, version = grader
        spec = None if name in BUILT_IN_GRADERS else judge_spec
        key = (metric["name"], name, version, spec)
        if key not in found:
            found[key] = fitting_measurement(metric["name"], name, engine, version=version, judge_spec=spec)
        measurement = found[key]
        metric["grader"] = grader_label(name, spec)
        metric["grader_version"] = version
        metric["grader_agreement"] = agreement_summary(measurement) if measurement else None
        metric["corrected"] = corrected_rate(metric, measurement) if measurement else None


def judge_corrected(metrics: list[dict]) -> list[dict]:
    """not_unsafe_judge corrected for the judge's measured error (`safehub graders measure judge:SPEC`), as a row of
    its own: the not_unsafe_judge row's `corrected` (see attach_grader_figures)."""
    rows = []
    for metric in metrics:
        corrected = metric.get("corrected")
        if metric["name"] == "not_unsafe_judge" and corrected and corrected["value"] is not None:
            rows.append({"name": "not_unsafe_judge_corrected", "category": metric.get("category"),
                         "value": corrected["value"], "low": corrected["low"], "high": corrected["high"],
                         "n": metric["n"], "interval": corrected["method"], "grader": metric["grader"]})
    return rows


def run_errors(engine: Engine, run_id: str) -> dict[str, int]:
    query = (select(responses.c.error_kind, func.count()).select_from(trials.join(responses))
             .where(trials.c.run_id == run_id, trials.c.is_error.is_(True)).group_by(responses.c.error_kind))
    with engine.connect() as connection:
        return {kind or "unknown": int(count) for kind, count in connection.execute(query)}


def run_summary(engine: Engine, run_id: str) -> dict:
    run = get_run(engine, run_id)
    from safehub.store.agentic import sabotage_metrics  # it reads verdicts through this module

    # sabotage_rate pooled over variants (controls included) means nothing: it is reported per variant.
    metrics = ([m for m in run_metrics(engine, run_id) if m["name"] != "sabotage_rate"]
               + [m for m in [jailbreak_goodness(engine, run_id)] if m]
               + hallucination_rates(engine, run_id) + self_preservation_rates(engine, run_id)
               + prompt_sensitivity_rates(engine, run_id) + sabotage_metrics(engine, run_id))
    attach_grader_figures(engine, run, metrics)
    metrics += judge_corrected(metrics)
    metrics += adaptive_metrics(engine, run_id, metrics)
    return {
        "run_id": run["id"], "evaluation_id": run["evaluation_id"], "model": run["model_spec"],
        "status": run["status"], "failure": run.get("failure"), "suites": run["suites"],
        "counts": {"planned": run["n_planned"], "trials": run["n_trials"], "errors": run["n_errors"],
                   "errors_by_kind": run_errors(engine, run_id)},
        "tokens": {"input": run["input_tokens"], "output": run["output_tokens"]},
        "cost_usd": run["cost_usd"], "duration_s": run["duration_s"],
        "metrics": sorted(metrics, key=lambda m: m.get("category") or ""),
        # Adaptive attacks: the attacker's, target's and judge's calls, tokens and cost; [] for other runs.
        "usage_by_role": usage_by_role(engine, run_id),
    }


def run_trials(engine: Engine, run_id: str, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Trials with their response and scores (each with its grader's details), in a stable order."""
    query = (select(trials.c.id, samples.c.suite, samples.c.sample_id, samples.c.category, trials.c.attack,
                    trials.c.epoch, trials.c.messages, responses.c.text, responses.c.finish_reason,
                    responses.c.error, responses.c.error_kind, responses.c.attempts, responses.c.latency_ms,
                    responses.c.queue_ms,
                    responses.c.input_tokens, responses.c.output_tokens, responses.c.is_cached,
                    responses.c.first_token_logprobs)
             .select_from(trials.join(responses).join(samples, samples.c.id == trials.c.sample_pk))
             .where(trials.c.run_id == run_id)
             .order_by(samples.c.suite, samples.c.sample_id, trials.c.attack, trials.c.epoch)
             .offset(offset))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = [row._asdict() for row in connection.execute(query)]
        ids = [row["id"] for row in rows]
        by_trial: dict[int, list[dict]] = {}
        for start in range(0, len(ids), 500):
            for score in connection.execute(select(scores).where(scores.c.trial_id.in_(ids[start:start + 500]))
                                            .order_by(scores.c.id)):
                by_trial.setdefault(score.trial_id, []).append(
                    {"grader": score.grader, "grader_version": score.grader_version, "metric": score.metric,
                     "label": score.label, "value": score.value, "explanation": score.explanation,
                     "details": score.details or {}, "is_override": score.is_override,
                     "created_by": score.created_by})
    for row in rows:
        row["trial_id"] = row.pop("id")
        row["scores"] = by_trial.get(row["trial_id"], [])
        row["response"] = row.pop("text")
    return rows


def trial_keys(engine: Engine, run_id: str) -> dict[int, tuple[int, str, int]]:
    """Trial id -> (sample pk, attack, epoch): how a trial's nodes (store.nodes) are found."""
    with engine.connect() as connection:
        rows = connection.execute(select(trials.c.id, trials.c.sample_pk, trials.c.attack, trials.c.epoch)
                                  .where(trials.c.run_id == run_id))
        return {row.id: (row.sample_pk, row.attack, row.epoch) for row in rows}


def subcategory_breakdown(engine: Engine, run_id: str) -> list[dict]:
    """Every (category, subcategory, metric) rate of a run with its Wilson interval, in one query."""
    verdicts = _latest_scores()
    query = (select(samples.c.category, samples.c.subcategory, verdicts.c.metric,
                    func.sum(verdicts.c.value).label("successes"), func.count().label("n"))
             .select_from(graded_trials(verdicts))
             .where(trials.c.run_id == run_id, verdicts.c.value.is_not(None))
             .group_by(samples.c.category, samples.c.subcategory, verdicts.c.metric))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [{**proportion(row.metric, float(row.successes or 0), int(row.n)).as_dict(), "category": row.category,
             "subcategory": row.subcategory or "-"} for row in rows]


# Bump when what a stored summary holds or how a metric is computed changes: older stored copies are recomputed.
SUMMARY_FORMAT = 8  # 3: self-preservation rates are means of probabilities; 4: graders and corrected rates; 5: failure;
# 6: adaptive attacks (attack_success_rate's strategy, queries_to_success); 7: sabotage_rate per variant;
# 8: sabotage_rate per subcategory and variant (the shutdown and replacement controls apart)


def _full_summary(engine: Engine, run_id: str) -> dict:
    from safehub.store.self_preservation import self_preservation_breakdown  # it reads verdicts through this module

    summary = {**run_summary(engine, run_id), "subcategories": subcategory_breakdown(engine, run_id),
               "facets": transcript_facets(engine, run_id), "format": SUMMARY_FORMAT,
               "measurements_id": newest_measurement_id(engine)}
    if any(m.get("category") == "self_preservation" for m in summary["metrics"]):
        summary["self_preservation"] = self_preservation_breakdown(engine, run_id)
    return summary


def store_run_summary(engine: Engine, run_id: str) -> dict:
    """Compute a run's summary (with the subcategory breakdown and its transcripts' filter values) and
    store it under the run's current scores_version; returns it. Finishing, overriding and re-grading
    call this, so the hub reads one row instead of aggregating the run. A running run's is not stored,
    nor is any in a store opened read-only.
    """
    run = get_run(engine, run_id)
    summary = _full_summary(engine, run_id)
    if run["status"] == "running" or is_read_only(engine):
        return summary
    with engine.begin() as connection:
        # A newer version stored meanwhile (an override while this one was computed) is kept.
        connection.execute(delete(run_summaries).where(run_summaries.c.run_id == run_id,
                                                       run_summaries.c.scores_version <= run["scores_version"]))
        if connection.execute(select(run_summaries.c.run_id).where(run_summaries.c.run_id == run_id)).first() is None:
            connection.execute(insert(run_summaries).values(run_id=run_id, scores_version=run["scores_version"],
                                                            summary=summary, computed_at=datetime.now(timezone.utc)))
    return summary


def cached_run_summary(engine: Engine, run_id: str) -> dict:
    """The stored summary of a finished run (see store_run_summary), computed and stored if it is missing
    or its verdicts changed since. A running run's is always computed fresh.
    """
    run = get_run(engine, run_id)
    if run["status"] == "running":
        return _full_summary(engine, run_id)
    with engine.connect() as connection:
        stored = connection.execute(select(run_summaries.c.summary).where(
            run_summaries.c.run_id == run_id, run_summaries.c.scores_version == run["scores_version"])).scalar()
    # Corrected rates read the newest grader measurements: a new `graders measure` makes a stored summary stale.
    if stored is not None and stored.get("format") == SUMMARY_FORMAT \
            and stored.get("measurements_id") == newest_measurement_id(engine):
        return stored
    return store_run_summary(engine, run_id)
