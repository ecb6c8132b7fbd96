"""The guard page: block and flag rates over time, per rule and per upstream, from decisions the audit log wrote."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from safehub.guard.audit import AuditLog
from safehub.guard.keys import hash_key
from safehub.guard.screens import SCREENS
from safehub.guard.server import running_guard
from safehub.hub.app import create_app
from safehub.hub.export import export_hub
from safehub.hub.guard_view import BadQuery, parse_filters
from safehub.stats import wilson_interval
from safehub.store.db import connect
from safehub.store.guard import LATENCY_BIN_RATIO, LATENCY_BINS, DecisionRollup, guard_summary, latency_quantile, quantile_ranks
from safehub.store.guard_measurements import add_guard_measurements
from safehub.store.schema import guard_decisions
from tests.guard.doubles import JAILBREAK, guard_config, keyword_screens
from tests.guard.test_guard_card import CARDS, FIXTURE
from tests.hub.browser_form import hub_client
from tests.store.test_store import pg_database, store_url  # noqa: F401  (fixtures: SQLite and PostgreSQL)

HOSTILE_TEXT = "<script>alert('guard-xss')</script><img src=x onerror=alert('guard-img')>"
HOSTILE_CLIENT = "<b>team</b>"
TEN = datetime(2026, 11, 23, 10, 5, tzinfo=timezone.utc)


def decision(when: datetime, stage: str, rule: str | None, action: str, score: float | None, *, upstream=None,
             status=200, attempts=1, latency_ms=50.0, client="team-a", text: str | None = None) -> dict:
    details = {"request_id": f"r-{when.timestamp()}", "model": "guarded", "status": status, "attempts": attempts,
               "screen_ms": 0.3, "scores": {rule: score} if rule else {}}
    if text is not None:
        details["messages" if stage == "input" else "text"] = (
            [{"role": "system", "content": "be nice"}, {"role": "user", "content": text}] if stage == "input" else text)
    return {"created_at": when, "client": client, "stage": stage, "rule": rule, "score": score, "action": action,
            "upstream": upstream, "latency_ms": latency_ms, "details": details}


def write(db_url: str, rows: list[dict]) -> None:
    """Through the guard's own writer: AuditLog batches them into guard_decisions."""
    audit = AuditLog(connect(db_url))
    for row in rows:
        audit.record(row)
    assert audit.flush() == len(rows)
    audit.engine.dispose()


def decisions() -> list[dict]:
    """Three hours: 10:xx busy, 11:xx empty, 12:xx quiet; two upstreams; one request no upstream could answer."""
    eleven_requests = []
    at = TEN
    for score in (0.91, 0.95, 0.97):  # blocked at input: no upstream
        eleven_requests.append(decision(at, "input", "persona_jailbreak", "block", score, upstream=None, attempts=0,
                                        latency_ms=2.0, text=HOSTILE_TEXT, client=HOSTILE_CLIENT))
    for score in (0.7, 0.8):  # flagged, answered by a
        eleven_requests += [decision(at, "input", "harmful_request", "flag", score, upstream="openai:a", latency_ms=120.0),
                            decision(at, "output", "harmful_output", "pass", 0.02, upstream="openai:a", latency_ms=120.0)]
    for number in range(4):  # passed, answered by a (the last after a failover); one answer blocked at output
        eleven_requests += [
            decision(at, "input", "harmful_request", "pass", 0.1, upstream="openai:a", attempts=2 if number == 3 else 1,
                     latency_ms=100.0 + number),
            decision(at, "output", "harmful_output", "block" if number == 0 else "pass", 0.9 if number == 0 else 0.05,
                     upstream="openai:a", latency_ms=100.0 + number, text="Sure: " + HOSTILE_TEXT if number == 0 else None)]
    eleven_requests.append(decision(at, "input", "harmful_request", "pass", 0.1, upstream=None, status=502, attempts=0,
                                    latency_ms=900.0))
    noon = TEN + timedelta(hours=2)
    quiet = [decision(noon + timedelta(minutes=minute), "input", "harmful_request", "pass", 0.05, upstream="openai:b",
                      latency_ms=float(200 + minute)) for minute in range(4)]
    return eleven_requests + quiet


@pytest.fixture
def store(store_url) -> str:  # noqa: F811  (the imported fixture)
    """The decisions above in SQLite and (with SAFEHUB_TEST_PG) PostgreSQL."""
    write(store_url, decisions())
    return store_url


