"""Hub speed on a large store: server-side p95 per page and the time of a static export.

    python bench/hub.py [--trials 1000000] [--models 5] [--requests 20] [--out bench/results/hub.json]

Builds (once, cached under bench/.data/) a SQLite store of the shipped default suites run against
several models for as many epochs as the trial count needs, with a verdict on every answer, each run
closed by writes.finish_run (which stores its summary, as the engine does), then times the pages
through the app in-process (server time, no network) and exports the hub.
The cached store is named after the schema revision it was built at, so a schema change rebuilds it
(stores of other revisions are listed, not deleted).
Targets: overview, category, run and model pages p95 <= 150 ms; transcript search p95 <= 300 ms; export <= 60 s.
`other_pages` are timed too (hub-wide search, filters), without targets.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from safehub.engine.plan import plan_trials
from safehub.hub.app import create_app
from safehub.hub.export import export_hub
from safehub.models.spec import ModelSpec
from safehub.scorers import metric_name
from safehub.store import writes
from safehub.store.db import HEAD_REVISION, connect
from safehub.store.schema import responses, scores, trials
from safehub.suites import resolve_suite_refs

HERE = Path(__file__).parent
TARGETS_MS = {"overview": 150, "category": 150, "run": 150, "model": 150, "transcripts_search": 300}
ANSWERS = ["I'm sorry, but I can't help with that.", "Sure, here is an overview of the steps involved.",
           "Paris.", "(A)", "(B)", "I don't know."]


def build_store(path: Path, n_trials: int, n_models: int, seed: int = 7) -> dict:
    engine = connect(f"sqlite:///{path}")
    refs = resolve_suite_refs(["default"])
    suites = [suite for suite, _ in refs]
    pks = {s.name: writes.upsert_samples(engine, s.name, s.version, [x.model_dump(mode="json", exclude_none=True)
                                                                      for x in s.samples]) for s in suites}
    per_epoch = len(plan_trials(suites, pks, limit=None, epochs=1))
    epochs = max(1, round(n_trials / (n_models * per_epoch)))
    rng = random.Random(seed)
    planned = plan_trials(suites, pks, limit=None, epochs=epochs)
    evaluation = writes.create_evaluation(engine, {"benchmark": "hub"})
    finish_s = []  # per run: counts, and the summary computed and stored at finish
    for index in range(n_models):
        spec = ModelSpec.parse(f"openai-compat:bench-model-{index}@http://127.0.0.1:1/v1")
        run_id = writes.create_run(engine, evaluation_id=evaluation, model_id=writes.upsert_model(engine, spec),
                                   model_spec=spec.display, suites_info=[{"name": s.name, "version": s.version,
                                                                          "ref": "default"} for s in suites],
                                   settings={"epochs": epochs}, n_planned=len(planned))
        safety = 0.5 + 0.45 * index / max(1, n_models - 1)
        now = writes.now()
        for start in range(0, len(planned), 20_000):
            chunk = planned[start:start + 20_000]
            with engine.begin() as connection:
                ids = connection.execute(insert(trials).returning(trials.c.id, sort_by_parameter_order=True), [
                    {"run_id": run_id, "sample_pk": t.sample_pk, "attack": t.attack, "epoch": t.epoch,
                     "messages": t.messages, "is_error": False, "created_at": now} for t in chunk]).scalars().all()
                connection.execute(insert(responses), [
                    {"trial_id": i, "text": rng.choice(ANSWERS), "finish_reason": "stop", "input_tokens": 20,
                     "output_tokens": 8, "first_token_logprobs": None, "latency_ms": 100.0, "attempts": 1,
                     "error": None, "error_kind": None, "is_cached": False} for i in ids])
                connection.execute(insert(scores), [
                    {"trial_id": i, "grader": "bench", "grader_version": "1", "metric": metric_name(t.sample),
                     "label": "x", "value": 1.0 if rng.random() < safety else 0.0, "explanation": "",
                     "details": None, "is_override": False, "created_at": now} for i, t in zip(ids, chunk)])
        started = time.perf_counter()
        writes.finish_run(engine, run_id, "completed", 1.0)
        finish_s.append(time.perf_counter() - started)
    engine.dispose()
    return {"trials": len(planned) * n_models, "models": n_models, "epochs": epochs, "schema": HEAD_REVISION,
            "finish_run_s": finish_s}


def p95_ms(client: TestClient, path: str, requests: int) -> dict:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    first_ms = times[0]  # the first (cold) request: summaries are stored at finish, so it should be fast too
    times.sort()
    return {"p95_ms": times[max(0, int(len(times) * 0.95) - 1)], "median_ms": statistics.median(times),
            "first_ms": first_ms, "requests": requests}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hub.json")
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    store = args.data / f"hub-{args.trials}-{args.models}-r{HEAD_REVISION}.db"
    stale = sorted(path.name for path in args.data.glob(f"hub-{args.trials}-{args.models}[.-]*.db")
                   if path.name != store.name)
    if stale:  # left in place: someone may be reading one; delete them when done
        print(f"stores from other schema revisions in {args.data}: {', '.join(stale)}")
    started = time.perf_counter()
    shape_file = store.with_suffix(".json")
    shape = json.loads(shape_file.read_text()) if store.exists() and shape_file.exists() else None
    if shape is None:
        for partial in args.data.glob(f"{store.name}*"):
            partial.unlink()  # an interrupted build
        shape = build_store(store, args.trials, args.models)
        shape_file.write_text(json.dumps(shape))
    build_s = time.perf_counter() - started
    client = TestClient(create_app(f"sqlite:///{store}"), base_url="http://127.0.0.1:8765")  # the hub answers its own names
    run_id = client.get("/api/runs").json()[0]["id"]
    model_id = client.get("/api/overview").json()["models"][0]["model_id"]
    pages = {"overview": "/", "category": "/categories/jailbreaks", "run": f"/runs/{run_id}",
             "model": f"/models/{model_id}",
             "transcripts_search": f"/runs/{run_id}/trials?q=sorry&category=disallowed_content&page_number=3"}
    timings = {name: p95_ms(client, path, args.requests) for name, path in pages.items()}
    next_page = client.get(f"/api/runs/{run_id}/trials", params={"q": "sorry"}).json()["links"]["next"] or ""
    other_pages = {"search_phrase_prefix": f"/runs/{run_id}/trials?q=%22can%27t+help%22+sorr*",
                   "search_next_page": f"/runs/{run_id}/trials{next_page}",
                   "hub_wide_search": "/trials?q=sorry", "label_and_category": f"/runs/{run_id}/trials?label=x&"
                   "category=hallucination", "hub_wide_label_and_category": "/trials?label=x&category=hallucination",
                   "compare": "/compare", "self_preservation": "/self-preservation"}
    other_timings = {name: p95_ms(client, path, args.requests) for name, path in other_pages.items()}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        files = export_hub(connect(f"sqlite:///{store}"), Path(folder) / "site")
        export_s = time.perf_counter() - started
        transcript_files = sum(1 for _ in (Path(folder) / "site" / "runs").glob("*/trials-*.html"))
    result = {"benchmark": "hub", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "store": shape,
              "store_build_s": build_s, "pages": timings, "targets_ms": TARGETS_MS,
              "meets_targets": {name: timings[name]["p95_ms"] <= TARGETS_MS[name] for name in timings},
              "other_pages": other_timings,
              "export": {"seconds": export_s, "files": files, "transcript_files": transcript_files, "target_s": 60,
                         "cpus": os.cpu_count()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, timing in timings.items():
        print(f"{name:20s} p95 {timing['p95_ms']:8.1f} ms (target {TARGETS_MS[name]} ms), first request "
              f"{timing['first_ms']:.0f} ms")
    for name, timing in other_timings.items():
        print(f"{name:28s} p95 {timing['p95_ms']:8.1f} ms (no target), first request {timing['first_ms']:.0f} ms")
    print(f"export               {export_s:8.1f} s, {files} files (target 60 s); store {shape}")


if __name__ == "__main__":
    main()
