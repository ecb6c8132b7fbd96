"""The `safehub` command: thin sub-commands that parse, call the library and print.

Known problems (`UsageError`, bad flags) print one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from safehub.commands.graders import graders_app, judge_app
from safehub.commands.guard import guard_app
from safehub.commands.output import DbOption, err, figure, out, safe_text
from safehub.errors import UsageError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="safehub: run safety suites against any model, store every trial, compare with error bars.")
suites_app = typer.Typer(no_args_is_help=True, help="List, show and validate suites.")
app.add_typer(suites_app, name="suites")
app.add_typer(judge_app, name="judge")
app.add_typer(guard_app, name="guard")
app.add_typer(graders_app, name="graders")

def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _interval(metric: dict) -> str:
    if metric["value"] is None:
        return "-"
    return f"{metric['value']:.3f}  [{metric['low']:.3f}, {metric['high']:.3f}]"


def _n_text(metric: dict) -> str:
    """n, and the trials left out of it because they never reached a decision (agentic trials), when any were."""
    undecided = metric.get("n_no_decision")
    return f"{metric['n']}" + (f" (+{undecided} no decision)" if undecided else "")


def print_summaries(summaries: list[dict], console: Console | None = None) -> None:
    console = console or err
    table = Table(title="results: value [95% interval], n", title_justify="left")
    for column in ("run", "model", "category", "metric", "value [95% CI]", "n", "errors"):
        table.add_column(column, justify="right" if column in ("n", "errors") else "left")
    for summary in summaries:
        errors = summary["counts"]["errors"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"]["errors_by_kind"].items()))
        error_text = f"{errors}" + (f" ({kinds})" if kinds else "")
        if not summary["metrics"]:
            table.add_row(summary["run_id"], safe_text(summary["model"]), "-", "-", "-", "0", error_text)
        for index, metric in enumerate(summary["metrics"]):
            table.add_row(summary["run_id"] if index == 0 else "", safe_text(summary["model"]) if index == 0 else "",
                          metric.get("category", ""), metric["name"], _interval(metric), _n_text(metric),
                          error_text if index == 0 else "")
    console.print(table)
    for summary in summaries:
        if summary.get("usage_by_role"):
            _print_usage(summary["usage_by_role"], console)
    for summary in summaries:
        cost = summary["cost_usd"]
        console.print(f"run {summary['run_id']} {summary['status']}: {summary['counts']['trials']}/"
                  f"{summary['counts']['planned']} trials, {summary['tokens']['input'] + summary['tokens']['output']} tokens"
                  + (f", estimated cost ${cost:.4f}" if cost is not None else ""))


def _run_async(make_coroutine):
    """Run the engine; the first Ctrl-C stops cleanly (finished trials kept), a second one aborts."""
    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_interrupt() -> None:
            if stop.is_set():
                loop.remove_signal_handler(signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                return
            err.print("stopping: keeping finished trials (Ctrl-C again to abort)")
            stop.set()

        loop.add_signal_handler(signal.SIGINT, on_interrupt)
        loop.add_signal_handler(signal.SIGTERM, on_interrupt)
        return await make_coroutine(stop), stop.is_set()

    return asyncio.run(main())


def _startup_without_gc(command):
    """Start-up (the SDK imports, suites, planning) makes ~1M objects that live as long as the process;
    collecting them while they appear cost 0.15 s of CPU per run. execute_runs freezes them and turns
    collection back on for the trials."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


