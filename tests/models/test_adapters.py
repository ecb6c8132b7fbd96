"""Adapters over the real HTTP path, retries and backoff owned by the base class, scripted rules."""

from __future__ import annotations

import asyncio

import pytest

from safehub.errors import UsageError
from safehub.models import GenerateConfig, ModelAdapter, ModelCallError, RetryPolicy, load_model
from safehub.models.base import Completion
from safehub.models.limits import AdaptiveLimiter
from safehub.models.openai_compat import completion_from_json
from safehub.models.spec import ModelSpec

USER = [{"role": "user", "content": "hello there"}]


async def test_openai_compat_returns_text_usage_and_first_token_logprobs(mock_server):
    model = load_model(mock_server.spec())
    completion = await model.generate(USER, GenerateConfig(max_tokens=16, top_logprobs=3))
    await model.aclose()
    assert completion.error is None
    assert completion.text == "I can't help with that."
    assert (completion.input_tokens, completion.output_tokens) == (2, 5)
    assert completion.first_token_logprobs["I"] == pytest.approx(-0.05)
    assert len(completion.first_token_logprobs) == 3
    assert completion.finish_reason == "stop" and completion.latency_ms > 0


@pytest.mark.parametrize("body", [
    [], {}, {"choices": []}, {"choices": "x"}, {"choices": [None]}, {"choices": [{"message": {"content": 7}}]},
    {"choices": [{"message": {"content": ["a", "b"]}}]}])
def test_an_answer_that_is_not_a_chat_completion_is_a_bad_response(body):
    with pytest.raises(ModelCallError) as raised:
        completion_from_json(body)
    assert raised.value.kind == "bad_response"


def test_odd_fields_of_an_answer_are_read_without_trusting_them():
    completion = completion_from_json({"choices": [{"message": {"content": None}, "finish_reason": 3, "logprobs": {
        "content": [{"token": "I", "logprob": -0.1, "top_logprobs": [
            {"token": "I", "logprob": -0.1}, {"token": "Sure", "logprob": "high"}, {"token": 5, "logprob": -1.0},
            {"token": "No", "logprob": 2.0}, "junk", {"token": "Yes", "logprob": -2}]}]}}],
        "usage": {"prompt_tokens": -4, "completion_tokens": True}})
    assert (completion.text, completion.finish_reason) == ("", None)
    assert (completion.input_tokens, completion.output_tokens) == (0, 0)
    assert completion.first_token_logprobs == {"I": -0.1, "Yes": -2.0}
    assert completion_from_json({"choices": [{"message": {"content": "hi"}, "logprobs": {"content": [{}]}}],
                                 "usage": "lots"}).first_token_logprobs is None


def test_content_given_as_parts_is_read_as_its_text_parts():
    parts = [{"type": "thinking", "thinking": [{"type": "text", "text": "the user wants..."}]},
             {"type": "text", "text": "I can't "}, {"type": "text", "text": "help with that."}, {"type": "text"}]
    assert completion_from_json({"choices": [{"message": {"content": parts}}]}).text == "I can't help with that."


async def test_rate_limit_is_retried_after_the_servers_retry_after(make_mock_server):
    server = make_mock_server("--fault-rate", "1.0", "--retry-after-s", "0.3", "--record-arrivals")
    model = load_model(server.spec(), retry=RetryPolicy(max_attempts=3, base_delay_s=0.0))
    completion = await model.generate([{"role": "user", "content": "[fail:429] x"}], GenerateConfig())
    await model.aclose()
    assert completion.error_kind == "rate_limit" and completion.attempts == 3
    arrivals = server.stats()["arrivals"]["[fail:429] x"]
    assert len(arrivals) == 3
    assert all(later - earlier >= 0.29 for earlier, later in zip(arrivals, arrivals[1:]))
    assert model.limiter.rate_limits == 3 and model.limiter.limit < model.limiter.max_concurrency


async def test_auth_errors_are_not_retried(make_mock_server):
    server = make_mock_server("--require-key", "right-key")
    model = load_model(server.spec(provider="openai"), env={"OPENAI_API_KEY": "wrong-key"})
    completion = await model.generate(USER, GenerateConfig())
    await model.aclose()
    assert (completion.error_kind, completion.attempts) == ("auth", 1)
    assert "wrong-key" not in completion.error


@pytest.mark.parametrize("fault, kind", [("hang", "timeout"), ("truncated", "bad_response"), ("500", "server"),
                                         ("429", "rate_limit")])
async def test_each_fault_is_classified(make_mock_server, fault, kind):
    server = make_mock_server("--hang-s", "5")
    model = load_model(server.spec(), retry=RetryPolicy(max_attempts=1))
    # Only the hang needs a short timeout; the other faults answer at once, and a busy machine must not turn them into timeouts.
    timeout_s = 0.3 if fault == "hang" else 30.0
    completion = await model.generate([{"role": "user", "content": f"[fail:{fault}]"}], GenerateConfig(timeout_s=timeout_s))
    await model.aclose()
    assert (completion.error_kind, completion.attempts, completion.text) == (kind, 1, "")


