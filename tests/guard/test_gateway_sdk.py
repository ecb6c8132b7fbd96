"""The official `openai` SDK, unchanged, against the guard in front of the loopback mock.

Screens are the keyword doubles from tests/guard/doubles.py, so each test knows which text trips which rule.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from safehub.guard.server import running_guard
from tests.guard.doubles import (
    EDGY_ANSWER,
    HARMFUL_ANSWER,
    JAILBREAK,
    SUSPICIOUS,
    get_json,
    get_text,
    guard_config,
    keyword_screens,
)

USER = [{"role": "user", "content": "What is the capital of France?"}]


def sdk(guard, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0, **options)


@pytest.fixture
def guarded(make_mock_server):
    """A guard in front of one mock that answers 'Paris is the capital of France.'."""
    mock = make_mock_server("--reply", "Paris is the capital of France.")
    with running_guard(guard_config(mock.spec()), screens=keyword_screens()) as guard:
        guard.mock = mock
        yield guard


def test_plain_chat_through_the_sdk_returns_the_upstream_answer(guarded):
    completion = sdk(guarded).chat.completions.create(model="guarded", messages=USER, max_tokens=32)
    assert completion.object == "chat.completion"
    assert completion.model == "guarded"
    assert completion.choices[0].message.content == "Paris is the capital of France."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 6
    assert completion.id.startswith("chatcmpl-")


def test_streaming_through_the_sdk_yields_the_whole_answer_and_a_finish(guarded):
    chunks = list(sdk(guarded).chat.completions.create(model="guarded", messages=USER, stream=True,
                                                       stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital of France."
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    assert all(c.object == "chat.completion.chunk" and c.model == "guarded" for c in chunks)


def test_sse_wire_format_is_openais_and_ends_with_done(guarded):
    with httpx.stream("POST", f"{guarded.base_url}/chat/completions", timeout=10,
                      json={"model": "guarded", "messages": USER, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert {e["id"] for e in events} == {events[0]["id"]}
    assert events[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}


async def test_async_sdk_works_too(guarded):
    client = openai.AsyncOpenAI(base_url=guarded.base_url, api_key="unused", max_retries=0)
    completion = await client.chat.completions.create(model="guarded", messages=USER)
    stream = await client.chat.completions.create(model="guarded", messages=USER, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    await client.close()
    assert completion.choices[0].message.content == text == "Paris is the capital of France."


def test_blocked_request_is_a_200_refusal_with_a_safehub_object_and_never_reaches_the_upstream(guarded):
    messages = [{"role": "system", "content": JAILBREAK + "; stay in character."}, {"role": "user", "content": "hi"}]
    completion = sdk(guarded).chat.completions.create(model="guarded", messages=messages)
    assert "can't help" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "content_filter"
    assert completion.model_extra["safehub"] == {"stage": "input", "rule": "persona_jailbreak", "score": 0.97,
                                                 "action": "block"}
    assert guarded.mock.stats()["served"] == {}


def test_blocked_stream_is_a_refusal_chunk_and_a_content_filter_finish(guarded):
    messages = [{"role": "user", "content": JAILBREAK}]
    chunks = list(sdk(guarded).chat.completions.create(model="guarded", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "can't help" in text
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert chunks[-1].model_extra["safehub"]["rule"] == "persona_jailbreak"
    assert guarded.mock.stats()["served"] == {}


def test_upstream_error_surfaces_as_the_sdks_internal_server_error_with_502(guarded):
    with pytest.raises(openai.InternalServerError) as raised:
        sdk(guarded).chat.completions.create(model="guarded", messages=[{"role": "user", "content": "hi [fail:500]"}])
    assert raised.value.status_code == 502
    assert raised.value.body["type"] == "server_error"
    assert raised.value.body["code"] == "upstream_unavailable"


def test_malformed_json_is_400_with_an_openai_style_error_body(guarded):
    response = httpx.post(f"{guarded.base_url}/chat/completions", content=b'{"model": "guarded", "messages": [',
                          headers={"content-type": "application/json"}, timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError):
        sdk(guarded).chat.completions.create(model="guarded", messages=[{"role": "wizard", "content": "hi"}])


def test_body_over_the_configured_limit_is_413(make_mock_server):
    mock = make_mock_server()
    config = guard_config(mock.spec(), limits={"max_request_bytes": 4096})
    with running_guard(config, screens=keyword_screens()) as guard:
        big = [{"role": "user", "content": "x" * 5000}]
        response = httpx.post(f"{guard.base_url}/chat/completions", json={"model": "guarded", "messages": big}, timeout=10)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_too_large"
        with pytest.raises(openai.APIStatusError) as raised:
            sdk(guard).chat.completions.create(model="guarded", messages=big)
        assert raised.value.status_code == 413
        assert sdk(guard).chat.completions.create(model="guarded", messages=USER).choices[0].message.content
    assert mock.stats()["served"] == {"ok": 1}


def test_default_request_limit_is_one_mebibyte(guarded):
    big = [{"role": "user", "content": "y" * (1024 * 1024)}]
    response = httpx.post(f"{guarded.base_url}/chat/completions", json={"model": "guarded", "messages": big}, timeout=10)
    assert response.status_code == 413


def test_unknown_model_is_404(guarded):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk(guarded).chat.completions.create(model="no-such-model", messages=USER)
    assert raised.value.body["code"] == "model_not_found"
    assert raised.value.body["param"] == "model"


def test_all_upstreams_down_tries_each_once_then_502(make_mock_server):
    first, second = make_mock_server(), make_mock_server()
    with running_guard(guard_config(first.spec(), second.spec()), screens=keyword_screens()) as guard:
        response = httpx.post(f"{guard.base_url}/chat/completions", timeout=10,
                              json={"model": "guarded", "messages": [{"role": "user", "content": "hi [fail:500]"}]})
        metrics = get_text(f"{guard.root}/metrics")
    assert response.status_code == 502
    assert response.json()["error"]["message"].startswith("no upstream could answer after 2 attempts")
    assert first.stats()["served"] == {"500": 1}
    assert second.stats()["served"] == {"500": 1}
    assert f'safehub_guard_failovers_total{{upstream="{first.spec()}",kind="server"}} 1' in metrics


def test_flag_passes_the_request_on_with_a_header(guarded):
    raw = sdk(guarded).chat.completions.with_raw_response.create(
        model="guarded", messages=[{"role": "user", "content": f"{SUSPICIOUS}: tell me about Paris"}])
    assert raw.headers["x-safehub-flag"] == "harmful_request=0.800"
    assert raw.parse().choices[0].message.content == "Paris is the capital of France."
    assert guarded.mock.stats()["served"] == {"ok": 1}


def test_output_screen_replaces_a_harmful_answer(make_mock_server):
    mock = make_mock_server("--reply", f"Sure. Step 1: buy the kit. {HARMFUL_ANSWER}.")
    with running_guard(guard_config(mock.spec()), screens=keyword_screens()) as guard:
        completion = sdk(guard).chat.completions.create(model="guarded", messages=USER)
    assert "HARMFUL" not in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "content_filter"
    assert completion.model_extra["safehub"] == {"stage": "output", "rule": "harmful_output", "score": 0.95,
                                                 "action": "block"}


def test_flagged_answer_carries_the_header(make_mock_server):
    mock = make_mock_server("--reply", f"Here you go: {EDGY_ANSWER}")
    with running_guard(guard_config(mock.spec()), screens=keyword_screens()) as guard:
        raw = sdk(guard).chat.completions.with_raw_response.create(model="guarded", messages=USER)
    assert raw.headers["x-safehub-flag"] == "edgy_output=0.950"
    assert raw.parse().choices[0].message.content == f"Here you go: {EDGY_ANSWER}"


def test_streaming_output_screen_cuts_a_harmful_answer_with_content_filter(make_mock_server):
    clean = "Here is some general chemistry background that is perfectly fine to share. " * 4
    mock = make_mock_server("--reply", clean + HARMFUL_ANSWER + " and then heat it. " + "More steps follow. " * 20)
    config = guard_config(mock.spec(), stream_screening={"check_every_chars": 40})
    with running_guard(config, screens=keyword_screens()) as guard:
        chunks = list(sdk(guard).chat.completions.create(model="guarded", messages=USER, stream=True))
        metrics = get_text(f"{guard.root}/metrics")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "HARMFUL" not in text and "heat it" not in text and "More steps" not in text
    assert text.startswith("Here is some general chemistry")  # the clean part went out before the cut
    assert text.endswith("I'm sorry, but I can't help with that request.")
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["content_filter"]
    assert chunks[-1].model_extra["safehub"] == {"stage": "output", "rule": "harmful_output", "score": 0.95,
                                                 "action": "block"}
    assert 'safehub_guard_blocks_total{stage="output",rule="harmful_output"} 1' in metrics


def test_metrics_expose_requests_blocks_flags_latency_and_circuit_state(guarded):
    client = sdk(guarded)
    client.chat.completions.create(model="guarded", messages=USER)
    client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": JAILBREAK}])
    client.chat.completions.create(model="guarded", messages=[{"role": "user", "content": SUSPICIOUS}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=USER)
    text = get_text(f"{guarded.root}/metrics")
    spec = guarded.mock.spec()
    assert 'safehub_guard_requests_total{status="200"} 3' in text
    assert 'safehub_guard_requests_total{status="404"} 1' in text
    assert 'safehub_guard_blocks_total{stage="input",rule="persona_jailbreak"} 1' in text
    assert 'safehub_guard_flags_total{stage="input",rule="harmful_request"} 1' in text
    assert f'safehub_guard_upstream_latency_seconds_count{{upstream="{spec}"}} 2' in text
    assert f'safehub_guard_circuit_state{{upstream="{spec}"}} 0' in text
    assert "# TYPE safehub_guard_failovers_total counter" in text
    assert "safehub_guard_overhead_seconds_count 3" in text


def test_models_and_health_endpoints(guarded):
    assert [m.id for m in sdk(guarded).models.list()] == ["guarded"]
    assert sdk(guarded).models.retrieve("guarded").id == "guarded"
    health = get_json(f"{guarded.root}/healthz")
    assert health["status"] == "ok" and list(health["upstreams"].values()) == ["closed"]
    response = httpx.get(f"{guarded.root}/no/such/path", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["type"] == "invalid_request_error"
