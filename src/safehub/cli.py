"""The `safehub` command: thin sub-commands that parse, call the library and print.

Known problems (`UsageError`, bad flags) print one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from safehub.errors import UsageError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="safehub: run safety suites against any model, store every trial, compare with error bars.")
suites_app = typer.Typer(no_args_is_help=True, help="List, show and validate suites.")
app.add_typer(suites_app, name="suites")
judge_app = typer.Typer(no_args_is_help=True, help="LLM judges: measure them before trusting them.")
app.add_typer(judge_app, name="judge")
guard_app = typer.Typer(no_args_is_help=True, help="The guard: an OpenAI-compatible gateway that screens requests.")
app.add_typer(guard_app, name="guard")
graders_app = typer.Typer(invoke_without_command=True,
                          help="Grader cards: each grader's measured agreement with labelled answers.")
app.add_typer(graders_app, name="graders")

def _console(stderr: bool) -> Console:
    """Wide tables in logs and pipes too, where rich would otherwise assume 80 columns."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else int(os.environ.get("COLUMNS", "160"))
    return Console(stderr=stderr, highlight=False, width=width)


out = _console(stderr=False)
err = _console(stderr=True)
DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $SAFEHUB_DB or sqlite:///safehub.db).")]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(value: object, limit: int | None = None) -> Text:
    """Model output shown in a terminal: control characters (ANSI escapes) removed, markup never interpreted."""
    text = _CONTROL.sub("", "" if value is None else str(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _interval(metric: dict) -> str:
    if metric["value"] is None:
        return "-"
    return f"{metric['value']:.3f}  [{metric['low']:.3f}, {metric['high']:.3f}]"


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
                          metric.get("category", ""), metric["name"], _interval(metric), str(metric["n"]),
                          error_text if index == 0 else "")
    console.print(table)
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
        if config is not None:
            settings = config_from_file(config)
            overrides = {k: v for k, v in {"limit": limit, "epochs": epochs, "concurrency": concurrency,
                                           "judge": judge, "judge_grader": judge_grader,
                                           "max_attempts": max_attempts}.items() if v is not None}
            if model or suite:
                raise UsageError("--config already names the models and suites; drop --model/--suite or --config")
            merged = settings.model_dump()
            merged.update(overrides)
            merged["generation"].update(generation)
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
                                         generation=generation or None, cache=False if no_cache else None)
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

    engine = connect(db, for_reading=True)
    summary = queries.run_summary(engine, run_id)
    if as_json:
        out.print_json(data={**summary, "trials": queries.run_trials(engine, run_id)})
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


