"""`safehub graders` and `safehub judge`: grader cards, measuring a grader on labelled answers.

Thin: parse, call safehub.scorers.card / safehub.engine.calibrate, print (see cli.py for the app).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from safehub.commands.output import DbOption, err, figure, json_safe, out, safe_text
from safehub.errors import UsageError

judge_app = typer.Typer(no_args_is_help=True, help="LLM judges: measure them before trusting them.")
graders_app = typer.Typer(invoke_without_command=True,
                          help="Grader cards: each grader's measured agreement with labelled answers.")


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
    out.print_json(data=json_safe(measurements[0]))


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
        out.print_json(data=json_safe(cards))
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
                  figure(measurement.get("accuracy"), measurement.get("accuracy_interval")),
                  figure(measurement.get("kappa")),
                  figure(measurement.get("sensitivity"), measurement.get("sensitivity_interval")),
                  figure(measurement.get("specificity"), measurement.get("specificity_interval")))


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
        out.print_json(data=json_safe(measurements))
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
