"""The static export's transcript pages: every trial of a run, PAGE_SIZE to a file, written fast.

    plan = plan_transcripts(engine, run_id)            # page boundaries: which page holds which trial
    write_transcripts(engine, out, [plan], paths)      # -> files written; in worker processes when there are many

`paths` maps a link kind to its file relative to the export's root (hub.export.PATHS).

A million trials make about ten thousand pages, so the per-trial work is kept small: two streams per
block of pages (trials with responses and samples, and their scores, both in trial id order, merged as
they arrive), each trial's section built with html.escape rather than a template (the page around the
sections is export_trials.html), and a conversation rendered once however many epochs and runs sent it.
Every value from a model, a suite or a grader is escaped. Large exports use worker processes started
with `spawn`, so a script calling export_hub must guard its entry point (`if __name__ == "__main__":`).
"""

from __future__ import annotations

import bisect
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from multiprocessing import get_context
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.engine import Engine

from safehub.attacks.strategies import STRATEGIES

PAGE_SIZE = 100
BLOCK_PAGES = 200  # pages per unit of work: a worker streams 20,000 trials at a time
PARALLEL_FROM_TRIALS = 50_000  # below this, worker start-up costs more than it saves
TEMPLATES = Path(__file__).parent / "templates"

TRIALS_SQL = (
    "SELECT t.id, t.attack, t.epoch, CAST(t.messages AS TEXT), s.suite, s.sample_id, s.category, s.subcategory, "
    "r.text, r.error, r.error_kind, s.scorer FROM trials t JOIN responses r ON r.trial_id = t.id "
    "JOIN samples s ON s.id = t.sample_pk WHERE t.run_id = :run_id AND t.id BETWEEN :low AND :high ORDER BY t.id")
SCORES_SQL = (
    "SELECT sc.trial_id, sc.grader, sc.grader_version, sc.metric, sc.label, sc.value, sc.explanation, "
    "sc.is_override, sc.created_by FROM trials t JOIN scores sc ON sc.trial_id = t.id "
    "WHERE t.run_id = :run_id AND t.id BETWEEN :low AND :high ORDER BY t.id, sc.id")


def slug(text: str) -> str:
    """A file name for an id or category; anything unusual becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)) or "_"


@dataclass(frozen=True)
class TranscriptPlan:
    """A run's transcript pages: page n (from 1) starts at trial id page_starts[n - 1]."""

    run_id: str
    page_starts: list[int]
    last_id: int

    @property
    def pages(self) -> int:
        return max(1, len(self.page_starts))

    def location(self, trial_id: int) -> str:
        """The page file (and anchor) holding a trial, relative to the export's root."""
        page = max(1, bisect.bisect_right(self.page_starts, trial_id))
        return f"runs/{slug(self.run_id)}/trials-{page}.html#trial-{trial_id}"


@dataclass(frozen=True)
class _Block:
    run_id: str
    first_page: int
    pages_total: int
    low: int
    high: int


def plan_transcripts(engine: Engine, run_id: str) -> TranscriptPlan:
    """Where each page of a run's transcripts starts: every PAGE_SIZE-th trial id (the database numbers them)."""
    with engine.connect() as connection:
        starts = connection.execute(text(
            "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS position FROM trials WHERE run_id = :r) "
            f"AS numbered WHERE position % {PAGE_SIZE} = 1 ORDER BY id"), {"r": run_id}).scalars().all()
        last_id = connection.execute(text("SELECT max(id) FROM trials WHERE run_id = :r"), {"r": run_id}).scalar()
    return TranscriptPlan(run_id, list(starts), last_id or 0)


def _blocks(plan: TranscriptPlan) -> list[_Block]:
    if not plan.page_starts:
        return [_Block(plan.run_id, 1, 1, 1, 0)]  # one empty page
    blocks = []
    for first in range(0, len(plan.page_starts), BLOCK_PAGES):
        end = first + BLOCK_PAGES
        high = plan.page_starts[end] - 1 if end < len(plan.page_starts) else plan.last_id
        blocks.append(_Block(plan.run_id, first + 1, plan.pages, plan.page_starts[first], high))
    return blocks


def write_transcripts(engine: Engine, out: Path, plans: list[TranscriptPlan], paths: dict[str, str], *,
                      workers: int | None = None, parallel_from_trials: int = PARALLEL_FROM_TRIALS) -> int:
    """Write every planned run's transcript pages under out/runs/; returns the number of files written."""
    blocks = [block for plan in plans for block in _blocks(plan)]
    for plan in plans:
        (out / "runs" / slug(plan.run_id)).mkdir(parents=True, exist_ok=True)
    n_trials = sum(len(plan.page_starts) for plan in plans) * PAGE_SIZE
    url = engine.url
    is_file_store = url.get_backend_name() != "sqlite" or (url.database not in (None, "", ":memory:"))
    workers = workers if workers is not None else min(os.cpu_count() or 1, len(blocks))
    if workers <= 1 or n_trials < parallel_from_trials or not is_file_store:
        writer = _BlockWriter(engine, out, paths)
        return sum(writer.write(block) for block in blocks)
    # spawn, not fork: a forked child would share the parent's open database connections.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker,
                             initargs=(url.render_as_string(hide_password=False), str(out), paths)) as pool:
        return sum(pool.map(_write_in_worker, blocks))


