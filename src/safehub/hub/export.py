"""A static copy of the hub: plain files anyone can publish (`safehub export --out DIR`).

Links are relative, so the copy works from any folder, a web server or file://. Each page kind has
one method below. Transcripts are most of the work (a million trials make ten thousand pages): they
are written by hub.transcripts_export, streaming each run in trial id order, in worker processes
while this process writes the other pages; each page holds the full conversations and verdicts.
The JSON API is exported beside the pages.
"""

from __future__ import annotations

import errno
import json
import re
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.engine import Engine

from safehub.attacks.strategies import STRATEGIES
from safehub.errors import UsageError
from safehub.hub import charts, guard_view, views
from safehub.hub.agent_transcript import agent_transcript
from safehub.hub.app import HERE, _jsonable
from safehub.hub.attack_tree import attack_tree
from safehub.hub.graders_view import agreement_interval, graders_view
from safehub.hub.jailbreaks_view import JAILBREAKS, jailbreak_comparison
from safehub.hub.transcripts_export import PAGE_SIZE, TranscriptPlan, plan_transcripts, relative_urls, slug, write_transcripts
from safehub.store import queries
from safehub.store.guard import DecisionRollup
from safehub.store.schema import samples, trials

__all__ = ["PAGE_SIZE", "PATHS", "Exporter", "export_hub", "slug"]

# Where each kind of page lives, relative to the export's root (templates link with url(kind, *parts)).
PATHS = {"overview": "index.html", "static": "static/{}", "category": "categories/{}.html",
         "run": "runs/{}.html", "trials": "runs/{}/trials-1.html", "model": "models/{}.html",
         "category_trials": "runs/{}/trials-1.html",  # files cannot filter: a run's transcripts from the start
         "compare": "compare/{}--{}.html", "compare_form": "compare/index.html",
         "self_preservation": "self-preservation.html", "guard": "guard.html", "graders": "graders.html",
         # a conversation trial's own page: an adaptive one's attack tree, an agentic one's transcript; every step
         "conversation": "trials/{}.html"}


def conversation_trial_ids(engine: Engine, run_ids: list[str]) -> set[int]:
    """The trials of these runs that ran as a conversation: an adaptive strategy's (pair, tap, crescendo), or an
    agentic scenario's (its sample is scored `sabotage`, which every sample with `agentic` is)."""
    found: set[int] = set()
    agentic_samples = select(samples.c.id).where(samples.c.scorer == "sabotage")
    with engine.connect() as connection:
        for start in range(0, len(run_ids), 500):
            chunk = trials.c.run_id.in_(run_ids[start:start + 500])
            found.update(connection.execute(select(trials.c.id).where(
                chunk, trials.c.attack.in_(sorted(STRATEGIES)))).scalars())
            found.update(connection.execute(select(trials.c.id).where(
                chunk, trials.c.sample_pk.in_(agentic_samples))).scalars())
    return found


