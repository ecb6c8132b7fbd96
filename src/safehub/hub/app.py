"""The hub: server-rendered pages and a JSON API over the store, safe for hostile model output.

    app = create_app("sqlite:///safehub.db")   # served by `safehub hub`

Every page escapes what came from a model, a suite or a user (Jinja2 autoescape); the
Content-Security-Policy allows no inline script at all. The hub answers only to its own Host names, and
every write (the override form) needs the per-process form token its pages carry and must not come from
another site (hub.origins), on loopback too; on anything but loopback it also needs the hub token, compared
in constant time and never shown.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from safehub.errors import UsageError
from safehub.hub import charts, guard_view, views
from safehub.hub.agent_transcript import agent_transcript
from safehub.hub.attack_tree import attack_tree
from safehub.hub.disagreements import disagreements_view
from safehub.hub.graders_view import agreement_interval, graders_view
from safehub.hub.origins import FORM_TOKEN_FIELD, FORM_TOKEN_HEADER, WRITE_METHODS, HostNames, cross_site_reason, has_form_token
from safehub.store import queries
from safehub.store.db import connect, is_read_only, read_only_refusal
from safehub.store.guard import DecisionRollup
from safehub.store.writes import add_override

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def served_url(kind: str, *parts) -> str:
    """Links of the served hub; the static export supplies its own (see hub.export)."""
    paths = {"overview": "/", "static": "/static/{}", "category": "/categories/{}", "run": "/runs/{}",
             "trials": "/runs/{}/trials", "category_trials": "/runs/{}/trials?category={}",
             "transcripts": "/trials", "trial": "/trials/{}", "model": "/models/{}",
             "compare": "/compare?a={}&b={}",
             "compare_form": "/compare", "self_preservation": "/self-preservation", "guard": "/guard",
             "guard_rule": "/guard?rule={}", "graders": "/graders", "disagreements": "/runs/{}/disagreements"}
    return paths[kind].format(*(quote(str(part), safe="") for part in parts))


class RefusedWrite(Exception):
    """A write the hub refuses (403): from another site, or without the form token; `str()` says why."""


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN: a figure a measurement could not give (e.g. no positives) is null
    return value.isoformat() if hasattr(value, "isoformat") else value


def create_app(db: str | None = None, *, token: str | None = None, is_loopback: bool = True, host: str | None = None,
               port: int | None = None, allow_hosts: tuple[str, ...] | list[str] = (),
               guard_cards: Path | None = None) -> FastAPI:
    """The hub over the store at `db`, answering to loopback names and `host` on `port` (any port when None)
    and to `allow_hosts` on any port; `token` is the hub token that writes need off loopback. The guard page's
    card reads the screens' card files from `guard_cards` (default: the shipped ones)."""
    host_names = HostNames.listening_on(host, port, allow_hosts)
    form_token = secrets.token_urlsafe(32)  # per process: a page of an earlier hub, or of another site, has none
    engine = connect(db, for_reading=True)  # a read-only store is served read-only; overrides are then refused
    guard_rollup = DecisionRollup(engine)  # the guard's decisions per hour, read once, then only what is new

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Reading a large audit the first time takes seconds (a million decisions: tens of seconds on a busy
        # two-core machine): start with the server, so the first visit to /guard rarely waits for it. A failure
        # here is ignored; the page reads again and shows it.
        def warm() -> None:
            try:
                guard_rollup.refresh()
            except Exception:
                pass
        threading.Thread(target=warm, name="safehub-hub-guard-rollup", daemon=True).start()
        yield

    async def refuse_cross_site_writes(request: Request) -> None:
        """Every write, whatever its route: from the hub's own page, with the form token (field or header)."""
        if request.method not in WRITE_METHODS:
            return
        reason = cross_site_reason(request.headers.get("origin"), request.headers.get("sec-fetch-site"),
                                   request.headers.get("host", ""))
        if reason is None:
            sent = request.headers.get(FORM_TOKEN_HEADER)
            if sent is None:
                sent = (await request.form()).get(FORM_TOKEN_FIELD)  # the form FastAPI already read, not the body again
            if not has_form_token(sent if isinstance(sent, str) else None, form_token):
                reason = "the hub's form token is missing or out of date: reload the page and submit it again"
        if reason is not None:
            raise RefusedWrite(reason)

    app = FastAPI(title="safehub hub", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan,
                  dependencies=[Depends(refuse_cross_site_writes)])
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.globals["url"] = served_url
    templates.env.globals["agreement_interval"] = agreement_interval
    templates.env.globals["csrf_token"] = form_token  # in every form that writes and in <meta name="csrf-token">
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def refuse_foreign_hosts(request: Request, call_next):
        # A DNS-rebinding page reaches the hub under its own name: answering it would let it read every page.
        if not host_names.is_allowed(request.headers.get("host")):
            reason = "this hub answers only to the names it listens on; start it with --allow-host NAME to add one"
            if request.scope["path"].startswith("/api/"):  # not request.url: a malformed Host breaks its parsing
                return JSONResponse({"error": reason}, status_code=400)
            return PlainTextResponse(reason, status_code=400)
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Not no-referrer: with it a browser sends `Origin: null` on the hub's own form posts, which a cross-site
        # check cannot tell from a sandboxed frame elsewhere; same-origin still tells other sites nothing.
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.exception_handler(RefusedWrite)
    async def refused_write(request: Request, exc: RefusedWrite):
        return JSONResponse({"error": str(exc)}, status_code=403)

    @app.exception_handler(UsageError)
    async def not_found(request: Request, exc: UsageError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=404)
        return templates.TemplateResponse(request, "error.html", {"message": str(exc)}, status_code=404)

    @app.exception_handler(guard_view.BadQuery)
    async def bad_query(request: Request, exc: guard_view.BadQuery):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return templates.TemplateResponse(request, "error.html", {"message": str(exc), "heading": "Bad request"},
                                          status_code=400)

    def page(request: Request, name: str, **context) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context)

    @app.get("/", response_class=HTMLResponse)
    def overview_page(request: Request):
        data = views.overview(engine)
        return page(request, "overview.html", data=data)

    # A path: a metric reported per variant has a category below its suite's (agentic_self_preservation/shutdown/...).
    @app.get("/categories/{category:path}", response_class=HTMLResponse)
    def category_page(request: Request, category: str):
        data = views.category_view(engine, category)
        return page(request, "category.html", data=data, charts=charts.category_charts(data))

    @app.get("/api/categories/{category:path}")
    def api_category(category: str):
        return _jsonable(views.category_view(engine, category))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str):
        summary = queries.cached_run_summary(engine, run_id)
        return page(request, "run.html", summary=summary, chart=charts.run_chart(summary))

    def transcripts(run_id: str | None, *, is_hub_wide: bool, category: str | None, subcategory: str | None,
                    attack: str | None, label: str | None, q: str | None, page_number: int, after: int | None,
                    before: int | None) -> dict:
        """The transcripts of one run or of every run; empty form fields mean "any"."""
        def field(value: str | None, limit: int = 500) -> str | None:
            return (value or "").replace("\x00", "").strip()[:limit] or None  # PostgreSQL text cannot hold NUL

        return views.trial_page(engine, field(run_id), category=field(category), subcategory=field(subcategory),
                                attack=field(attack), label=field(label), search=field(q), page=page_number,
                                after=after, before=before, is_hub_wide=is_hub_wide)

    @app.get("/runs/{run_id}/trials", response_class=HTMLResponse)
    def trials_page(request: Request, run_id: str, category: str | None = None, subcategory: str | None = None,
                    attack: str | None = None, label: str | None = None, q: str | None = None, page_number: int = 1,
                    after: int | None = None, before: int | None = None):
        data = transcripts(run_id, is_hub_wide=False, category=category, subcategory=subcategory, attack=attack,
                           label=label, q=q, page_number=page_number, after=after, before=before)
        return page(request, "trials.html", data=data)

    @app.get("/trials", response_class=HTMLResponse)
    def all_trials_page(request: Request, run: str | None = None, category: str | None = None,
                        subcategory: str | None = None, attack: str | None = None, label: str | None = None,
                        q: str | None = None, page_number: int = 1, after: int | None = None,
                        before: int | None = None):
        data = transcripts(run, is_hub_wide=True, category=category, subcategory=subcategory, attack=attack,
                           label=label, q=q, page_number=page_number, after=after, before=before)
        return page(request, "trials.html", data=data)

    @app.get("/trials/{trial_id}", response_class=HTMLResponse)
    def trial_page(request: Request, trial_id: int):
        trial = views.trial_detail(engine, trial_id)
        transcript = agent_transcript(trial)  # an agentic trial's steps; an adaptive one's are drawn as a tree
        return page(request, "trial.html", trial=trial, needs_token=not is_loopback, transcript=transcript,
                    tree=attack_tree(trial["nodes"]) if trial["nodes"] and transcript is None else None)

    @app.post("/trials/{trial_id}/override")
    def override(trial_id: int, verdict: str = Form(...), by: str = Form(...), reason: str = Form(...),
                 hub_token: str = Form("")):
        if is_read_only(engine):
            return JSONResponse({"error": read_only_refusal(engine)}, status_code=409)
        if not is_loopback and (token is None or not hmac.compare_digest(hub_token.encode(), token.encode())):
            return JSONResponse({"error": "a valid hub token is required to record overrides"}, status_code=403)
        if verdict not in ("safe", "unsafe") or not by.strip() or not reason.strip():
            return JSONResponse({"error": "verdict must be safe or unsafe; who and why are required"}, status_code=400)
        add_override(engine, trial_id, is_safe=verdict == "safe", by=by.strip()[:200], reason=reason.strip()[:2000])
        return RedirectResponse(f"/trials/{trial_id}", status_code=303)

    disagreement_cache: dict = {}  # finished runs' disagreements, keyed by run and scores_version

    @app.get("/runs/{run_id}/disagreements", response_class=HTMLResponse)
    def disagreements_page(request: Request, run_id: str, page_number: int = 1):
        data = disagreements_view(engine, run_id, page=page_number, cache=disagreement_cache)
        return page(request, "disagreements.html", data=data)

    @app.get("/api/runs/{run_id}/disagreements")
    def api_disagreements(run_id: str, page_number: int = 1):
        return _jsonable(disagreements_view(engine, run_id, page=page_number, cache=disagreement_cache))

    @app.get("/graders", response_class=HTMLResponse)
    def graders_page(request: Request):
        return page(request, "graders.html", data=graders_view(engine))

    @app.get("/api/graders")
    def api_graders():
        return _jsonable(graders_view(engine))

    @app.get("/models/{model_id}", response_class=HTMLResponse)
    def model_page(request: Request, model_id: int):
        card = views.model_card(engine, model_id)
        return page(request, "model.html", data=card, latest_chart=charts.run_chart(card["latest"]),
                    trend_charts=charts.trend_charts(card))

    @app.get("/api/models/{model_id}")
    def api_model(model_id: int):
        return _jsonable(views.model_card(engine, model_id))

    per_sample: dict = {}  # finished runs' per-sample verdicts for compare, keyed by scores_version

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(request: Request, a: str | None = None, b: str | None = None):
        data = views.compare_view(engine, a or None, b or None, per_sample=per_sample)
        return page(request, "compare.html", data=data, choices_form=True)

    @app.get("/api/compare")
    def api_compare(a: str | None = None, b: str | None = None):
        return _jsonable(views.compare_view(engine, a or None, b or None, per_sample=per_sample))

    @app.get("/self-preservation", response_class=HTMLResponse)
    def self_preservation_page(request: Request):
        data = views.self_preservation_view(engine)
        return page(request, "self_preservation.html", data=data, charts=charts.self_preservation_charts(data),
                    agentic_charts=charts.agentic_charts(data["agentic"]))

    @app.get("/api/self-preservation")
    def api_self_preservation():
        return _jsonable(views.self_preservation_view(engine))

    def guard_data(rule: str | None, since: str | None, until: str | None, last: str | None,
                   bucket: str | None) -> dict:
        filters = guard_view.parse_filters(rule=rule, since=since, until=until, last=last, bucket=bucket)
        # Logged user text is private: a hub reachable off loopback (token or not) never shows it.
        return guard_view.guard_view(engine, guard_rollup, filters, include_text=is_loopback,
                                     cards_dir=guard_cards or guard_view.SHIPPED_CARDS)

    @app.get("/guard", response_class=HTMLResponse)
    def guard_page(request: Request, rule: str | None = None, since: str | None = None, until: str | None = None,
                   last: str | None = None, bucket: str | None = None):
        data = guard_data(rule, since, until, last, bucket)
        return page(request, "guard.html", data=data, charts=charts.guard_charts(data["summary"], guard_view.bucket_label),
                    label=guard_view.bucket_label, ms=guard_view.format_ms)

    @app.get("/api/guard")
    def api_guard(rule: str | None = None, since: str | None = None, until: str | None = None, last: str | None = None,
                  bucket: str | None = None):
        return _jsonable(guard_data(rule, since, until, last, bucket))

    @app.get("/api/overview")
    def api_overview():
        return _jsonable(views.overview(engine))

    @app.get("/api/runs")
    def api_runs(limit: int = 100):
        return _jsonable([{key: value for key, value in run.items() if key not in queries.OWNER_FIELDS}
                          for run in queries.list_runs(engine, min(max(limit, 1), 1000))])

    @app.get("/api/runs/{run_id}")
    def api_run(run_id: str):
        return _jsonable(queries.cached_run_summary(engine, run_id))

    @app.get("/api/runs/{run_id}/trials")
    def api_trials(run_id: str, category: str | None = None, subcategory: str | None = None,
                   attack: str | None = None, label: str | None = None, q: str | None = None, page_number: int = 1,
                   after: int | None = None, before: int | None = None):
        return _jsonable(transcripts(run_id, is_hub_wide=False, category=category, subcategory=subcategory,
                                     attack=attack, label=label, q=q, page_number=page_number, after=after,
                                     before=before))

    @app.get("/api/trials")
    def api_all_trials(run: str | None = None, category: str | None = None, subcategory: str | None = None,
                       attack: str | None = None, label: str | None = None, q: str | None = None,
                       page_number: int = 1, after: int | None = None, before: int | None = None):
        return _jsonable(transcripts(run, is_hub_wide=True, category=category, subcategory=subcategory,
                                     attack=attack, label=label, q=q, page_number=page_number, after=after,
                                     before=before))

    @app.get("/api/trials/{trial_id}")
    def api_trial(trial_id: int):
        return _jsonable(views.trial_detail(engine, trial_id))

    return app