@pytest.fixture
def client(store) -> TestClient:
    return hub_client(create_app(store))


def counted(rows: list[dict], **where) -> int:
    return sum(all(row[key] == value for key, value in where.items()) for row in rows)


def assert_rate(shown: dict, successes: int, n: int) -> None:
    assert shown["n"] == n
    assert shown["value"] == pytest.approx(successes / n)
    assert (shown["low"], shown["high"]) == pytest.approx(wilson_interval(successes, n))


def test_rates_over_time_are_the_stored_decisions_counted_per_hour_with_wilson_intervals(client):
    rows = decisions()
    data = client.get("/api/guard").json()
    summary = data["summary"]
    assert summary["bucket"] == "hour" and summary["decisions"] == len(rows)
    assert summary["requests"] == counted(rows, stage="input")
    inputs = summary["timeline"]["input"]
    assert [point["bucket"] for point in inputs] == ["2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z"]
    ten = [row for row in rows if row["created_at"].hour == 10]
    n_input = counted(ten, stage="input")
    assert_rate(inputs[0]["blocks"], counted(ten, stage="input", action="block"), n_input)
    assert_rate(inputs[0]["flags"], counted(ten, stage="input", action="flag"), n_input)
    assert inputs[1]["n"] == 0 and inputs[1]["blocks"]["value"] is None  # the empty hour is a gap, not a zero
    assert_rate(inputs[2]["blocks"], 0, 4)
    outputs = summary["timeline"]["output"]
    assert_rate(outputs[0]["blocks"], counted(ten, stage="output", action="block"), counted(ten, stage="output"))
    assert data["span"] == {"first": "2026-11-23T10:05:00Z", "last": "2026-11-23T12:08:00Z"}


def test_rule_table_counts_each_rule_and_action_with_its_rate_and_mean_score(client):
    rows = decisions()
    table = {(r["stage"], r["rule"], r["action"]): r for r in client.get("/api/guard").json()["summary"]["rules"]}
    assert set(table) == {(row["stage"], row["rule"], row["action"]) for row in rows}
    for (stage, rule, action), shown in table.items():
        matching = [row for row in rows if (row["stage"], row["rule"], row["action"]) == (stage, rule, action)]
        assert shown["decisions"] == len(matching)
        assert_rate(shown["rate"], len(matching), counted(rows, stage=stage))
        scores = [row["score"] for row in matching]
        assert shown["mean_score"]["value"] == pytest.approx(np.mean(scores)) and shown["mean_score"]["n"] == len(scores)
        if len(scores) > 1:
            half = 1.959963984540054 * np.std(scores, ddof=1) / np.sqrt(len(scores))
            assert shown["mean_score"]["low"] == pytest.approx(max(0.0, np.mean(scores) - half))
    first = next(iter(table))
    assert first == ("input", "persona_jailbreak", "block")  # blocks first, then flags, then passes


def test_upstreams_show_requests_failovers_errors_and_latency_percentiles(client):
    rows = [row for row in decisions() if row["stage"] == "input"]
    data = client.get("/api/guard").json()["summary"]
    upstreams = {u["upstream"]: u for u in data["upstreams"]}
    assert list(upstreams) == ["openai:a", "openai:b", None]  # busiest first; "none" last
    for name, shown in upstreams.items():
        mine = [row for row in rows if row["upstream"] == name]
        assert shown["requests"] == len(mine)
        assert_rate(shown["share"], len(mine), len(rows))
        assert_rate(shown["errors"], sum(row["details"]["status"] >= 400 for row in mine), len(mine))
        assert_rate(shown["failovers"], sum(row["details"]["attempts"] > 1 for row in mine), len(mine))
        latencies = sorted(row["latency_ms"] for row in mine)
        median = latencies[quantile_ranks(len(latencies), 0.5)[0] - 1]
        p50 = shown["latency_p50_ms"]
        assert p50["n"] == len(mine) and p50["low"] <= median <= p50["high"]
        assert p50["value"] == pytest.approx(median, rel=LATENCY_BIN_RATIO - 1)
    assert_rate(data["failovers"], 1, len(rows))
    assert_rate(data["errors"], 1, len(rows))
    assert [(s["status"], s["requests"]) for s in data["statuses"]] == [(200, len(rows) - 1), (502, 1)]


