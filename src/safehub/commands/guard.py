"""`safehub guard`: serve, check, hash-key, card and measure.

Thin: parse, call safehub.guard, print (see cli.py for the app).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from safehub.commands.output import DbOption, err, json_safe, out, safe_text
from safehub.errors import UsageError

guard_app = typer.Typer(no_args_is_help=True, help="The guard: an OpenAI-compatible gateway that screens requests.")


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
        out.print_json(data=json_safe({"config": config.name, "rules": entries, "rules_not_screening": idle}))
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
        out.print_json(data=json_safe(stored))
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