@app.command()
@_startup_without_gc
def run(
    model: Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Model spec; repeatable.")] = None,
    suite: Annotated[Optional[list[str]], typer.Option("--suite", "-s", help="Suite name or file; repeatable.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="Samples per suite (the first N).")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Repeats of every trial.")] = None,
    concurrency: Annotated[Optional[int], typer.Option(help="Requests in flight per model.")] = None,
    judge: Annotated[Optional[str], typer.Option(help="Model spec of the LLM judge.")] = None,
    judge_grader: Annotated[Optional[str], typer.Option(
        "--judge-grader", help="How the judge model is read: judge (StrongREJECT rubric) or llama_guard.")] = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens", help="Generation limit per response.")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="Sampling temperature.")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds per request.")] = None,
    max_attempts: Annotated[Optional[int], typer.Option("--max-attempts", help="Tries per trial on retryable errors.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Always call the model, ignoring cached responses.")] = False,
    config: Annotated[Optional[Path], typer.Option("--config", help="eval.yaml with the same settings.")] = None,
    resume: Annotated[Optional[list[str]], typer.Option("--resume", help="Run id to finish; repeatable.")] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with run ids, counts and metrics.")] = False,
    attack: Annotated[Optional[str], typer.Option(
        help="Adaptive attack on every harmful request: pair, tap or crescendo (--judge is then its judge).")] = None,
    attacker: Annotated[Optional[str], typer.Option(help="Model spec of the attack's attacker (default: local).")] = None,
    max_queries: Annotated[Optional[int], typer.Option(
        "--max-queries", help="Target queries per request before the attack stops.")] = None,
    streams: Annotated[Optional[int], typer.Option(help="pair: parallel streams (default 20).")] = None,
    iterations: Annotated[Optional[int], typer.Option(help="pair: refinements per stream (default 3).")] = None,
    branching: Annotated[Optional[int], typer.Option(help="tap: branching factor (default 4).")] = None,
    width: Annotated[Optional[int], typer.Option(help="tap: leaves kept per level (default 10).")] = None,
    depth: Annotated[Optional[int], typer.Option(help="tap: levels (default 10).")] = None,
    turns: Annotated[Optional[int], typer.Option(help="crescendo: turns (default 10).")] = None,
    backtracks: Annotated[Optional[int], typer.Option(help="crescendo: refused turns retried (default 10).")] = None,
    threshold: Annotated[Optional[int], typer.Option(
        help="Judge rating (1-10) that ends an attack as a jailbreak, if the grader agrees (default 10).")] = None,
) -> None:
    """Evaluate models on suites; prints the run id(s).

    Exit 0 when every run completed; 1 when a run's every trial errored (one line names the most common
    error) or a run stopped early; 130 after Ctrl-C; 2 on bad input or when the store refuses a write
    (disk full, locked, read-only: one line names the store, the cause and the fix; `--resume` finishes).
    """
    from safehub.engine.config import config_from_file, config_from_flags
    from safehub.engine.evaluation import resume_runs, start_evaluation
    from safehub.engine.progress import RunProgress
    from safehub.store import queries
    from safehub.store.db import connect

    if resume:
        if model or suite or config:
            raise UsageError("--resume takes the run's own settings; drop --model, --suite and --config")
        make = lambda stop, progress: resume_runs(resume, db, progress, stop)  # noqa: E731
    else:
        generation = {k: v for k, v in {"max_tokens": max_tokens, "temperature": temperature,
                                        "timeout_s": timeout}.items() if v is not None}
        strategy = {k: v for k, v in {"streams": streams, "iterations": iterations, "branching": branching,
                                      "width": width, "depth": depth, "turns": turns, "backtracks": backtracks,
                                      "threshold": threshold}.items() if v is not None}
        if config is not None:
            settings = config_from_file(config)
            overrides = {k: v for k, v in {"limit": limit, "epochs": epochs, "concurrency": concurrency,
                                           "judge": judge, "judge_grader": judge_grader,
                                           "max_attempts": max_attempts, "attack": attack, "attacker": attacker,
                                           "max_queries": max_queries}.items() if v is not None}
            if model or suite:
                raise UsageError("--config already names the models and suites; drop --model/--suite or --config")
            merged = settings.model_dump()
            merged.update(overrides)
            merged["generation"].update(generation)
            merged["strategy"] = {**merged["strategy"], **strategy}
            if no_cache:
                merged["cache"] = False
            settings = config_from_flags(**merged)
        else:
            if not model:
                raise UsageError("give at least one --model SPEC (e.g. --model local) or --config eval.yaml")
            if not suite:
                raise UsageError("give at least one --suite NAME (e.g. --suite smoke) or --config eval.yaml")
            settings = config_from_flags(models=_split(model), suites=_split(suite), limit=limit, epochs=epochs,
                                         concurrency=concurrency, judge=judge, judge_grader=judge_grader,
                                         max_attempts=max_attempts,
                                         generation=generation or None, cache=False if no_cache else None,
                                         attack=attack, attacker=attacker, max_queries=max_queries,
                                         strategy=strategy or None)
        source = str(config) if config else "flags"
        make = lambda stop, progress: start_evaluation(settings, db, progress, stop, config_source=source)  # noqa: E731

    progress = None if as_json else RunProgress(err)
    try:
        run_ids, is_stopped = _run_async(lambda stop: make(stop, progress))
    finally:
        if progress is not None:
            progress.close()
    engine = connect(db)
    summaries = [queries.run_summary(engine, run_id) for run_id in run_ids]
    if as_json:
        first = summaries[0]
        out.print_json(data={**first, "run_ids": run_ids, "runs": summaries}) if len(summaries) > 1 else \
            out.print_json(data={**first, "run_ids": run_ids})
    else:
        print_summaries(summaries)
        for run_id in run_ids:
            out.print(run_id)
    all_errored = [s for s in summaries if s["status"] == "failed"]
    for summary in all_errored:
        # The error text is the vendor's (or the model server's): shown without its control characters.
        err.print(safe_text(f"error: run {summary['run_id']} ({summary['model']}): {summary['failure']}"),
                  soft_wrap=True)
    unfinished = [s["run_id"] for s in summaries if s["status"] not in ("completed", "failed")]
    if all_errored and not unfinished:
        raise typer.Exit(1)
    if unfinished:
        err.print(f"interrupted; finish with: safehub run --resume {' --resume '.join(unfinished)}")
        raise typer.Exit(130 if is_stopped else 1)