def test_page_draws_a_chart_per_stage_with_a_whisker_per_point_and_the_tables(client):
    response = client.get("/guard")
    page = response.text
    assert response.status_code == 200 and "script-src 'self'" in response.headers["content-security-policy"]
    assert page.count('class="chart timeline"') == 2  # input and output screens
    # Two series (block, flag) per non-empty hour: input has 2 such hours, output 1.
    assert page.count('class="whisker"') == 2 * (2 + 1)
    assert 'aria-label="input screens: block and flag rates per hour, 95% Wilson intervals"' in page
    assert "11-23 10:00: block rate 0.300, 95% interval 0.108 to 0.603, n=10" in page  # 3 of 10, in the point title
    assert re.search(r'<a href="/guard\?rule=persona_jailbreak">persona_jailbreak</a>', page)
    assert '<a href="/guard">guard</a>' in page  # the nav


def test_hostile_text_client_and_upstream_names_stay_text(store, tmp_path):
    write(store, [decision(TEN, "input", "harmful_request", "flag", 0.8, upstream="<i>up</i>", client="<u>c</u>")])
    page = hub_client(create_app(store)).get("/guard").text
    for raw in ("<script>", "<img", "<b>team</b>", "<i>up</i>", "<u>c</u>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#39;guard-xss&#39;)&lt;/script&gt;" in page  # logged text is shown, as text
    assert "&lt;b&gt;team&lt;/b&gt;" in page and "&lt;i&gt;up&lt;/i&gt;" in page


def test_a_hub_reachable_off_loopback_never_shows_logged_text(store):
    write(store, [decision(TEN, "input", "harmful_request", "flag", 0.8)])
    public = hub_client(create_app(store, token="t0ken-for-overrides", is_loopback=False))
    page, data = public.get("/guard").text, public.get("/api/guard").json()
    assert "guard-xss" not in page and "guard-xss" not in str(data)
    assert "shown only by a hub listening on loopback" in page
    assert "guard-xss" in hub_client(create_app(store)).get("/api/guard").text  # the same store, served on loopback


def test_filters_narrow_by_rule_and_by_window(client):
    by_rule = client.get("/api/guard", params={"rule": "harmful_request"}).json()["summary"]
    ten = by_rule["timeline"]["input"][0]
    assert ten["blocks"]["value"] == 0.0 and ten["n"] == 10  # n stays every input decision of the hour
    assert_rate(ten["flags"], 2, 10)
    assert {r["rule"] for r in by_rule["rules"]} == {"harmful_request"}
    window = client.get("/api/guard", params={"since": "2026-11-23T12:00", "until": "2026-11-23T13:00"}).json()
    assert window["summary"]["requests"] == 4 and window["summary"]["decisions"] == 4
    assert window["filters"]["since"] == "2026-11-23T12:00:00Z"
    days = client.get("/api/guard", params={"bucket": "day"}).json()["summary"]["timeline"]["input"]
    assert [(p["bucket"], p["n"]) for p in days] == [("2026-11-23T00:00:00Z", 14)]
    empty = client.get("/api/guard", params={"since": "2025-01-01", "until": "2025-01-02"}).json()
    assert empty["has_decisions"] and empty["summary"] is None
    assert "No guard decision falls in this window" in client.get("/guard", params={"since": "2025-01-01",
                                                                                      "until": "2025-01-02"}).text
    recent = client.get("/guard", params={"last": "7d"}).text
    assert '<option value="7d" selected>' in recent
    assert '<input name="since" size="16" placeholder="2026-11-23" value="">' in recent  # resubmitting stays valid


@pytest.mark.parametrize("params, says", [
    ({"bucket": "fortnight"}, "bucket='fortnight': use hour, day or week"),
    ({"since": "yesterday"}, "since='yesterday' is not a date or time"),
    ({"since": "2026-11-24", "until": "2026-11-23"}, "must come before until"),
    ({"last": "7w"}, "last='7w': use a number of hours or days"),
    ({"last": "7d", "since": "2026-11-01"}, "give either last or since/until"),
    ({"rule": "no_such_rule"}, "no guard decision names it; known rules: harmful_output, harmful_request, persona_jailbreak"),
    ({"rule": "x\x07"}, "rule must be a rule name"),
])
def test_bad_query_input_is_a_400_with_one_line(client, params, says):
    api = client.get("/api/guard", params=params)
    assert api.status_code == 400 and says in api.json()["error"] and "\n" not in api.json()["error"]
    page = client.get("/guard", params=params)
    assert page.status_code == 400 and "<h1>Bad request</h1>" in page.text


def test_too_many_points_for_the_chart_is_a_400_naming_the_fix(store, client):
    write(store, [decision(TEN + timedelta(days=100), "input", "harmful_request", "pass", 0.1)])
    assert client.get("/api/guard").json()["summary"]["bucket"] == "day"  # chosen from the span: 101 points
    api = client.get("/api/guard", params={"bucket": "hour"})
    assert api.status_code == 400
    assert api.json()["error"] == ("bucket=hour over this window gives 2,401 points (at most 2,000); "
                                   "choose a longer bucket or a shorter window")


def test_last_window_counts_whole_hours_back_from_now():
    now = datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)
    assert parse_filters(last="24h", now=now).since == datetime(2026, 11, 22, 11, tzinfo=timezone.utc)
    assert parse_filters(last="1d", now=now).since == parse_filters(last="24h", now=now).since
    assert parse_filters(since="2026-11-23T10:30+02:00").since == datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    assert parse_filters(until="2026-11-23T10:30").until == datetime(2026, 11, 23, 11, tzinfo=timezone.utc)
    assert parse_filters(rule="", since="", until="", last="", bucket="").since is None  # an untouched form
    with pytest.raises(BadQuery):
        parse_filters(last="0h")