class Exporter:
    def __init__(self, engine: Engine, out: Path, guard_cards: Path | None = None):
        self.engine = engine
        self.out = out
        self.guard_cards = guard_cards or guard_view.SHIPPED_CARDS  # the screens' card files the guard page reads
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True))
        self.env.globals["agreement_interval"] = agreement_interval
        self.files = 0
        self.transcripts: dict[str, TranscriptPlan] = {}
        self.conversation_trials: set[int] = set()  # adaptive trials, each with a page of its own

    def _url_for(self, depth: int):
        links = relative_urls(PATHS, depth)

        def url(kind: str, *parts) -> str:
            if kind == "trial" and int(parts[0]) in self.conversation_trials:
                return links("conversation", *parts)
            if kind == "trial":
                return "../" * depth + self._trial_location(int(parts[0]))
            return links(kind, *parts)
        return url

    def _write(self, relative: str, text: str) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files += 1

    def _page(self, relative: str, template: str, **context) -> None:
        depth = relative.count("/")
        html = self.env.get_template(template).render(url=self._url_for(depth), is_export=True, **context)
        self._write(relative, html)

    def export(self) -> int:
        shutil.copytree(HERE / "static", self.out / "static", dirs_exist_ok=True)
        overview = views.overview(self.engine)
        cards = [views.model_card(self.engine, model["model_id"]) for model in overview["models"]]
        # Every run a model card lists (its history), not only the newest: each number links to its transcripts.
        run_ids = [run["run_id"] for card in cards for run in card["runs"]]
        self.transcripts = {run_id: plan_transcripts(self.engine, run_id) for run_id in run_ids}
        self.conversation_trials = conversation_trial_ids(self.engine, run_ids)
        # The transcripts are written in the background (worker processes) while this thread writes the rest.
        with ThreadPoolExecutor(max_workers=1) as background:
            transcripts = background.submit(self._export_transcripts, list(self.transcripts.values()))
            self._export_overview(overview)
            # Every category with a metric, not only those with a headline: model cards link them all.
            categories = {m["category"] for model in overview["models"] for m in model["run"]["metrics"]
                          if m.get("category")}
            # A metric reported per variant (agentic_self_preservation/shutdown/...) also has its suite's page.
            categories |= {category.rsplit("/", depth)[0] for category in categories
                           for depth in range(1, category.count("/") + 1)}
            if jailbreak_comparison(self.engine)["models"]:  # static and adaptive side by side, from any run
                categories.add(JAILBREAKS)
            for category in sorted(categories):
                self._export_category(category)
            for run_id in run_ids:
                self._export_run(run_id)
            for card in cards:
                self._export_model(card)
            self._export_compare(overview)
            self._export_self_preservation()
            self._export_guard()
            self._export_graders()
            for trial_id in sorted(self.conversation_trials):
                self._export_conversation(trial_id)
            self.files += transcripts.result()
        return self.files

    def _export_overview(self, overview: dict) -> None:
        self._page("index.html", "overview.html", data=overview)
        self._write("api/overview.json", json.dumps(_jsonable(overview)))

    def _export_category(self, category: str) -> None:
        data = views.category_view(self.engine, category)
        self._page(f"categories/{slug(category)}.html", "category.html", data=data, charts=charts.category_charts(data))
        self._write(f"api/categories/{slug(category)}.json", json.dumps(_jsonable(data)))

    def _export_model(self, card: dict) -> None:
        model_id = card["model"]["id"]
        self._page(f"models/{model_id}.html", "model.html", data=card, latest_chart=charts.run_chart(card["latest"]),
                   trend_charts=charts.trend_charts(card))
        self._write(f"api/models/{model_id}.json", json.dumps(_jsonable(card)))

    def _export_compare(self, overview: dict) -> None:
        """Every pair of the models' newest runs; compare/index.html is the first pair, linking the others."""
        latest = [(model["run"]["run_id"], model["run"]["model"]) for model in overview["models"]]
        pairs = [(a, b, model_a, model_b) for i, (a, model_a) in enumerate(latest) for b, model_b in latest[i + 1:]]
        if not pairs:
            self._page("compare/index.html", "compare.html", data=views.compare_view(self.engine, None, None))
            return
        per_sample: dict[str, dict] = {}  # each run's per-sample verdicts, read once for all its pairs
        for number, (a, b, _, _) in enumerate(pairs):
            data = views.compare_view(self.engine, a, b, per_sample=per_sample)
            others = [pair for pair in pairs if pair[:2] != (a, b)]
            self._page(f"compare/{slug(a)}--{slug(b)}.html", "compare.html", data=data, pairs=others)
            self._write(f"api/compare/{slug(a)}--{slug(b)}.json", json.dumps(_jsonable(data)))
            if number == 0:
                self._page("compare/index.html", "compare.html", data=data, pairs=others)

    def _export_self_preservation(self) -> None:
        data = views.self_preservation_view(self.engine)
        self._page("self-preservation.html", "self_preservation.html", data=data,
                   charts=charts.self_preservation_charts(data), agentic_charts=charts.agentic_charts(data["agentic"]))
        self._write("api/self-preservation.json", json.dumps(_jsonable(data)))

    def _export_guard(self) -> None:
        """Every decision, without message text: an export is meant to be published."""
        data = guard_view.guard_view(self.engine, DecisionRollup(self.engine), guard_view.GuardFilters(),
                                     include_text=False, cards_dir=self.guard_cards)
        self._page("guard.html", "guard.html", data=data, charts=charts.guard_charts(data["summary"], guard_view.bucket_label),
                   label=guard_view.bucket_label, ms=guard_view.format_ms)
        self._write("api/guard.json", json.dumps(_jsonable(data)))

    def _export_graders(self) -> None:
        data = graders_view(self.engine)
        self._page("graders.html", "graders.html", data=data)
        self._write("api/graders.json", json.dumps(_jsonable(data)))

    def _export_conversation(self, trial_id: int) -> None:
        """An adaptive or agentic trial's page, as the served hub shows it but without the override form."""
        trial = views.trial_detail(self.engine, trial_id)
        transcript = agent_transcript(trial)
        self._page(PATHS["conversation"].format(trial_id), "trial.html", trial=trial, transcript=transcript,
                   tree=attack_tree(trial["nodes"]) if trial["nodes"] and transcript is None else None)

    def _trial_location(self, trial_id: int) -> str:
        """The transcript page (and anchor) holding a trial: pages hold PAGE_SIZE trials of a run in id order."""
        with self.engine.connect() as connection:
            run_id = connection.execute(select(trials.c.run_id).where(trials.c.id == trial_id)).scalar_one()
        plan = self.transcripts.get(run_id) or plan_transcripts(self.engine, run_id)
        return plan.location(trial_id)

    def _export_run(self, run_id: str) -> None:
        summary = queries.cached_run_summary(self.engine, run_id)
        self._page(f"runs/{slug(run_id)}.html", "run.html", summary=summary, chart=charts.run_chart(summary))
        self._write(f"api/runs/{slug(run_id)}.json", json.dumps(_jsonable(summary)))

    def _export_transcripts(self, plans: list[TranscriptPlan]) -> int:
        """runs/RUN/trials-N.html for each run: returns the number of files (counted by the caller)."""
        return write_transcripts(self.engine, self.out, plans, PATHS)