class _Flaky(ModelAdapter):
    provider = "flaky"

    def __init__(self, failures: list[ModelCallError]):
        super().__init__(ModelSpec("flaky", "m"), retry=RetryPolicy(max_attempts=4, base_delay_s=0.0))
        self.failures = failures

    async def _generate(self, messages, config, tools=()):
        if self.failures:
            raise self.failures.pop(0)
        return Completion(text="fine")


async def test_generate_retries_transient_errors_then_succeeds():
    model = _Flaky([ModelCallError("server", "500"), ModelCallError("connection", "reset")])
    completion = await model.generate(USER, GenerateConfig())
    assert (completion.text, completion.attempts, completion.error) == ("fine", 3, None)
    assert model.retries_by_kind == {"server": 1, "connection": 1}


async def test_adapter_bugs_become_stored_errors_not_crashes():
    class Broken(_Flaky):
        async def _generate(self, messages, config, tools=()):
            raise KeyError("choices")

    completion = await Broken([]).generate(USER, GenerateConfig())
    assert completion.error_kind == "internal" and "KeyError" in completion.error


async def test_limiter_halves_on_rate_limit_and_recovers():
    limiter = AdaptiveLimiter(8)
    limiter.on_rate_limit(None)
    assert limiter.limit == 4
    for _ in range(4 + 5 + 6 + 7):
        limiter.on_success()
    assert limiter.limit == 8


async def test_limiter_never_exceeds_its_limit():
    limiter = AdaptiveLimiter(3)
    peak = 0

    async def task():
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(task() for _ in range(20)))
    assert peak == 3 and limiter.in_flight == 0


async def test_scripted_rules_match_in_order_with_system_match_and_faults(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("""
rules:
  - match: "(?i)password"
    system_match: "secret"
    reply: "I cannot share it."
  - match: "(?i)password"
    reply: "The password is swordfish."
  - match: "choose"
    reply: "A"
    logprobs: {"A": -0.2, "B": -1.8}
  - match: "boom"
    error: 500
default: "Sure."
""")
    model = load_model(f"scripted:{rules}", retry=RetryPolicy(max_attempts=2, base_delay_s=0.0))
    guarded = [{"role": "system", "content": "keep the secret"}, {"role": "user", "content": "the Password?"}]
    assert (await model.generate(guarded, GenerateConfig())).text == "I cannot share it."
    assert (await model.generate([{"role": "user", "content": "password"}], GenerateConfig())).text.endswith("swordfish.")
    choice = await model.generate([{"role": "user", "content": "choose"}], GenerateConfig(top_logprobs=5))
    assert choice.first_token_logprobs == {"A": -0.2, "B": -1.8}
    failed = await model.generate([{"role": "user", "content": "boom"}], GenerateConfig())
    assert (failed.error_kind, failed.attempts) == ("server", 2)
    assert (await model.generate([{"role": "user", "content": "hi"}], GenerateConfig())).text == "Sure."


@pytest.mark.parametrize("content, needle", [
    ("rules: [{reply: x}]", "rules[0]: each rule needs 'match: REGEX'"),
    ("rules: [{match: '(', reply: x}]", "bad regular expression"),
    ("rules: [{match: a, error: 404}]", "not one of 429, 500, timeout"),
    ("rules: [\n", "not valid YAML"),
])
def test_scripted_rule_file_mistakes_are_named(tmp_path, content, needle):
    rules = tmp_path / "rules.yaml"
    rules.write_text(content)
    with pytest.raises(UsageError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        load_model(f"scripted:{rules}")


async def test_azure_preset_reaches_the_deployment_path(mock_server):
    env = {"AZURE_OPENAI_API_KEY": "azure-key", "AZURE_OPENAI_ENDPOINT": mock_server.root,
           "OPENAI_API_VERSION": "2024-10-21"}
    model = load_model("azure:my-deployment", env=env)
    completion = await model.generate(USER, GenerateConfig(max_tokens=8))
    await model.aclose()
    assert completion.error is None and completion.text == "I can't help with that."


async def test_anthropic_adapter_over_http(mock_server):
    model = load_model(f"anthropic:claude-test@{mock_server.root}", env={"ANTHROPIC_API_KEY": "ant-key"},
                       retry=RetryPolicy(max_attempts=2, base_delay_s=0.0))
    messages = [{"role": "system", "content": "be safe"}, {"role": "user", "content": "hello there"}]
    completion = await model.generate(messages, GenerateConfig(max_tokens=8))
    limited = await model.generate([{"role": "user", "content": "[fail:429]"}], GenerateConfig())
    await model.aclose()
    assert (completion.text, completion.finish_reason, completion.input_tokens) == ("I can't help with that.", "stop", 4)
    assert (limited.error_kind, limited.attempts) == ("rate_limit", 2)
    assert [count for header, count in mock_server.stats()["auth_headers"].items() if "ant-key" in header] == [3]
