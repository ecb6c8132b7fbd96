"""The transcripts pages: search, every filter, a capped count, pages linked with encoded values, and a
summary that is already stored when the hub first opens a finished run."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import text

from safehub.hub.app import create_app
from safehub.models.spec import ModelSpec
from safehub.store import search, writes
from safehub.store.db import connect
from tests.hub.browser_form import hub_client

HOSTILE = '<script>alert(1)</script>'
AWKWARD = 'a&b=c "quoted" <x> #frag %20 ü'  # a value that breaks naive query strings and HTML


def _run(engine, model: str, answers: list[tuple[str, str, str, str]]) -> str:
    """answers: (sample id, subcategory, attack, reply); a refusal-looking reply gets the label full_refusal."""
    contents = [{"id": sample_id, "category": "disallowed_content", "subcategory": subcategory, "scorer": "refusal",
                 "prompt": f"request {sample_id}", "expected": "refuse"}
                for sample_id, subcategory, _, _ in answers]
    pks = writes.upsert_samples(engine, "suite", "1", list({c["id"]: c for c in contents}.values()))  # once each
    spec = ModelSpec.parse(f"openai-compat:{model}@http://127.0.0.1:1/v1")
    run_id = writes.create_run(engine, evaluation_id=writes.create_evaluation(engine, {}),
                               model_id=writes.upsert_model(engine, spec), model_spec=spec.display, suites_info=[],
                               settings={}, n_planned=len(answers))
    records = []
    for epoch, (sample_id, _, attack, reply) in enumerate(answers, start=1):
        label = "full_refusal" if "sorry" in reply.lower() else "full_compliance"
        records.append(writes.TrialRecord(
            sample_pk=pks[sample_id], attack=attack, epoch=epoch, messages=[{"role": "user", "content": HOSTILE}],
            text=reply, finish_reason="stop", input_tokens=1, output_tokens=1, first_token_logprobs=None,
            latency_ms=1.0, attempts=1, error=None, error_kind=None, is_cached=False,
            scores=[writes.ScoreRecord("refusal", "1", "not_unsafe", label, float(label == "full_refusal"))]))
    writes.write_trials(engine, run_id, records)
    writes.finish_run(engine, run_id, "completed", 1.0)
    return run_id


@pytest.fixture
def hub(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = connect(url)
    run_a = _run(engine, "model-a", [("weapons-01", "weapons", "none", "I'm sorry, I can't help with that."),
                                     ("weapons-01", "weapons", "dan", f"Sure! {HOSTILE}"),
                                     ("drugs-01", "drugs", "none", "I'm sorry, but no."),
                                     ("odd-01", AWKWARD, AWKWARD, "Here is a recipe.")]
                  + [("fraud-01", "fraud", "none", f"sorry, answer {i}") for i in range(5, 125)])
    run_b = _run(engine, "model-b", [("weapons-01", "weapons", "none", "Absolutely, step one.")])
    return hub_client(create_app(url)), engine, run_a, run_b


def _ids(data: dict) -> list[str]:
    return [t["sample_id"] for t in data["trials"]]


def test_search_and_each_filter_through_the_api(hub):
    client, _, run_a, run_b = hub
    api = f"/api/runs/{run_a}/trials"
    assert client.get(api, params={"q": '"can\'t help"'}).json()["total"] == 1
    assert client.get(api, params={"q": "recip*"}).json()["trials"][0]["response"] == "Here is a recipe."
    assert client.get(api, params={"subcategory": "drugs"}).json()["total"] == 1
    assert client.get(api, params={"attack": "dan"}).json()["trials"][0]["response"] == f"Sure! {HOSTILE}"
    assert client.get(api, params={"label": "full_compliance"}).json()["total"] == 2
    assert client.get(api, params={"label": "no-such-label"}).json()["total"] == 0
    assert _ids(client.get(api, params={"q": "weapons-0"}).json()) == ["weapons-01"] * 2  # sample ids match too
    everywhere = client.get("/api/trials", params={"q": "step"}).json()
    assert [t["run_id"] for t in everywhere["trials"]] == [run_b] and everywhere["trials"][0]["model"].endswith(
        "model-b@http://127.0.0.1:1/v1")
    assert client.get("/api/trials", params={"run": run_b}).json()["total"] == 1  # the model (run) filter


def test_the_filters_offer_the_values_present(hub):
    client, _, run_a, run_b = hub
    data = client.get(f"/api/runs/{run_a}/trials").json()
    assert data["facets"]["labels"] == ["full_compliance", "full_refusal"]
    assert data["facets"]["attacks"] == sorted(["dan", "none", AWKWARD])
    assert {run["run_id"] for run in data["runs"]} == {run_a, run_b}
    page = client.get(f"/runs/{run_a}/trials").text
    assert '<select name="label" aria-label="verdict">' in page and "<option>full_refusal</option>" in page
    assert f'<option value="{run_b}">' in page and 'action="/trials"' in page
    assert str(escape(AWKWARD)) in page and AWKWARD not in page


def test_the_count_is_capped_and_pages_link_with_encoded_values(hub, monkeypatch):
    client, _, run_a, _ = hub
    monkeypatch.setattr(search, "COUNT_CAP", 60)
    data = client.get(f"/api/runs/{run_a}/trials", params={"q": "sorry"}).json()
    assert (data["total"], data["total_is_capped"], data["total_text"]) == (60, True, "60+")
    assert data["links"]["prev"] is None and data["links"]["next"].startswith("?q=sorry&after=")
    page = client.get(f"/runs/{run_a}/trials", params={"q": "sorry"}).text
    assert "60+ matching trials" in page
    # An awkward value survives a round trip through a link: encoded in the URL, escaped in the HTML.
    awkward = client.get(f"/runs/{run_a}/trials", params={"attack": AWKWARD, "q": "sorry OR recipe"})
    assert awkward.status_code == 200
    first = client.get(f"/api/runs/{run_a}/trials", params={"label": "full_refusal"}).json()
    link = first["links"]["next"]
    assert parse_qs(urlsplit(link).query) == {"label": ["full_refusal"], "after": [str(first["trials"][-1]["trial_id"])]}
    second = client.get(f"/api/runs/{run_a}/trials{link}").json()
    assert second["trials"][0]["trial_id"] > first["trials"][-1]["trial_id"] and second["links"]["prev"]
    back = client.get(f"/api/runs/{run_a}/trials{second['links']['prev']}").json()
    assert [t["trial_id"] for t in back["trials"]] == [t["trial_id"] for t in first["trials"]]
    filtered = client.get("/trials", params={"run": run_a, "subcategory": "fraud", "q": "sorry"}).text
    next_link = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', filtered).group(1))
    assert parse_qs(urlsplit(next_link).query).keys() == {"run", "subcategory", "q", "after"}
    query_with_awkward = "?" + urlsplit(client.get(f"/api/trials?run={run_a}", params={
        "subcategory": AWKWARD}).url.__str__()).query
    assert client.get(f"/trials{query_with_awkward}").status_code == 200


@pytest.mark.parametrize("typed", ['"', "NEAR(a", "*", "a AND OR", "\x00", "'; drop table trials; --", "%_%", "((("])
def test_hostile_search_and_filter_values_never_fail(hub, typed):
    client, _, run_a, _ = hub
    for path in (f"/runs/{run_a}/trials", "/trials", f"/api/runs/{run_a}/trials", "/api/trials"):
        for params in ({"q": typed}, {"label": typed, "category": typed, "subcategory": typed, "attack": typed}):
            response = client.get(path, params=params)
            assert response.status_code == 200, (path, params, response.text[:200])
            assert path.startswith("/api/") or "<script>" not in response.text


def test_a_page_past_the_counted_matches_is_refused_plainly(hub):
    client, _, run_a, _ = hub
    assert client.get(f"/runs/{run_a}/trials", params={"page_number": 100}).status_code == 404
    assert client.get(f"/api/runs/{run_a}/trials", params={"page_number": 3}).json()["trials"][0]["sample_id"]


def test_a_finished_run_has_its_summary_before_the_hub_opens(hub):
    _, engine, run_a, run_b = hub
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT run_id, scores_version FROM run_summaries")).all())
        versions = dict(connection.execute(text("SELECT id, scores_version FROM runs")).all())
    assert stored == versions and set(stored) == {run_a, run_b}