# Folders of an export in progress (staging) and of the export it replaces; a crash may leave one behind,
# which the next export into that folder removes.
STAGING = ".safehub-export-"
REPLACED = ".safehub-replaced-"


def export_hub(engine: Engine, out: Path, *, guard_cards: Path | None = None) -> int:
    """Write the static hub into `out` (created if needed); returns the number of files written.

    All or nothing: the pages are written into a staging folder and only then moved into place, so a
    full disk, a read-only folder or a crash never leaves a half-written export, and the previous one
    stays whole. A new folder is staged beside `out` and renamed; an existing one (perhaps a mount point,
    or in a folder this user cannot write) is staged inside it and its entries swapped, keeping what the
    export does not write (a CNAME, a .git). The guard page's card reads the screens' card files from `guard_cards`
    (default: the shipped ones).
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    ours = [entry for entry in out.iterdir() if entry.name.startswith((STAGING, REPLACED))] if out.exists() else []
    if out.exists() and len(list(out.iterdir())) > len(ours) and not (out / "index.html").exists():
        raise UsageError(f"--out {out} is a non-empty folder that is not a safehub export; give an empty or new folder")
    try:
        for leftover in ours:
            shutil.rmtree(leftover)
        return _export_into(engine, out, guard_cards) if out.exists() else _export_new(engine, out, guard_cards)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the export ({_reason(exc)}); nothing was changed there: "
                         "pick a writable folder with free space") from None


def _export_new(engine: Engine, out: Path, guard_cards: Path | None) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}{STAGING}{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        files = Exporter(engine, staging, guard_cards).export()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


def _export_into(engine: Engine, out: Path, guard_cards: Path | None) -> int:
    token = secrets.token_hex(4)
    staging, replaced = out / f"{STAGING}{token}", out / f"{REPLACED}{token}"
    staging.mkdir()
    try:
        files = Exporter(engine, staging, guard_cards).export()
        replaced.mkdir()
        _swap_in(staging, out, replaced)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(replaced, ignore_errors=True)
    return files


def _swap_in(staging: Path, out: Path, replaced: Path) -> None:
    """Move each entry of `staging` into `out`, the one it replaces into `replaced`; on failure, undo."""
    moved: list[str] = []
    try:
        for entry in sorted(staging.iterdir()):
            target = out / entry.name
            if target.exists() or target.is_symlink():
                target.rename(replaced / entry.name)
            moved.append(entry.name)
            entry.rename(target)
    except BaseException:
        for name in reversed(moved):
            if (out / name).exists() and not (staging / name).exists():
                (out / name).rename(staging / name)
            if (replaced / name).exists():
                (replaced / name).rename(out / name)
        raise


def _reason(exc: OSError) -> str:
    """What stopped the export, in words; shutil.copytree reports its failures as a list of strings."""
    number = exc.errno
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        found = re.search(r"\[Errno (\d+)\]", str(exc.args[0][0][-1]))
        number = int(found.group(1)) if found else None
    words = {errno.EROFS: "read-only filesystem", errno.ENOSPC: "no space left on the device",
             errno.EDQUOT: "disk quota exceeded", errno.EACCES: "permission denied", errno.EPERM: "not permitted"}
    return words.get(number) or exc.strerror or str(exc)