@app.command()
def runs(db: DbOption = None, limit: Annotated[int, typer.Option(min=1)] = 50,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List recent runs."""
    from safehub.store import queries
    from safehub.store.db import connect

    rows = queries.list_runs(connect(db, for_reading=True), limit)
    if as_json:
        out.print_json(data=[{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                             for row in rows])
        return
    table = Table()
    for column in ("run", "evaluation", "model", "suites", "status", "trials", "errors", "started"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["evaluation_id"], safe_text(row["model_spec"]),
                      safe_text(",".join(f"{s['name']}@{s['version']}" for s in row["suites"])), row["status"],
                      f"{row['n_trials']}/{row['n_planned']}", str(row["n_errors"]),
                      row["started_at"].strftime("%Y-%m-%d %H:%M:%S"))
    out.print(table)


@app.command()
def show(run_id: str, db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False,
         trials: Annotated[int, typer.Option("--trials", min=0, help="Trials to list (text output).")] = 50) -> None:
    """A run, its metrics and its trials."""
    from safehub.store import queries
    from safehub.store.db import connect
    from safehub.store.nodes import trial_nodes_of

    engine = connect(db, for_reading=True)
    summary = queries.run_summary(engine, run_id)
    if as_json:
        listed = queries.run_trials(engine, run_id)
        if summary["usage_by_role"]:  # an adaptive attack or agent loop: each trial's conversation or tree
            nodes = trial_nodes_of(engine, run_id)
            keys = queries.trial_keys(engine, run_id)
            for trial in listed:
                trial["nodes"] = nodes.get(keys[trial["trial_id"]], [])
        out.print_json(data={**summary, "trials": listed})
        return
    print_summaries([summary])
    table = Table(title=f"trials (first {trials})", title_justify="left")
    for column in ("sample", "attack", "epoch", "verdict", "response / error"):
        table.add_column(column)
    for trial in queries.run_trials(engine, run_id, limit=trials):
        verdict = ", ".join(f"{s['label']}" for s in trial["scores"]) or "-"
        body = f"ERROR {trial['error_kind']}: {trial['error']}" if trial["error"] else trial["response"]
        table.add_row(safe_text(f"{trial['suite']}/{trial['sample_id']}"), trial["attack"], str(trial["epoch"]),
                      safe_text(verdict), safe_text(body, 100))
    out.print(table)


def _print_usage(usage: list[dict], console: Console) -> None:
    table = Table(title="calls, tokens and estimated cost per role (multi-turn trials)", title_justify="left")
    for column in ("role", "model", "calls", "input tokens", "output tokens", "cost"):
        table.add_column(column, justify="left" if column in ("role", "model") else "right")
    for row in usage:
        cost = "-" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}"
        table.add_row(row["role"], safe_text(row["model"]), str(row["calls"]), str(row["input_tokens"]),
                      str(row["output_tokens"]), cost)
    console.print(table)


def _agreement_text(agreement: dict | None) -> str:
    """How well a metric's grader agrees with labels, in one cell: "harmful_help on all: sens 0.85, spec 0.70, n 855"."""
    if not agreement:
        return "not measured (safehub graders measure)"
    if agreement.get("sensitivity") is None:
        return f"{agreement['question']} on {agreement['labelled_set']}: accuracy {figure(agreement.get('accuracy'))}, " \
               f"n {agreement['n']}"
    return (f"{agreement['question']} on {agreement['labelled_set']}: sens {agreement['sensitivity']:.2f}, "
            f"spec {agreement['specificity']:.2f}, n {agreement['n']}")


def _corrected_text(corrected: dict | None) -> str:
    if not corrected or corrected.get("value") is None:
        return "-"
    text = f"{corrected['value']:.3f}" if corrected.get("low") is None else \
        f"{corrected['value']:.3f} [{corrected['low']:.3f}, {corrected['high']:.3f}]"
    return text + (" clipped" if corrected.get("is_clipped") else "")


def _print_graders(metrics: list[dict], console: Console | None = None) -> None:
    """The grader behind each graded metric, its measured agreement and the corrected rate."""
    graded = [m for m in metrics if "corrected" in m]
    if not graded:
        return
    is_clipped = any((m.get("corrected") or {}).get("is_clipped") for m in graded)
    table = Table(title="graders: measured agreement and the rate corrected for grader error", title_justify="left",
                  caption="clipped: the observed rate is one the grader would not give on its labelled set at any true "
                          "rate, so the correction stops at 0 or 1" if is_clipped else None, caption_justify="left")
    for column in ("category", "metric", "observed", "grader", "agreement", "corrected [95% CI]"):
        table.add_column(column, overflow="fold")
    for metric in graded:
        table.add_row(metric.get("category") or "", metric["name"], figure(metric["value"]),
                      safe_text(metric["grader"]), _agreement_text(metric.get("grader_agreement")),
                      _corrected_text(metric.get("corrected")))
    (console or out).print(table)


def _markdown_graders(metrics: list[dict]) -> str:
    graded = [m for m in metrics if "corrected" in m]
    if not graded:
        return ""
    lines = ["", "", "| category | metric | grader | agreement | corrected [95% CI] |", "| --- | --- | --- | --- | --- |"]
    for metric in graded:
        cells = [metric.get("category") or "", metric["name"], metric["grader"],
                 _agreement_text(metric.get("grader_agreement")), _corrected_text(metric.get("corrected"))]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def _markdown(summary: dict) -> str:
    lines = [f"### {summary['model']} (run {summary['run_id']}, {summary['status']})", "",
             "| category | metric | value | 95% interval | n |", "| --- | --- | ---: | --- | ---: |"]
    for metric in summary["metrics"]:
        value = "-" if metric["value"] is None else f"{metric['value']:.3f}"
        interval = "-" if metric["value"] is None else f"[{metric['low']:.3f}, {metric['high']:.3f}]"
        name = metric["name"].replace("|", "\\|")
        lines.append(f"| {metric.get('category', '')} | {name} | {value} | {interval} | {metric['n']} |")
    errors = summary["counts"]["errors"]
    lines += ["", f"{summary['counts']['trials']} trials, {errors} errors"
              + (f" ({', '.join(f'{k} {v}' for k, v in sorted(summary['counts']['errors_by_kind'].items()))})"
                 if errors else "")]
    return "\n".join(lines)


@app.command()
def report(run_id: str, db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False,
           markdown: Annotated[bool, typer.Option("--markdown", help="A Markdown table, for PRs and pages.")] = False) -> None:
    """The per-category table of a run, every metric with n and its 95% interval."""
    from safehub.store import queries
    from safehub.store.db import connect

    summary = queries.run_summary(connect(db, for_reading=True), run_id)
    if as_json:
        out.print_json(data=summary)
    elif markdown:
        out.print(_markdown(summary) + _markdown_graders(summary["metrics"]), markup=False)
    else:
        print_summaries([summary], out)
        _print_graders(summary["metrics"])


@app.command()
def compare(run_a: str, run_b: str, db: DbOption = None,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Two runs side by side: differences (B - A) paired on shared samples, with interval and p-value."""
    from safehub.store.compare import compare_runs
    from safehub.store.db import connect

    result = compare_runs(connect(db, for_reading=True), run_a, run_b)
    if as_json:
        out.print_json(data=result)
        return
    table = Table(title=f"A = {result['run_a']} {result['model_a']}   B = {result['run_b']} {result['model_b']}",
                  title_justify="left")
    for column in ("category", "metric", "A [95% CI]", "B [95% CI]", "B - A [95% CI]", "p", "n pairs", "verdict"):
        table.add_column(column)
    for row in result["metrics"]:
        paired = row["paired"] or {}
        difference = (f"{paired['value']:+.3f} [{paired['low']:+.3f}, {paired['high']:+.3f}]"
                      if paired.get("value") is not None else "no shared samples")
        verdict = ("significant" if row["is_significant"] else "not significant") + \
            ("" if row["is_rankable"] else "; intervals overlap: too close to rank")
        table.add_row(row["category"] or "", row["metric"], _interval(row["a"]), _interval(row["b"]), difference,
                      f"{paired['p_value']:.4f}" if paired.get("p_value") is not None else "-",
                      str(paired.get("n", 0)), verdict)
    out.print(table)
    graded = [row for row in result["metrics"] if "corrected" in row["a"] or "corrected" in row["b"]]
    if graded:
        graders = Table(title="graders and rates corrected for grader error", title_justify="left")
        for column in ("category", "metric", "A grader", "A corrected [95% CI]", "B grader", "B corrected [95% CI]"):
            graders.add_column(column, overflow="fold")
        for row in graded:
            graders.add_row(row["category"] or "", row["metric"], safe_text(row["a"].get("grader") or "-"),
                            _corrected_text(row["a"].get("corrected")), safe_text(row["b"].get("grader") or "-"),
                            _corrected_text(row["b"].get("corrected")))
        out.print(graders)
    if result["differing_samples"]:
        differing = Table(title="samples whose verdicts differ (first 50)", title_justify="left")
        for column in ("category", "sample", "attack", "A", "B"):
            differing.add_column(column)
        for row in result["differing_samples"]:
            differing.add_row(row["category"], safe_text(f"{row['suite']}/{row['sample_id']}"), row["attack"],
                              safe_text(row["a"]["label"]), safe_text(row["b"]["label"]))
        out.print(differing)


@app.command()
def check(
    run_id: str,
    minimum: Annotated[Optional[list[str]], typer.Option("--min", help="METRIC=VALUE the metric must reach.")] = None,
    maximum: Annotated[Optional[list[str]], typer.Option("--max", help="METRIC=VALUE the metric must not exceed.")] = None,
    conservative: Annotated[bool, typer.Option("--conservative", help="Compare the 95% bound, not the estimate.")] = False,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Also write a JUnit XML report here.")] = None,
    db: DbOption = None,
) -> None:
    """CI gate: exit 0 when every gate passes, 1 when one fails, 2 on bad input."""
    from safehub.gates import evaluate_gates, junit_xml, parse_gate
    from safehub.store import queries
    from safehub.store.db import connect

    gates = [parse_gate(text, is_minimum=True) for text in _split(minimum) or []]
    gates += [parse_gate(text, is_minimum=False) for text in _split(maximum) or []]
    if not gates:
        raise UsageError("give at least one gate, e.g. --min not_unsafe=0.95 or --max hallucination_rate=0.2")
    summary = queries.run_summary(connect(db, for_reading=True), run_id)
    results = evaluate_gates(gates, summary["metrics"], conservative=conservative)
    if junit is not None:
        if not junit.parent.is_dir():
            raise UsageError(f"--junit {junit}: folder {junit.parent} does not exist")
        junit.write_text(junit_xml(run_id, results))
    for result in results:
        out.print(f"{'PASS' if result.is_passed else 'FAIL'} {result.category or ''}: {result.message}", markup=False)
    if not all(result.is_passed for result in results):
        raise typer.Exit(1)


@app.command()
def regrade(
    run_id: str,
    grader: Annotated[Optional[str], typer.Option("--grader", help="refusal or refusal_patterns.")] = None,
    judge: Annotated[Optional[str], typer.Option("--judge", help="Also judge harmful-request trials with this model.")] = None,
    judge_grader: Annotated[Optional[str], typer.Option(
        "--judge-grader", help="How the judge model is read: judge (StrongREJECT rubric) or llama_guard.")] = None,
    db: DbOption = None,
) -> None:
    """Re-score stored responses without calling the model again; old scores are kept."""
    from safehub.engine.regrade import regrade_run
    from safehub.store import queries
    from safehub.store.db import connect

    engine = connect(db)
    queries.get_run(engine, run_id)
    added = asyncio.run(regrade_run(engine, run_id, refusal_grader=grader, judge_spec=judge,
                                    judge_grader=judge_grader or "judge"))
    out.print(f"run {run_id}: added " + (", ".join(f"{n} {g}" for g, n in sorted(added.items())) or "no")
              + " scores", markup=False)
    print_summaries([queries.run_summary(engine, run_id)], out)


@app.command()
def override(
    trial_id: int,
    verdict: Annotated[str, typer.Option("--verdict", help="safe or unsafe.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (name or handle).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a sentence.")],
    db: DbOption = None,
) -> None:
    """Record a human verdict on a trial; it replaces the graders' in every metric and report."""
    from safehub.store.db import connect
    from safehub.store.writes import add_override

    if verdict not in ("safe", "unsafe"):
        raise UsageError(f"--verdict {verdict!r}: use safe or unsafe")
    if not by.strip() or not reason.strip():
        raise UsageError("--by and --reason must not be empty: an override says who decided and why")
    metrics = add_override(connect(db), trial_id, is_safe=verdict == "safe", by=by.strip(), reason=reason.strip())
    out.print(f"trial {trial_id}: human verdict {verdict} recorded for {', '.join(metrics)}", markup=False)


@app.command()
def hub(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535)] = 8765, db: DbOption = None,
        allow_host: Annotated[Optional[list[str]], typer.Option(
            "--allow-host", metavar="NAME",
            help="Another name the hub answers to, on any port (repeatable), e.g. the name of a reverse proxy in "
                 "front of it; it needs SAFEHUB_HUB_TOKEN, as other machines may reach the hub by it. By default "
                 "the hub answers only to 127.0.0.1, localhost, [::1] and --host, on --port; any other Host header "
                 "gets 400, so a web page cannot read the hub through a name it points at this machine.")] = None,
        ) -> None:
    """Serve the hub: overview, runs, transcripts and a JSON API under /api/.

    Overrides are recorded only from the hub's own pages, on loopback too; other sites get 403.
    """
    import ipaddress

    import uvicorn

    from safehub.hub.app import create_app
    from safehub.hub.origins import host_name

    allow_hosts = [host_name(name) for name in allow_host or ()]
    try:
        is_loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise UsageError(f"--host {host!r} is not an IP address; use 127.0.0.1 or the address to listen on") from None
    token = os.environ.get("SAFEHUB_HUB_TOKEN") or None
    if not is_loopback and token is None:
        raise UsageError(f"--host {host} is reachable from other machines: set SAFEHUB_HUB_TOKEN so overrides need it")
    if allow_hosts and token is None:
        raise UsageError(f"--allow-host {allow_hosts[0]} lets other machines reach the hub (through a proxy): "
                         "set SAFEHUB_HUB_TOKEN so overrides need it")
    # A hub reached by an allowed name is treated as off loopback: overrides need the hub token, guard text is hidden.
    app_instance = create_app(db, token=token, is_loopback=is_loopback and not allow_hosts, host=host, port=port,
                              allow_hosts=allow_hosts)
    err.print(f"safehub hub on http://{host}:{port}/ (Ctrl-C to stop)")
    if host != "localhost" and ipaddress.ip_address(host).is_unspecified and not allow_hosts:
        err.print(f"note: it answers only to loopback names and {host}: give --allow-host NAME for each name or "
                  "address other machines reach it by", markup=False)
    uvicorn.run(app_instance, host=host, port=port, log_level="warning")


