"""Streams: upstreams that do not stream, answers cut by size, upstreams that break mid-stream."""

from __future__ import annotations

import openai
import pytest

from safehub.guard.server import running_guard
from tests.guard.doubles import EDGY_ANSWER, HARMFUL_ANSWER, guard_config, keyword_screens

USER = [{"role": "user", "content": "Tell me a story."}]


def scripted(tmp_path, reply: str) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules: []\ndefault: {reply!r}\n")
    return f"scripted:{path}"


def streamed(guard, **options) -> tuple[str, list]:
    client = openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0)
    chunks = list(client.chat.completions.create(model="guarded", messages=USER, stream=True, **options))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def test_an_adapter_that_does_not_stream_is_streamed_in_pieces(tmp_path):
    story = "Once upon a time there was a lighthouse keeper who counted waves. " * 6
    with running_guard(guard_config(scripted(tmp_path, story.strip())), screens=keyword_screens()) as guard:
        text, chunks = streamed(guard, stream_options={"include_usage": True})
    assert text == story.strip()
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.completion_tokens == len(story.split())


def test_a_harmful_answer_from_a_non_streaming_adapter_is_cut_too(tmp_path):
    reply = "Some harmless opening words for the reader. " * 3 + HARMFUL_ANSWER
    config = guard_config(scripted(tmp_path, reply), stream_screening={"check_every_chars": 30})
    with running_guard(config, screens=keyword_screens()) as guard:
        text, chunks = streamed(guard)
    assert "HARMFUL" not in text and text.endswith("I'm sorry, but I can't help with that request.")
    assert chunks[-1].choices[0].finish_reason == "content_filter"


def test_long_answers_are_cut_at_the_response_limit_with_finish_reason_length(make_mock_server):
    mock = make_mock_server("--reply", "word " * 400)
    with running_guard(guard_config(mock.spec(), limits={"max_response_chars": 100}), screens=keyword_screens()) as guard:
        client = openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0)
        completion = client.chat.completions.create(model="guarded", messages=USER)
        text, chunks = streamed(guard)
    assert len(completion.choices[0].message.content) == 100
    assert completion.choices[0].finish_reason == "length"
    assert len(text) == 100
    assert chunks[-1].choices[0].finish_reason == "length"


def test_an_upstream_breaking_mid_stream_ends_the_stream_with_an_error_the_sdk_raises(make_mock_server):
    mock = make_mock_server()
    with running_guard(guard_config(mock.spec()), screens=keyword_screens()) as guard:
        client = openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0)
        with pytest.raises(openai.APIError, match="ended early"):
            list(client.chat.completions.create(model="guarded", stream=True,
                                                messages=[{"role": "user", "content": "hi [fail:truncated]"}]))


def test_a_stream_whose_upstream_fails_before_answering_fails_over(make_mock_server, tmp_path):
    primary = make_mock_server()
    with running_guard(guard_config(primary.spec(), scripted(tmp_path, "backup story")), screens=keyword_screens()) as guard:
        client = openai.OpenAI(base_url=guard.base_url, api_key="unused", max_retries=0)
        chunks = list(client.chat.completions.create(model="guarded", stream=True,
                                                     messages=[{"role": "user", "content": "hi [fail:500]"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "backup story"
    assert primary.stats()["served"] == {"500": 1}


def test_a_flagged_streamed_answer_says_so_in_its_last_chunk(make_mock_server):
    mock = make_mock_server("--reply", f"Here you go: {EDGY_ANSWER}")
    with running_guard(guard_config(mock.spec()), screens=keyword_screens()) as guard:
        text, chunks = streamed(guard)
    assert text == f"Here you go: {EDGY_ANSWER}"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["safehub"] == {"stage": "output", "rule": "edgy_output", "score": 0.95, "action": "flag"}
