"""Failover across upstreams, circuit breakers and the weighted split, over real loopback servers."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import openai
import pytest

from safehub.guard.server import running_guard
from safehub.guard.upstreams import CircuitBreaker
from tests.guard.doubles import get_json, get_text, guard_config, keyword_screens


def scripted(tmp_path, reply: str = "answer from the backup", name: str = "backup.yaml", **rule) -> str:
    """A scripted upstream; `rule` (e.g. match=..., delay_ms=...) adds one rule before the default."""
    lines = ["rules:"]
    if rule:
        lines.append(f"  - match: {rule.pop('match')!r}")
        lines += [f"    {key}: {value!r}" for key, value in rule.items()]
    else:
        lines[0] = "rules: []"
    lines.append(f"default: {reply!r}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return f"scripted:{path}"


def ask(guard, content: str) -> httpx.Response:
    return httpx.post(f"{guard.base_url}/chat/completions", timeout=20,
                      json={"model": "guarded", "messages": [{"role": "user", "content": content}]})


@pytest.mark.parametrize("fault", ["500", "429"])
def test_failover_to_the_second_upstream_on_server_errors_and_rate_limits(make_mock_server, tmp_path, fault):
    primary = make_mock_server("--retry-after-s", "0")
    with running_guard(guard_config(primary.spec(), scripted(tmp_path)), screens=keyword_screens()) as guard:
        response = ask(guard, f"hello [fail:{fault}]")
        metrics = get_text(f"{guard.root}/metrics")
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "answer from the backup"
    assert primary.stats()["served"] == {fault: 1}
    kind = "server" if fault == "500" else "rate_limit"
    assert f'safehub_guard_failovers_total{{upstream="{primary.spec()}",kind="{kind}"}} 1' in metrics


def test_failover_on_timeout(make_mock_server, tmp_path):
    primary = make_mock_server("--hang-s", "3")
    config = guard_config(primary.spec(), scripted(tmp_path))
    config.upstreams[0].timeout_s = 0.3
    with running_guard(config, screens=keyword_screens()) as guard:
        started = time.monotonic()
        response = ask(guard, "hello [fail:hang]")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "answer from the backup"
    assert elapsed < 2.0


def test_a_rate_limited_upstream_is_skipped_until_its_retry_after_passes(make_mock_server, tmp_path):
    primary = make_mock_server("--retry-after-s", "30")
    with running_guard(guard_config(primary.spec(), scripted(tmp_path)), screens=keyword_screens()) as guard:
        assert ask(guard, "hi [fail:429]").status_code == 200
        assert ask(guard, "hi again").json()["choices"][0]["message"]["content"] == "answer from the backup"
    assert primary.stats()["served"] == {"429": 1}  # the second request was not sent into the pause


def test_only_rate_limits_from_every_upstream_give_429_with_retry_after(make_mock_server):
    primary = make_mock_server("--retry-after-s", "7")
    with running_guard(guard_config(primary.spec()), screens=keyword_screens()) as guard:
        response = ask(guard, "hi [fail:429]")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "upstream_rate_limited"


def test_an_upstream_refusing_the_guards_key_fails_over_too(make_mock_server, tmp_path):
    primary = make_mock_server()
    with running_guard(guard_config(primary.spec(), scripted(tmp_path)), screens=keyword_screens()) as guard:
        response = ask(guard, "hi [fail:auth]")
    assert response.json()["choices"][0]["message"]["content"] == "answer from the backup"
    assert primary.stats()["served"] == {"auth": 1}


def test_circuit_opens_after_consecutive_failures_and_recovers_after_the_cooldown(make_mock_server, tmp_path):
    primary = make_mock_server()
    config = guard_config(primary.spec(), scripted(tmp_path), breaker={"failures": 2, "cooldown_s": 0.5})
    with running_guard(config, screens=keyword_screens()) as guard:
        for _ in range(2):
            assert ask(guard, "hi [fail:500]").status_code == 200  # answered by the backup
        assert get_json(f"{guard.root}/healthz")["upstreams"][primary.spec()] == "open"
        assert f'safehub_guard_circuit_state{{upstream="{primary.spec()}"}} 2' in get_text(f"{guard.root}/metrics")
        assert ask(guard, "hi [fail:500]").status_code == 200
        assert primary.stats()["served"] == {"500": 2}  # the open circuit kept the third request away
        time.sleep(0.6)
        response = ask(guard, "after the cooldown")  # the half-open probe succeeds and closes the circuit
        assert response.json()["choices"][0]["message"]["content"] == "I can't help with that."
        assert get_json(f"{guard.root}/healthz")["upstreams"][primary.spec()] == "closed"
    assert primary.stats()["served"] == {"500": 2, "ok": 1}


def test_all_circuits_open_answers_502_without_calling_anyone(make_mock_server):
    primary = make_mock_server()
    config = guard_config(primary.spec(), breaker={"failures": 1, "cooldown_s": 60})
    with running_guard(config, screens=keyword_screens()) as guard:
        assert ask(guard, "hi [fail:500]").status_code == 502
        response = ask(guard, "hi")
    assert response.status_code == 502
    assert "circuit open" in response.json()["error"]["message"]
    assert primary.stats()["served"] == {"500": 1}


def test_weighted_split_sends_first_tries_by_weight(tmp_path):
    config = guard_config(scripted(tmp_path, "from a", "a.yaml"), scripted(tmp_path, "from b", "b.yaml"),
                          routing={"strategy": "weighted"})
    config.upstreams[0].weight, config.upstreams[1].weight = 3.0, 1.0
    with running_guard(config, screens=keyword_screens()) as guard:
        client = openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0)
        answers = Counter(client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": "hi"}])
                          .choices[0].message.content for _ in range(200))
    assert set(answers) == {"from a", "from b"}
    assert 0.6 < answers["from a"] / 200 < 0.9


def test_breaker_state_machine():
    breaker = CircuitBreaker(failures=3, cooldown_s=0.05)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    time.sleep(0.06)
    assert breaker.allow() and breaker.state == "half_open"
    assert not breaker.allow()  # one probe at a time
    breaker.record_failure()
    assert breaker.state == "open"  # a failed probe reopens at once
    time.sleep(0.06)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0