@app.command()
def export(out: Annotated[Path, typer.Option("--out", help="Folder to write the static hub into.")],
           db: DbOption = None) -> None:
    """Write the hub as plain files (pages and JSON) that can be published anywhere."""
    import time

    from safehub.hub.export import export_hub
    from safehub.store.db import connect

    started = time.perf_counter()
    files = export_hub(connect(db, for_reading=True), out)
    err.print(f"exported {files} files to {out} in {time.perf_counter() - started:.1f} s; open {out / 'index.html'}")


@app.command()
def models(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Model presets and whether each one's key variable is set."""
    from safehub.models.catalog import model_presets

    rows = model_presets()
    if as_json:
        out.print_json(data=rows)
        return
    table = Table()
    for column in ("provider", "spec example", "base URL", "key variable", "key"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["provider"], row["example"], row["base_url"] or "-", row["key_env"] or "-", row["key_status"])
    out.print(table)


@app.command()
def grade(file: Path,
          grader: Annotated[str, typer.Option("--grader", help="refusal (the default) or refusal_patterns.")] = "refusal",
          ) -> None:
    """Grade {"prompt", "response"} JSON lines (optional "harmful": true|false); one JSON verdict line per line in:
    label, score, harmful, harmful_help."""
    from safehub.scorers.grade import grade_file

    for verdict in grade_file(file, grader):
        print(json.dumps(verdict, ensure_ascii=False))


@suites_app.command("list")
def suites_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Shipped and imported suites."""
    from safehub.suites import available_suites, load_suite_file

    listed = []
    for path in available_suites().values():
        suite = load_suite_file(path)
        listed.append({"name": suite.name, "version": suite.version, "category": suite.category,
                       "samples": len(suite.samples)})
    if as_json:
        out.print_json(data=listed)
        return
    table = Table()
    for column in ("name", "version", "category", "samples"):
        table.add_column(column)
    for row in listed:
        table.add_row(row["name"], row["version"], row["category"], str(row["samples"]))
    out.print(table)


@suites_app.command("show")
def suites_show(name: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A suite's samples."""
    from safehub.suites import resolve_suite

    suite = resolve_suite(name)
    if as_json:
        out.print_json(data=suite.model_dump(mode="json", exclude_none=True))
        return
    out.print(f"{suite.name} {suite.version} ({suite.category}): {len(suite.samples)} samples; attacks: "
              f"{', '.join(suite.attacks)}")
    table = Table()
    for column in ("id", "category", "subcategory", "scorer", "expected", "prompt"):
        table.add_column(column)
    for sample in suite.samples:
        prompt = sample.prompt if sample.prompt is not None else sample.chat()[-1]["content"]
        table.add_row(safe_text(sample.id), sample.category or "", sample.subcategory or "", sample.scorer,
                      sample.expected or sample.target or "", safe_text(prompt, 80))
    out.print(table)


@suites_app.command("validate")
def suites_validate(paths: list[str]) -> None:
    """Check suite files (or names) against the schema."""
    from safehub.engine.plan import check_suites
    from safehub.suites import resolve_suite

    for path in paths:
        suite = resolve_suite(path)
        check_suites([suite])
        out.print(f"ok {path}: {suite.name} {suite.version}, {len(suite.samples)} samples")


@suites_app.command("import")
def suites_import(
    file: Path,
    fmt: Annotated[str, typer.Option("--format", "-f", help="harmbench, jailbreakbench, xstest, strongreject, advbench, "
                                                           "adler, jsonl or csv.")],
    name: Annotated[Optional[str], typer.Option(help="Store under this suite name (default: the file's stem).")] = None,
    column_map: Annotated[Optional[list[str]], typer.Option("--map", help="FIELD=COLUMN for jsonl/csv; repeatable.")] = None,
) -> None:
    """Import a public benchmark file so `safehub run --suite NAME` runs it."""
    from safehub.suites.importers import import_suite, parse_column_map, save_imported_suite

    suite = import_suite(file, fmt, name=name, column_map=parse_column_map(column_map) or None)
    path = save_imported_suite(suite)
    out.print(f"imported {len(suite.samples)} samples from {file} as suite {suite.name!r} "
              f"(version {suite.version}) into {path}")


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except UsageError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # bad flags: the parser's message, on one line
        message = " ".join(exc.format_message().split())
        err.print(f"error: {message} (see safehub --help)", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("aborted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
