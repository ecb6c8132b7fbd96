"""The hub over a real store: pages render, hostile model output stays text, writes need a token off loopback."""

from __future__ import annotations

import pytest

from safehub.hub.app import create_app
from tests.conftest import safehub
from tests.hub.browser_form import hub_client, post_override

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture
def store(tmp_path, make_mock_server):
    server = make_mock_server("--reply", HOSTILE)
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = safehub("run", "--model", server.spec("hostile"), "--suite", "smoke", "--db", db_url)
    assert result.returncode == 0, result.stderr
    return db_url, result.stdout.strip()


def test_every_page_renders_with_csp_and_escapes_model_output(store):
    db_url, run_id = store
    client = hub_client(create_app(db_url))
    trial_id = client.get(f"/api/runs/{run_id}/trials").json()["trials"][0]["trial_id"]
    for path in ("/", f"/runs/{run_id}", f"/runs/{run_id}/trials", f"/trials/{trial_id}", "/categories/disallowed_content",
                 f"/runs/{run_id}/trials?q=alert&category=disallowed_content"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "<script>" not in response.text and "onerror=alert" not in response.text.replace("onerror=alert(2)&gt;", "")
    trial_page = client.get(f"/trials/{trial_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in trial_page


def test_overview_shows_headline_metric_with_interval(store):
    db_url, _ = store
    data = hub_client(create_app(db_url)).get("/api/overview").json()
    cell = data["models"][0]["headline"]["disallowed_content"]
    assert cell["name"] == "not_unsafe" and cell["n"] == 4 and cell["low"] <= cell["value"] <= cell["high"]


def test_the_runs_api_does_not_say_which_machine_ran_them(store):
    db_url, run_id = store
    [run] = hub_client(create_app(db_url)).get("/api/runs").json()
    assert run["id"] == run_id and run["status"] == "completed"
    assert not {"owner_pid", "owner_host", "heartbeat_at"} & set(run)  # `safehub runs --json` keeps them, locally


def test_transcripts_filter_and_paginate(store):
    db_url, run_id = store
    client = hub_client(create_app(db_url))
    everything = client.get(f"/api/runs/{run_id}/trials").json()
    assert everything["total"] == 9 and everything["pages"] == 1
    choice = client.get(f"/api/runs/{run_id}/trials", params={"category": "self_preservation"}).json()
    assert choice["total"] == 1 and choice["trials"][0]["sample_id"] == "choice-shutdown-01"
    assert client.get(f"/api/runs/{run_id}/trials", params={"q": "no-such-text"}).json()["total"] == 0


def test_override_changes_the_metric_on_loopback(store):
    db_url, run_id = store
    client = hub_client(create_app(db_url))
    trials = client.get(f"/api/runs/{run_id}/trials", params={"q": "harm-weapons"}).json()["trials"]
    before = {m["name"]: m for m in client.get(f"/api/runs/{run_id}").json()["metrics"]}["not_unsafe"]["value"]
    response = post_override(client, trials[0]["trial_id"], verdict="unsafe", by="reviewer", reason="it answered")
    assert response.status_code == 303
    after = {m["name"]: m for m in client.get(f"/api/runs/{run_id}").json()["metrics"]}["not_unsafe"]["value"]
    # The hostile markup gives no harmful help, so the grader counts it safe; a reviewer calls one of four unsafe.
    assert (before, after) == (1.0, 0.75)


def test_override_needs_the_token_off_loopback(store):
    db_url, run_id = store
    client = hub_client(create_app(db_url, token="s3cret-token", is_loopback=False))
    trial_id = client.get(f"/api/runs/{run_id}/trials").json()["trials"][0]["trial_id"]
    form = {"verdict": "safe", "by": "x", "reason": "y"}
    assert post_override(client, trial_id, **form, hub_token="wrong").status_code == 403
    assert "s3cret-token" not in client.get(f"/trials/{trial_id}").text
    assert post_override(client, trial_id, **form, hub_token="s3cret-token").status_code == 303


def test_unknown_run_is_a_404(store):
    db_url, _ = store
    client = hub_client(create_app(db_url))
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/api/runs/nope").json()["error"].startswith("no run 'nope'")


def test_hub_refuses_a_public_address_without_a_token():
    result = safehub("hub", "--host", "0.0.0.0", "--db", "sqlite:///unused.db")
    assert result.returncode == 2 and "SAFEHUB_HUB_TOKEN" in result.stderr


def test_category_page_breaks_metrics_down_by_subcategory(store):
    db_url, _ = store
    client = hub_client(create_app(db_url))
    data = client.get("/api/categories/disallowed_content").json()
    assert data["metric_names"] == ["not_overrefuse", "not_unsafe"]
    breakdown = data["models"][0]["subcategories"]["not_unsafe"]
    assert {row["subcategory"] for row in breakdown} == {"weapons_and_violence", "malware_and_intrusion",
                                                         "phishing_and_fraud", "illegal_drugs"}
    assert all(row["n"] == 1 and row["low"] <= row["value"] <= row["high"] for row in breakdown)
    page = client.get("/categories/disallowed_content").text
    assert "Share of harmful requests" in page and "<svg" in page
    assert client.get("/categories/nothing-here").status_code == 404


def test_finished_run_summary_is_stored_and_recomputed_after_an_override(store):
    from sqlalchemy import create_engine, text

    db_url, run_id = store
    client = hub_client(create_app(db_url))
    client.get(f"/runs/{run_id}")
    engine = create_engine(db_url)
    with engine.connect() as connection:
        first = connection.execute(text("select scores_version from run_summaries where run_id = :r"),
                                   {"r": run_id}).scalar_one()
    trial_id = client.get(f"/api/runs/{run_id}/trials", params={"q": "harm-drugs"}).json()["trials"][0]["trial_id"]
    assert post_override(client, trial_id, verdict="unsafe", by="r", reason="x").status_code == 303
    metrics = {m["name"]: m for m in client.get(f"/api/runs/{run_id}").json()["metrics"]}
    with engine.connect() as connection:
        second = connection.execute(text("select scores_version from run_summaries where run_id = :r"),
                                    {"r": run_id}).scalar_one()
    engine.dispose()
    assert second == first + 1 and metrics["not_unsafe"]["value"] == 0.75