def test_empty_store_says_how_to_populate_it(tmp_path):
    client = hub_client(create_app(f"sqlite:///{tmp_path / 'empty.db'}"))
    data = client.get("/api/guard").json()
    assert data["has_decisions"] is False and data["summary"] is None and data["samples"] == []
    page = client.get("/guard")
    assert page.status_code == 200 and "No guard decisions yet" in page.text
    assert "safehub guard serve --config guard.yaml --db" in page.text


def test_no_key_material_reaches_the_page_even_with_text_logged(make_mock_server, tmp_path):
    key = "sk-guard-page-secret-4242"
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    mock = make_mock_server("--reply", "Lyon is in France.")
    config = guard_config(mock.spec(), clients=[{"name": "team-a", "key_hash": hash_key(key)}],
                          audit={"enabled": True, "log_text": True, "flush_interval_s": 0.05})
    with running_guard(config, db=db_url, screens=keyword_screens()) as guard:
        sdk = openai.OpenAI(base_url=guard.base_url, api_key=key, max_retries=0)
        sdk.chat.completions.create(model="guarded", messages=[{"role": "user", "content": "where is Lyon?"}])
        sdk.chat.completions.create(model="guarded", messages=[{"role": "system", "content": JAILBREAK},
                                                               {"role": "user", "content": "hello"}])
    client = hub_client(create_app(db_url))
    page, api = client.get("/guard").text, client.get("/api/guard").text
    assert json.loads(api)["summary"]["requests"] == 2 and "team-a" in page
    secret_hash = hash_key(key)
    for text in (page, api):
        assert key not in text and secret_hash not in text and secret_hash.split(":", 1)[-1] not in text
        assert "hello" in text  # the text the guard logged is there; the key it was sent with is not


def test_export_writes_guard_page_and_json_with_relative_links_and_no_message_text(store, tmp_path):
    out = tmp_path / "site"
    export_hub(connect(store), out)
    guard_page = (out / "guard.html").read_text()
    assert 'href="guard.html"' in (out / "index.html").read_text()
    assert guard_page.count('class="chart timeline"') == 2
    for page in (out / "index.html", out / "guard.html"):
        for link in re.findall(r'href="([^"#?]+)', page.read_text()):
            assert not link.startswith("/") and (page.parent / link).resolve().exists(), (page, link)
    exported = json.loads((out / "api/guard.json").read_text())
    assert exported["summary"]["decisions"] == len(decisions())
    for text in (guard_page, json.dumps(exported)):
        assert "guard-xss" not in text  # message text is never exported
    assert "<form" not in guard_page and "?rule=" not in guard_page  # no filters in a static copy


HOSTILE_LABELS = "<script>alert('card-xss')</script>.jsonl"


def measure_by_hand(url: str) -> None:
    """Two measurements of harmful_request, as `safehub guard measure` stores them; the newer one named with markup."""
    engine = connect(url)
    for name, (tp, fn, fp, tn) in (("older.jsonl", (1, 1, 0, 2)), (HOSTILE_LABELS, (9, 1, 2, 38))):
        add_guard_measurements(engine, [{"rule": "harmful_request", "stage": "input", "screen_version": "v-older",
                                         "threshold": 0.7, "action": "block", "labelled_set": name,
                                         "labelled_set_sha256": "ab" * 32, "tp": tp, "fn": fn, "fp": fp, "tn": tn}])
    engine.dispose()