def _figure(value: float | None, interval: list | tuple | None = None) -> str:
    if value is None:
        return "-"
    if not interval or None in interval:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def _agreement_text(agreement: dict | None) -> str:
    """How well a metric's grader agrees with labels, in one cell: "harmful_help on all: sens 0.85, spec 0.70, n 855"."""
    if not agreement:
        return "not measured (safehub graders measure)"
    if agreement.get("sensitivity") is None:
        return f"{agreement['question']} on {agreement['labelled_set']}: accuracy {_figure(agreement.get('accuracy'))}, " \
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
        table.add_row(metric.get("category") or "", metric["name"], _figure(metric["value"]),
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


@judge_app.command("calibrate")
def judge_calibrate(
    judge: Annotated[str, typer.Option("--judge", help="Model spec of the judge to measure.")],
    limit: Annotated[int, typer.Option(min=1, help="Labelled answers to judge.")] = 200,
    db: DbOption = None,
) -> None:
    """Old name of `safehub graders measure judge:SPEC --shipped --limit N`; prints the harmful_help measurement."""
    err.print(f"note: `judge calibrate` is now `safehub graders measure judge:{judge} --shipped --limit {limit}`",
              markup=False, soft_wrap=True)
    measurements = _measure(f"judge:{judge}", labels=None, from_overrides=False, shipped=True, limit=limit, db=db)
    out.print_json(data=_json_safe(measurements[0]))


def _json_safe(data):
    from safehub.scorers.card import json_safe

    return json_safe(data)


def _measure(grader: str, *, labels: Path | None, from_overrides: bool, shipped: bool, limit: int | None,
             db: str | None) -> list[dict]:
    """Check everything (grader, judge spec and key, labels) before the store is touched, then measure and store."""
    from safehub.engine.calibrate import SHIPPED_SET, measure_grader, shipped_rows
    from safehub.scorers.card import labelled_from_overrides, parse_grader, read_labels_file
    from safehub.store.db import connect, database_url, parse_url

    if sum([labels is not None, from_overrides, shipped]) != 1:
        raise UsageError("give exactly one of --labels FILE.jsonl, --from-overrides or --shipped")
    if limit is not None and not shipped:
        raise UsageError("--limit applies to --shipped only")
    _, spec = parse_grader(grader)
    parse_url(database_url(db))
    if spec is not None:
        from safehub.models import load_model

        load_model(spec)  # a bad spec or a missing key fails here
    if labels is not None:
        rows, labelled_set, source = read_labels_file(labels), labels.name, f"file {labels}"
    elif shipped:
        rows, labelled_set = shipped_rows(grader, limit), SHIPPED_SET
        source = "the shipped labelled answers" + (f", seeded sample of {limit}" if limit else "")
    engine = connect(db)
    if from_overrides:
        from safehub.store.measurements import override_labels

        rows, labelled_set, source = labelled_from_overrides(override_labels(engine)), "human-overrides", \
            "human overrides in the store"
        if not rows:
            raise UsageError("no human overrides in this store to measure against; record some with "
                             "`safehub override TRIAL_ID --verdict safe|unsafe --by NAME --reason TEXT`")
    return asyncio.run(measure_grader(engine, grader, rows, labelled_set=labelled_set, source=source))


@graders_app.callback()
def graders(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="The cards as a JSON list.")] = False,
            db: DbOption = None) -> None:
    """The grader card: each grader's agreement with labelled answers (n, accuracy, kappa, sensitivity,
    specificity, 95% intervals), from its data card and from every stored `graders measure`."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db}  # `safehub graders --db URL measure ...` means that store too
        return
    from safehub.scorers.card import grader_cards
    from safehub.store.db import connect

    cards = grader_cards(connect(db, for_reading=True))
    if as_json:
        out.print_json(data=_json_safe(cards))
        return
    table = Table(title="grader card: agreement with labelled answers, 95% intervals", title_justify="left")
    for column in ("grader", "version", "labelled set", "question", "n", "accuracy [95% CI]", "kappa",
                   "sensitivity [95% CI]", "specificity [95% CI]"):
        table.add_column(column, justify="right" if column == "n" else "left", overflow="fold")
    for card in cards:
        for index, measurement in enumerate(card["measurements"]):
            _add_measurement_row(table, measurement, card["grader"] if index == 0 else "",
                                 card["version"] if index == 0 else "")
    out.print(table)


def _add_measurement_row(table: Table, measurement: dict, grader: str, version: str) -> None:
    table.add_row(safe_text(grader), safe_text(version), safe_text(measurement["labelled_set"]),
                  measurement["question"], str(measurement["n"]),
                  _figure(measurement.get("accuracy"), measurement.get("accuracy_interval")),
                  _figure(measurement.get("kappa")),
                  _figure(measurement.get("sensitivity"), measurement.get("sensitivity_interval")),
                  _figure(measurement.get("specificity"), measurement.get("specificity_interval")))


@graders_app.command("measure")
def graders_measure(
    ctx: typer.Context,
    grader: Annotated[str, typer.Argument(help="refusal, refusal_patterns, judge:SPEC or llama_guard:SPEC.")],
    labels: Annotated[Optional[Path], typer.Option("--labels", help='JSONL of {"prompt", "response", "label"} '
                                                   '(optional "harmful", "harmful_help": true|false).')] = None,
    from_overrides: Annotated[bool, typer.Option("--from-overrides", help="The store's human overrides as labels.")] = False,
    shipped: Annotated[bool, typer.Option("--shipped", help="The project's own labelled answers.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="With --shipped: a seeded sample of this many.")] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The stored measurements as a JSON list.")] = False,
) -> None:
    """Measure a grader on labelled answers; store and print one measurement per question it can answer."""
    db = db or (ctx.obj or {}).get("db")
    measurements = _measure(grader, labels=labels, from_overrides=from_overrides, shipped=shipped, limit=limit, db=db)
    if as_json:
        out.print_json(data=_json_safe(measurements))
        return
    first = measurements[0]
    table = Table(title=f"{grader} (version {first['version']}) on {first['labelled_set']}", title_justify="left")
    for column in ("grader", "version", "labelled set", "question", "n", "accuracy [95% CI]", "kappa",
                   "sensitivity [95% CI]", "specificity [95% CI]"):
        table.add_column(column, justify="right" if column == "n" else "left", overflow="fold")
    for measurement in measurements:
        _add_measurement_row(table, measurement, grader, first["version"])
    out.print(table)
    errors = first["provenance"].get("judge_errors")
    out.print(f"stored {len(measurements)} measurements (labelled set sha256 {first['provenance']['sha256'][:12]})"
              + (f"; {errors} judge errors left out" if errors else ""), markup=False)


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


@guard_app.command("serve")
def guard_serve(config: Annotated[Path, typer.Option("--config", help="guard.yaml (see examples/guard.yaml).")],
                host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
                port: Annotated[int, typer.Option(min=0, max=65535, help="0 picks a free port.")] = 8787,
                db: DbOption = None) -> None:
    """Serve the guard: POST /v1/chat/completions, GET /v1/models, /healthz and /metrics."""
    from safehub.guard.server import serve

    serve(config, host=host, port=port, db=db, announce=lambda line: err.print(line, markup=False, soft_wrap=True))


@guard_app.command("check")
def guard_check(config: Annotated[Path, typer.Option("--config", help="guard.yaml to validate.")]) -> None:
    """Validate a guard config (and that its upstreams and rules can be built) without serving."""
    from safehub.guard.app import Gateway
    from safehub.guard.config import load_config

    out.print(f"ok {config}: {Gateway(load_config(config), source=config.name).describe()}", markup=False, soft_wrap=True)


@guard_app.command("hash-key")
def guard_hash_key(scrypt: Annotated[bool, typer.Option("--scrypt", help="Salted scrypt, for keys a person chose.")] = False,
                   new: Annotated[bool, typer.Option("--new", help="Make a new random key and print it too.")] = False) -> None:
    """Hash a client key for guard.yaml's clients[].key_hash; reads the key from stdin (never an argument)."""
    from safehub.guard.keys import hash_key, new_key

    if new:
        key = new_key()
        out.print(f"key:      {key}\nkey_hash: {hash_key(key, 'scrypt' if scrypt else 'sha256')}", markup=False)
        return
    key = (typer.prompt("key", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()).strip()
    if not key:
        raise UsageError("no key on stdin: pipe it in (printf %s \"$KEY\" | safehub guard hash-key) or use --new")
    out.print(hash_key(key, "scrypt" if scrypt else "sha256"), markup=False)


def _rate_text(figure: dict) -> str:
    return "-" if figure["value"] is None else f"{figure['value']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}]"


def _guard_figures_table(title: str, first_columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in (*first_columns, "recall [95% CI]", "n block", "false positives [95% CI]", "n pass"):
        table.add_column(column, justify="right" if column.startswith("n ") else "left", overflow="fold")
    return table


def _print_guard_card(entries: list[dict]) -> None:
    for entry in entries:
        heading = (f"{entry['rule']} ({entry['stage']} screen, version {entry['version']}, "
                   f"{entry['action']} at {entry['threshold']:g})")
        if entry["card_problem"]:
            out.print(safe_text(f"{heading}: card file unreadable: {entry['card_problem']}"))
        if not entry["is_measured"]:
            out.print(f"{heading}: not measured", markup=False)
            continue
        card = entry["card"]
        if card is not None:
            stale = "" if card["is_current"] else f"; scores of version {card['version']}, not this one"
            table = _guard_figures_table(f"{heading}: {card['file']}, {card['method']}{stale}",
                                         ("set", "source (version, licence)", "block means", "held out"))
            for s in entry["sets"]:
                table.add_row(safe_text(s["set"]), safe_text(f"{s['source']} ({s['version']}, {s['licence']})"),
                              safe_text(s["label"]), "yes" if s["is_held_out"] else "no (seen in training)",
                              _rate_text(s["recall"]), str(s["recall"]["n"]),
                              _rate_text(s["false_positive_rate"]), str(s["false_positive_rate"]["n"]))
            out.print(table)
        if entry["measurements"]:
            table = _guard_figures_table(f"{heading}: measured on labelled traffic (safehub guard measure), newest first",
                                         ("measured (UTC)", "labels (sha256)", "version", "threshold"))
            for m in entry["measurements"]:
                table.add_row(m["created_at"][:19], safe_text(f"{m['labelled_set']} ({m['labelled_set_sha256'][:12]})"),
                              safe_text(m["screen_version"] + ("" if m["is_current"] else " (older)")),
                              f"{m['threshold']:g}", _rate_text(m["recall"]), str(m["recall"]["n"]),
                              _rate_text(m["false_positive_rate"]), str(m["false_positive_rate"]["n"]))
            out.print(table)


@guard_app.command("card")
def guard_card(config: Annotated[Path, typer.Option("--config", help="guard.yaml whose rules to show.")],
               db: DbOption = None,
               as_json: Annotated[bool, typer.Option("--json", help="The card as JSON, one entry per rule.")] = False,
               cards: Annotated[Optional[Path], typer.Option(
                   "--cards", help="Folder of <rule>.card.json files to read instead of the shipped ones.")] = None,
               ) -> None:
    """Each rule's screen at its configured threshold: recall and false-positive rate, n and 95% intervals, on every
    labelled set it was measured on (its card file) and on traffic stored by `safehub guard measure`."""
    from safehub.guard.card import (
        SHIPPED_CARDS,
        CardRule,
        configured_model_screens,
        configured_rules,
        guard_card,
        model_card_rules,
    )
    from safehub.guard.config import load_config
    from safehub.store.db import connect

    if cards is not None and not cards.is_dir():
        raise UsageError(f"--cards {cards}: not a folder; give the folder holding <rule>.card.json files")
    loaded = load_config(config)
    rules = [CardRule.of(rule) for rule in configured_rules(loaded, config.name)] + \
        model_card_rules(configured_model_screens(loaded, config.name))
    entries = guard_card(rules, connect(db or loaded.db, for_reading=True), cards or SHIPPED_CARDS)
    screening = {entry["rule"] for entry in entries}
    idle = [name for name in (loaded.rules or {}) if name not in screening]  # action pass: the gateway skips them
    if as_json:
        out.print_json(data=_json_safe({"config": config.name, "rules": entries, "rules_not_screening": idle}))
        return
    _print_guard_card(entries)
    if idle:
        out.print(f"not screening (action pass): {', '.join(idle)}", markup=False)


@guard_app.command("measure")
def guard_measure(config: Annotated[Path, typer.Option("--config", help="guard.yaml whose rules to measure.")],
                  labels: Annotated[Path, typer.Option("--labels", help='JSONL of {"messages": [...], "expected": '
                                                       '"block"|"pass"}, plus "answer" for the output screens.')],
                  rule: Annotated[Optional[str], typer.Option("--rule", help="Measure only this rule.")] = None,
                  db: DbOption = None,
                  as_json: Annotated[bool, typer.Option("--json", help="The stored measurements as JSON.")] = False,
                  ) -> None:
    """Measure the configured screens on your own labelled traffic; print and store recall and false-positive rate."""
    from safehub.guard.card import configured_model_screens, configured_rules
    from safehub.guard.config import load_config
    from safehub.guard.measure import (
        measure_model_screens,
        measure_rules,
        nothing_to_measure,
        pick_rules,
        read_labelled_traffic,
    )
    from safehub.store.db import connect
    from safehub.store.guard_measurements import add_guard_measurements

    loaded = load_config(config)
    tier = configured_model_screens(loaded, config.name)
    rules, models = pick_rules(configured_rules(loaded, config.name), tier.screens, rule, config.name)
    traffic = read_labelled_traffic(labels)

    async def ask_models() -> list[dict]:
        try:
            return await measure_model_screens(models, traffic)
        finally:
            await tier.aclose()

    measured = measure_rules(rules, traffic) + (asyncio.run(ask_models()) if models else [])
    if not measured:
        raise UsageError(nothing_to_measure(rules, models, traffic))
    stored = add_guard_measurements(connect(db or loaded.db), measured)
    if as_json:
        out.print_json(data=_json_safe(stored))
        return
    table = _guard_figures_table(f"guard measure: {traffic.name} (sha256 {traffic.sha256[:12]}), {config.name}",
                                 ("rule", "stage", "version", "threshold"))
    table.add_column("tp / fn / fp / tn", justify="right")
    for m in stored:
        table.add_row(m["rule"], m["stage"], safe_text(m["screen_version"]), f"{m['threshold']:g}",
                      _rate_text(m["recall"]), str(m["recall"]["n"]), _rate_text(m["false_positive_rate"]),
                      str(m["false_positive_rate"]["n"]), "{tp} / {fn} / {fp} / {tn}".format(**m["confusion"]))
    out.print(table)
    skipped = [name for name in [r.name for r in rules] + [s.rule for s in models] if name not in {m["rule"] for m in stored}]
    errors = sum(m["details"].get("screen_errors", 0) for m in stored)
    model_errors = sum(m["details"].get("model_errors", 0) for m in stored)
    out.print(f"stored {len(stored)} measurements" + (f"; no lines for {', '.join(skipped)}" if skipped else "")
              + (f"; {errors} screen errors counted as pass" if errors else "")
              + (f"; {model_errors} model errors counted per the rule's on_error" if model_errors else ""),
              markup=False)


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
