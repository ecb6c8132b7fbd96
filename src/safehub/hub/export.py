"""A static copy of the hub: plain files anyone can publish (`safehub export --out DIR`).

Links are relative, so the copy works from any folder, a web server or file://. Transcripts are
written a page of trials at a time (keyset pagination, never the whole run in memory), each page
holding the full conversations and verdicts; the JSON API is exported beside the pages.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from safehub.errors import UsageError
from safehub.hub import charts, views
from safehub.hub.app import HERE, _jsonable
from safehub.store import queries
from safehub.store.schema import responses, samples, scores, trials

PAGE_SIZE = 100


def slug(text: str) -> str:
    """A file name for an id or category; anything unusual becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)) or "_"


class Exporter:
    def __init__(self, engine: Engine, out: Path):
        self.engine = engine
        self.out = out
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True))
        self.files = 0

    def _url_for(self, depth: int):
        root = "../" * depth

        def url(kind: str, *parts) -> str:
            paths = {"overview": "index.html", "static": "static/{}", "category": "categories/{}.html",
                     "run": "runs/{}.html", "trials": "runs/{}/trials-1.html", "model": "models/{}.html",
                     "compare": "compare/{}--{}.html", "compare_form": "compare/index.html",
                     "self_preservation": "self-preservation.html"}
            if kind == "trial":
                return root + self._trial_location(int(parts[0]))
            if kind not in paths:
                raise KeyError(f"the static export has no {kind} pages")
            return root + paths[kind].format(*(slug(part) for part in parts))
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
        self._page("index.html", "overview.html", data=overview)
        self._write("api/overview.json", json.dumps(_jsonable(overview)))
        # Every category with a metric, not only those with a headline: model cards link them all.
        categories = sorted({m["category"] for model in overview["models"] for m in model["run"]["metrics"]
                             if m.get("category")})
        for category in categories:
            data = views.category_view(self.engine, category)
            self._page(f"categories/{slug(category)}.html", "category.html", data=data,
                       charts=charts.category_charts(data))
            self._write(f"api/categories/{slug(category)}.json", json.dumps(_jsonable(data)))
        for model in overview["models"]:
            self._export_run(model["run"]["run_id"])
            self._export_model(model["model_id"])
        self._export_compare(overview)
        self._export_self_preservation()
        return self.files

    def _export_model(self, model_id: int) -> None:
        card = views.model_card(self.engine, model_id)
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
        for number, (a, b, _, _) in enumerate(pairs):
            data = views.compare_view(self.engine, a, b)
            others = [pair for pair in pairs if pair[:2] != (a, b)]
            self._page(f"compare/{slug(a)}--{slug(b)}.html", "compare.html", data=data, pairs=others)
            self._write(f"api/compare/{slug(a)}--{slug(b)}.json", json.dumps(_jsonable(data)))
            if number == 0:
                self._page("compare/index.html", "compare.html", data=data, pairs=others)

    def _export_self_preservation(self) -> None:
        data = views.self_preservation_view(self.engine)
        self._page("self-preservation.html", "self_preservation.html", data=data,
                   charts=charts.self_preservation_charts(data))
        self._write("api/self-preservation.json", json.dumps(_jsonable(data)))

    def _trial_location(self, trial_id: int) -> str:
        """The transcript page (and anchor) holding a trial: pages hold PAGE_SIZE trials of a run in id order."""
        with self.engine.connect() as connection:
            run_id = connection.execute(select(trials.c.run_id).where(trials.c.id == trial_id)).scalar_one()
            before = connection.execute(select(func.count()).select_from(trials).where(
                trials.c.run_id == run_id, trials.c.id < trial_id)).scalar_one()
        return f"runs/{slug(run_id)}/trials-{before // PAGE_SIZE + 1}.html#trial-{trial_id}"

    def _export_run(self, run_id: str) -> None:
        summary = queries.cached_run_summary(self.engine, run_id)
        self._page(f"runs/{slug(run_id)}.html", "run.html", summary=summary, chart=charts.run_chart(summary))
        self._write(f"api/runs/{slug(run_id)}.json", json.dumps(_jsonable(summary)))
        pages = list(self._trial_pages(run_id)) or [[]]
        for number, page in enumerate(pages, start=1):
            self._page(f"runs/{slug(run_id)}/trials-{number}.html", "export_trials.html", run_id=run_id,
                       trials=page, page=number, pages=len(pages), run_file=slug(run_id))

    def _trial_pages(self, run_id: str) -> Iterator[list[dict]]:
        last_id = 0
        query = (select(trials.c.id, trials.c.attack, trials.c.epoch, trials.c.messages, samples.c.suite,
                        samples.c.sample_id, samples.c.category, responses.c.text, responses.c.error,
                        responses.c.error_kind)
                 .select_from(trials.join(responses).join(samples, samples.c.id == trials.c.sample_pk))
                 .order_by(trials.c.id).limit(PAGE_SIZE))
        with self.engine.connect() as connection:
            while True:
                rows = connection.execute(query.where(trials.c.run_id == run_id, trials.c.id > last_id)).all()
                if not rows:
                    return
                last_id = rows[-1].id
                verdicts: dict[int, list[dict]] = {}
                for score in connection.execute(select(scores.c.trial_id, scores.c.grader, scores.c.metric,
                                                       scores.c.label, scores.c.value, scores.c.explanation,
                                                       scores.c.is_override, scores.c.created_by)
                                                .where(scores.c.trial_id.in_([r.id for r in rows]))
                                                .order_by(scores.c.id)):
                    verdicts.setdefault(score.trial_id, []).append(score._asdict())
                yield [{**row._asdict(), "scores": verdicts.get(row.id, [])} for row in rows]


def export_hub(engine: Engine, out: Path) -> int:
    """Write the static hub into `out` (created if needed); returns the number of files written."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    if out.exists() and any(out.iterdir()) and not (out / "index.html").exists():
        raise UsageError(f"--out {out} is a non-empty folder that is not a safehub export; give an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    return Exporter(engine, out).export()