def test_guard_card_shows_every_screen_at_its_default_threshold_with_card_sets_and_measurements(store):
    measure_by_hand(store)
    client = hub_client(create_app(store, guard_cards=CARDS))
    card = {entry["rule"]: entry for entry in client.get("/api/guard").json()["card"]}
    assert set(card) == set(SCREENS)
    entry = card["harmful_request"]
    threshold = SCREENS["harmful_request"].threshold
    assert entry["threshold"] == threshold and entry["card"]["file"] == "harmful_request.card.json"
    held_out = FIXTURE["sets"][0]["scores"]
    assert_rate(entry["sets"][0]["recall"], sum(s >= threshold for s in held_out["block"]), len(held_out["block"]))
    assert_rate(entry["sets"][0]["false_positive_rate"], sum(s >= threshold for s in held_out["pass"]),
                len(held_out["pass"]))
    assert [m["labelled_set"] for m in entry["measurements"]] == [HOSTILE_LABELS, "older.jsonl"]  # newest first
    assert_rate(entry["measurements"][0]["recall"], 9, 10)
    assert_rate(entry["measurements"][0]["false_positive_rate"], 2, 40)
    assert entry["measurements"][0]["is_current"] is False and entry["measurements"][0]["threshold"] == 0.7
    assert not any(card[rule]["is_measured"] for rule in SCREENS if rule != "harmful_request")

    page = client.get("/guard").text
    assert "Guard card" in page and "this hub does not know which" in page and "at its default threshold" in page
    assert page.count("Not measured:") == len(SCREENS) - 1
    low, high = wilson_interval(9, 10)
    assert f"0.900 <span class=\"interval\">[{low:.3f}, {high:.3f}] n=10</span>" in page
    assert "fixture-requests" in page and "test fixture &lt;b&gt;seen&lt;/b&gt;" in page
    assert "<script>alert('card-xss')" not in page and "&lt;script&gt;alert(" in page
    assert "v-older (older)" in page


def test_export_carries_the_guard_card_on_the_page_and_in_its_json(store, tmp_path):
    measure_by_hand(store)
    out = tmp_path / "site"
    export_hub(connect(store), out, guard_cards=CARDS)
    page = (out / "guard.html").read_text()
    assert "Guard card" in page and "fixture-requests" in page and "older.jsonl" in page
    assert "<script>alert('card-xss')" not in page
    card = {entry["rule"]: entry for entry in json.loads((out / "api/guard.json").read_text())["card"]}
    assert card["harmful_request"]["sets"][0]["set"] == "fixture-requests"
    assert len(card["harmful_request"]["measurements"]) == 2 and not card["known_attack"]["is_measured"]


def test_rollup_reads_only_new_decisions_and_starts_over_when_rows_disappear(store):
    engine = connect(store)
    rollup = DecisionRollup(engine).refresh()
    first = rollup.absorbed
    later = TEN + timedelta(hours=30)
    write(store, [decision(later, "input", "persona_jailbreak", "block", 0.99)] * 3)
    assert rollup.refresh().absorbed == first + 3
    assert guard_summary(rollup)["decisions"] == first + 3 and guard_summary(rollup)["bucket"] == "hour"
    with engine.begin() as connection:
        connection.execute(delete(guard_decisions).where(guard_decisions.c.created_at < TEN + timedelta(hours=1)))
    assert guard_summary(rollup.refresh())["decisions"] == 4 + 3
    fresh = DecisionRollup(engine).refresh()
    assert fresh.tallies == rollup.tallies
    engine.dispose()


def test_latency_percentiles_from_the_histogram_sit_within_a_bin_of_the_exact_ones():
    rng = random.Random(5)
    latencies = [rng.lognormvariate(5, 0.7) for _ in range(5000)]
    histogram = np.zeros(len(LATENCY_BINS), dtype=np.int64)
    for value in latencies:
        histogram[int(np.floor(np.log(value) / np.log(LATENCY_BIN_RATIO))) - LATENCY_BINS[0]] += 1
    for q in (0.5, 0.95):
        exact = float(np.sort(latencies)[quantile_ranks(len(latencies), q)[0] - 1])
        shown = latency_quantile(histogram, q)
        assert shown["value"] == pytest.approx(exact, rel=LATENCY_BIN_RATIO - 1) and shown["n"] == 5000
        assert shown["low"] <= exact <= shown["high"]
    assert quantile_ranks(100, 0.5) == (50, 41, 60)
