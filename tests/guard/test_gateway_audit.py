"""Every guard decision reaches the store in batches, without keys, and without text unless asked for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import openai
import pytest
from sqlalchemy import insert, select

from safehub.guard.keys import hash_key
from safehub.guard.server import running_guard
from safehub.stats import wilson_interval
from safehub.store.db import connect
from safehub.store.guard import decision_rates, recent_decisions
from safehub.store.schema import guard_decisions
from tests.guard.doubles import HARMFUL_ANSWER, JAILBREAK, guard_config, keyword_screens

KEY = "sk-guard-very-secret-key"
MARKER = "my private question about Lyon MARKER-7731"


def audited_config(mock, **audit):
    return guard_config(mock.spec(), clients=[{"name": "team-a", "key_hash": hash_key(KEY)}],
                        audit={"enabled": True, "flush_interval_s": 0.05, **audit})


def rows(db_url: str) -> list[dict]:
    engine = connect(db_url)
    try:
        with engine.connect() as connection:
            return [row._asdict() for row in connection.execute(select(guard_decisions).order_by(guard_decisions.c.id))]
    finally:
        engine.dispose()


def send_three(guard) -> None:
    client = openai.OpenAI(base_url=guard.base_url, api_key=KEY, max_retries=0)
    client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": MARKER}])
    client.chat.completions.create(model="guarded", messages=[{"role": "system", "content": JAILBREAK},
                                                              {"role": "user", "content": MARKER}])
    list(client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": MARKER}], stream=True))


def test_audit_rows_name_the_client_and_carry_no_key_and_no_text(make_mock_server, db_url):
    mock = make_mock_server("--reply", "Lyon is in France, REPLY-MARKER.")
    with running_guard(audited_config(mock), db=db_url, screens=keyword_screens()) as guard:
        send_three(guard)
    stored = rows(db_url)
    # plain: input + output; blocked: input only; stream: input + output
    assert [(r["stage"], r["action"]) for r in stored] == [
        ("input", "pass"), ("output", "pass"), ("input", "block"), ("input", "pass"), ("output", "pass")]
    assert {r["client"] for r in stored} == {"team-a"}
    blocked = stored[2]
    assert blocked["rule"] == "persona_jailbreak" and blocked["score"] == pytest.approx(0.97)
    assert blocked["upstream"] is None
    assert stored[0]["upstream"] == mock.spec() and stored[0]["latency_ms"] > 0
    assert stored[0]["details"]["status"] == 200 and stored[0]["details"]["attempts"] == 1
    assert stored[0]["details"]["request_id"] == stored[1]["details"]["request_id"]
    everything = json.dumps(stored, default=str)
    for secret_or_text in (KEY, hash_key(KEY), "MARKER-7731", "REPLY-MARKER", "Lyon"):
        assert secret_or_text not in everything


def test_audit_keeps_text_when_log_text_is_on(make_mock_server, db_url):
    mock = make_mock_server("--reply", "Lyon is in France, REPLY-MARKER.")
    with running_guard(audited_config(mock, log_text=True), db=db_url, screens=keyword_screens()) as guard:
        send_three(guard)
    stored = rows(db_url)
    assert stored[0]["details"]["messages"] == [{"role": "user", "content": MARKER}]
    assert stored[1]["details"]["text"] == "Lyon is in France, REPLY-MARKER."
    assert stored[4]["details"]["text"] == "Lyon is in France, REPLY-MARKER."  # the streamed answer, reassembled
    assert KEY not in json.dumps(stored, default=str)


def test_audit_is_written_in_batches_off_the_request_path(make_mock_server, db_url):
    mock = make_mock_server()
    config = audited_config(mock, flush_interval_s=60)  # nothing is written while requests are served
    with running_guard(config, db=db_url, screens=keyword_screens()) as guard:
        client = openai.OpenAI(base_url=guard.base_url, api_key=KEY, max_retries=0)
        for _ in range(20):
            client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": "hi"}])
        assert rows(db_url) == []
        assert guard.gateway.audit.counts["written"] == 0
    assert len(rows(db_url)) == 40  # flushed on shutdown, in one transaction


def test_output_block_is_audited_with_its_rule(make_mock_server, db_url):
    mock = make_mock_server("--reply", f"Sure: {HARMFUL_ANSWER}")
    with running_guard(audited_config(mock), db=db_url, screens=keyword_screens()) as guard:
        openai.OpenAI(base_url=guard.base_url, api_key=KEY, max_retries=0).chat.completions.create(
            model="guarded", messages=[{"role": "user", "content": "hi"}])
    output = rows(db_url)[1]
    assert (output["stage"], output["rule"], output["action"]) == ("output", "harmful_output", "block")


def _decision(when: datetime, stage: str, rule: str, action: str) -> dict:
    return {"created_at": when, "client": "c", "stage": stage, "rule": rule, "score": 0.9 if action != "pass" else 0.1,
            "action": action, "upstream": None, "latency_ms": 1.0, "details": {}}


def test_decision_rates_by_hour_and_day_carry_n_and_wilson_intervals(db_url):
    engine = connect(db_url)
    ten = datetime(2026, 11, 23, 10, 5, tzinfo=timezone.utc)
    eleven = ten + timedelta(hours=1)
    decisions = ([_decision(ten, "input", "persona_jailbreak", "block")] * 3
                 + [_decision(ten, "input", "harmful_request", "flag")] * 2
                 + [_decision(ten, "input", "persona_jailbreak", "pass")] * 5
                 + [_decision(eleven, "input", "persona_jailbreak", "pass")] * 4
                 + [_decision(eleven, "output", "harmful_output", "block")])
    with engine.begin() as connection:
        connection.execute(insert(guard_decisions), decisions)
    hourly = decision_rates(engine, bucket="hour", stage="input")
    assert [(b["bucket"], b["n"]) for b in hourly] == [("2026-11-23T10:00:00Z", 10), ("2026-11-23T11:00:00Z", 4)]
    first = hourly[0]
    jailbreak = next(r for r in first["rules"] if r["rule"] == "persona_jailbreak")
    assert jailbreak["blocks"]["value"] == pytest.approx(0.3) and jailbreak["blocks"]["n"] == 10
    assert (jailbreak["blocks"]["low"], jailbreak["blocks"]["high"]) == pytest.approx(wilson_interval(3, 10))
    assert first["all"]["flags"]["value"] == pytest.approx(0.2)
    assert hourly[1]["rules"] == [] and hourly[1]["all"]["blocks"]["value"] == 0.0
    daily = decision_rates(engine, bucket="day")
    assert [(b["bucket"], b["stage"], b["n"]) for b in daily] == [("2026-11-23T00:00:00Z", "input", 14),
                                                                    ("2026-11-23T00:00:00Z", "output", 1)]
    overall = decision_rates(engine, bucket=None, stage="input", since=eleven - timedelta(minutes=1))
    assert [b["n"] for b in overall] == [4]
    assert [r["action"] for r in recent_decisions(engine, limit=2)] == ["block", "pass"]
    engine.dispose()