_worker: _BlockWriter | None = None


def _start_worker(db_url: str, out: str, paths: dict[str, str]) -> None:
    from safehub.store.db import connect

    global _worker
    _worker = _BlockWriter(connect(db_url), Path(out), paths)


def _write_in_worker(block: _Block) -> int:
    assert _worker is not None
    return _worker.write(block)


class _BlockWriter:
    """Writes the pages of one block: streams its trials and scores and merges them by trial id."""

    def __init__(self, engine: Engine, out: Path, paths: dict[str, str]):
        self.engine = engine
        self.out = out
        self.url = relative_urls(paths, depth=2)  # pages live in runs/RUN/
        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True))
        self.shell = env.get_template("export_trials.html")
        self.conversations: dict[str, str] = {}
        self._escaped = lru_cache(maxsize=100_000)(escape)

    def write(self, block: _Block) -> int:
        folder = self.out / "runs" / slug(block.run_id)
        params = {"run_id": block.run_id, "low": block.low, "high": block.high}
        written, page, sections = 0, block.first_page, []
        with self.engine.connect() as trials_db, self.engine.connect() as scores_db:
            trial_rows = trials_db.execution_options(stream_results=True, yield_per=2000).execute(
                text(TRIALS_SQL), params)
            score_rows = iter(scores_db.execution_options(stream_results=True, yield_per=2000).execute(
                text(SCORES_SQL), params))
            pending = next(score_rows, None)
            for row in trial_rows:
                trial_id = row[0]
                while pending is not None and pending[0] < trial_id:
                    pending = next(score_rows, None)
                verdicts = []
                while pending is not None and pending[0] == trial_id:
                    verdicts.append(pending)
                    pending = next(score_rows, None)
                sections.append(self._section(row, verdicts))
                if len(sections) == PAGE_SIZE:
                    written += self._page(folder, block, page, sections)
                    page, sections = page + 1, []
        if sections or written == 0:
            written += self._page(folder, block, page, sections)
        return written

    def _page(self, folder: Path, block: _Block, page: int, sections: list[str]) -> int:
        html = self.shell.render(url=self.url, is_export=True, run_id=block.run_id, page=page,
                                 pages=block.pages_total, sections=Markup("".join(sections)))
        (folder / f"trials-{page}.html").write_text(html, encoding="utf-8")
        return 1

    def _section(self, row, verdicts: list) -> str:
        trial_id, attack, epoch, messages, suite, sample_id, category, subcategory, response, error, error_kind, scorer = row
        name = self._escaped  # ids and labels repeat on every page: escape each once
        kind = name(category) + (f" / {name(subcategory)}" if subcategory else "")
        answer = (f"ERROR {name(str(error_kind))}: {escape(error)}" if error is not None
                  else escape(response or ""))
        rows = "".join(
            f"<tr><td>{name(grader)} {name(str(version))}"
            f"{f' (override by {escape(str(by))})' if is_override else ''}</td><td>{name(metric)}</td>"
            f"<td>{name(label)}</td><td class=\"num\">{'–' if value is None else f'{value:g}'}</td>"
            f"<td>{escape(explanation) if explanation else ''}</td></tr>"
            for _, grader, version, metric, label, value, explanation, is_override, by in verdicts)
        # An adaptive trial's tree and steps, or an agentic trial's transcript, are on a page of its own (hub.export).
        own_page = ("the attack tree and every step" if attack in STRATEGIES
                    else "the agent transcript: every tool call and its output" if scorer == "sabotage" else None)
        tree_link = (f'<p><a href="{escape(self.url("conversation", trial_id))}">{own_page}</a></p>\n'
                     if own_page else "")
        return (f'<section id="trial-{trial_id}">\n<h2>Trial {trial_id} · {name(suite)}/{name(sample_id)} · '
                f"{kind} · attack {name(attack)} · epoch {epoch}</h2>\n{tree_link}"
                f"<details><summary>conversation</summary>{self._conversation(messages)}</details>\n"
                f'<span class="role">model</span><pre>{answer}</pre>\n'
                f"<table><tbody>{rows}</tbody></table>\n</section>\n")

    def _conversation(self, messages: str | None) -> str:
        """The messages as sent, rendered once per distinct conversation (epochs and models repeat them)."""
        key = messages or "[]"
        html = self.conversations.get(key)
        if html is None:
            if len(self.conversations) > 50_000:
                self.conversations.clear()
            parsed = json.loads(key)
            html = "".join(
                f'<span class="role">{escape(str(message.get("role", "")))}</span>'
                f'<pre>{escape(_content_text(message.get("content")))}</pre>'
                for message in (parsed if isinstance(parsed, list) else []) if isinstance(message, dict))
            self.conversations[key] = html
        return html


def _content_text(content) -> str:
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def relative_urls(paths: dict[str, str], depth: int):
    """A template's url(kind, *parts) for a page `depth` folders below the export's root."""
    root = "../" * depth

    def url(kind: str, *parts) -> str:
        if kind not in paths:
            raise KeyError(f"the static export has no {kind} pages")
        return root + paths[kind].format(*(slug(part) for part in parts))
    return url
