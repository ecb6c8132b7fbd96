"""The static export: plain files with relative links, escaped output, JSON beside the pages."""

from __future__ import annotations

import json
import re

from sqlalchemy import text

from tests.conftest import safehub
from tests.store.test_store import pg_database, store_url  # noqa: F401  (fixtures: SQLite and PostgreSQL)

HOSTILE = '<script>alert(1)</script>'


def test_export_writes_linked_pages_and_json(tmp_path, make_mock_server):
    server = make_mock_server("--reply", HOSTILE)
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    run_id = safehub("run", "--model", server.spec("hostile"), "--suite", "smoke", "--db", db_url).stdout.strip()
    out = tmp_path / "site"

    result = safehub("export", "--out", str(out), "--db", db_url)

    assert result.returncode == 0, result.stderr
    for relative in ("index.html", f"runs/{run_id}.html", f"runs/{run_id}/trials-1.html", "static/style.css",
                     "categories/disallowed_content.html", "api/overview.json", f"api/runs/{run_id}.json"):
        assert (out / relative).is_file(), relative
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "<script" not in text
        for link in re.findall(r'href="([^"#?]+)', text):
            assert not link.startswith("/"), (page, link)  # relative, so the copy works anywhere
            assert (page.parent / link).resolve().exists(), (page, link)
    transcripts = (out / f"runs/{run_id}/trials-1.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in transcripts and transcripts.count("<section") == 9
    assert json.loads((out / f"api/runs/{run_id}.json").read_text())["run_id"] == run_id


def test_export_refuses_a_folder_that_is_not_an_export(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = safehub("export", "--out", str(tmp_path), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2 and "not a safehub export" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _transcript_store(url: str, n_trials: int) -> tuple[str, int]:
    """A run of n_trials with hostile replies, a grader verdict on each and one human override."""
    from safehub.models.spec import ModelSpec
    from safehub.store import writes
    from safehub.store.db import connect

    engine = connect(url)
    pks = writes.upsert_samples(engine, "s", "1", [{"id": f"x{i:04d}", "category": "disallowed_content",
                                                    "scorer": "refusal", "prompt": "p", "expected": "refuse"}
                                                   for i in range(n_trials)])
    spec = ModelSpec.parse("openai-compat:m@http://127.0.0.1:1/v1")
    run_id = writes.create_run(engine, evaluation_id=writes.create_evaluation(engine, {}),
                               model_id=writes.upsert_model(engine, spec), model_spec=spec.display, suites_info=[],
                               settings={}, n_planned=n_trials)
    writes.write_trials(engine, run_id, [writes.TrialRecord(
        sample_pk=pks[f"x{i:04d}"], attack="none", epoch=1,
        messages=[{"role": "system", "content": "be safe"}, {"role": "user", "content": f"{HOSTILE} #{i}"}],
        text=f"reply {i} {HOSTILE}", finish_reason="stop", input_tokens=1, output_tokens=1, first_token_logprobs=None,
        latency_ms=1.0, attempts=1, error=None, error_kind=None, is_cached=False,
        scores=[writes.ScoreRecord("refusal", "1", "not_unsafe", "full_compliance", 0.0, explanation="<b>why</b>")])
        for i in range(n_trials)])
    writes.finish_run(engine, run_id, "completed", 1.0)
    with engine.connect() as connection:
        first_trial = connection.execute(text("SELECT min(id) FROM trials")).scalar_one()
    writes.add_override(engine, first_trial, is_safe=True, by="<reviewer>", reason="it <refused>")
    return run_id, first_trial


def test_transcript_pages_are_complete_and_the_same_from_worker_processes(tmp_path, monkeypatch,
                                                                          store_url):  # noqa: F811
    from safehub.hub import transcripts_export
    from safehub.hub.export import PATHS
    from safehub.store.db import connect

    url = store_url
    run_id, first_trial = _transcript_store(url, 250)
    engine = connect(url)
    plan = transcripts_export.plan_transcripts(engine, run_id)
    assert plan.pages == 3 and plan.location(first_trial + 100) == f"runs/{run_id}/trials-2.html#trial-{first_trial + 100}"
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert transcripts_export.write_transcripts(engine, serial, [plan], PATHS, workers=1) == 3
    monkeypatch.setattr(transcripts_export, "BLOCK_PAGES", 1)  # three blocks over two worker processes
    assert transcripts_export.write_transcripts(engine, parallel, [plan], PATHS, workers=2,
                                                parallel_from_trials=0) == 3
    pages = [(serial / f"runs/{run_id}/trials-{n}.html").read_text() for n in (1, 2, 3)]
    assert pages == [(parallel / f"runs/{run_id}/trials-{n}.html").read_text() for n in (1, 2, 3)]
    assert [page.count("<section") for page in pages] == [100, 100, 50]
    first = pages[0]
    assert "<script" not in "".join(pages) and "&lt;script&gt;alert(1)&lt;/script&gt; #0" in first
    assert "reply 0 &lt;script&gt;" in first and "be safe" in first  # the conversation and the response
    assert "refusal 1</td><td>not_unsafe</td><td>full_compliance</td>" in first and "&lt;b&gt;why&lt;/b&gt;" in first
    assert "human 1 (override by &lt;reviewer&gt;)</td><td>not_unsafe</td><td>human_safe" in first
    assert "it &lt;refused&gt;" in first
    assert 'href="trials-2.html" rel="next"' in first and 'href="trials-2.html" rel="prev"' in pages[2]
    assert 'href="../../runs/' in first and 'href="../../static/style.css"' in first
