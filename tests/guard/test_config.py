"""guard.yaml and the `safehub guard` commands: one-line errors, hashed client keys, per-key rate limits."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import openai
import pytest

from safehub.errors import UsageError
from safehub.guard.config import load_config, parse_config
from safehub.guard.keys import hash_key
from safehub.guard.server import running_guard
from tests.conftest import SAFEHUB, clean_env, count, safehub
from tests.guard.doubles import DEFAULT_RULES, guard_config, keyword_screens

USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("upstreams:\n  - spec: openai-compat:m@http://127.0.0.1:9/v1\n  - spec: foo:bar\n",
     "guard.yaml: upstreams[1].spec: unknown provider 'foo'; known: "),
    ("upstreams:\n  - spec: openai-compat:m@http://127.0.0.1:9/v1\n    timeout: 3\n",
     "guard.yaml: upstreams[0].timeout: unknown key"),
    ("upstreams:\n  - spec: scripted:x.yaml\nrules:\n  persona_jailbreak: {action: drop}\n",
     "guard.yaml: rules.persona_jailbreak.action: Input should be 'block', 'flag' or 'pass'"),
    ("upstreams:\n  - spec: scripted:x.yaml\nclients:\n  - name: team-a\n    key_hash: sk-plain-key\n",
     "guard.yaml: clients[0].key_hash: expected 'sha256:<64 hex>'"),
    # Within the old bound (N*r <= 2**22) but beyond the memory a check may use: accepted, then a 500 on every request.
    ("upstreams:\n  - spec: scripted:x.yaml\nclients:\n  - name: team-a\n    key_hash: \"scrypt:65536:8:1:"
     "c2FsdHNhbHRzYWx0c2FsdA==:aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=\"\n",
     "guard.yaml: clients[0].key_hash: scrypt parameters N=65536 r=8 need more than the 64 MiB"),
    ("models: [a]\n", "guard.yaml: upstreams: required"),
    ("upstreams: [\n", "line 2: not valid YAML"),
])
def test_bad_config_is_one_line_naming_the_key_and_exit_2(tmp_path, yaml_text, expected):
    (tmp_path / "guard.yaml").write_text(yaml_text)
    result = safehub("guard", "serve", "--config", "guard.yaml", "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert expected in lines[0]
    assert not (tmp_path / "safehub.db").exists()  # a bad config opens no store


def test_missing_api_key_of_an_upstream_names_the_spec_and_the_variable(tmp_path):
    (tmp_path / "guard.yaml").write_text("rules: {}\nupstreams:\n  - spec: openai:gpt-4o-mini\n")
    result = safehub("guard", "check", "--config", "guard.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: guard.yaml: upstreams[0].spec: model spec 'openai:gpt-4o-mini' needs an "
                                     "API key: set OPENAI_API_KEY")


def test_unknown_rule_is_named(tmp_path):
    (tmp_path / "rules.yaml").write_text("rules: []\ndefault: hi\n")
    config = guard_config(f"scripted:{tmp_path / 'rules.yaml'}", rules={"no_such_rule": {"action": "block"}})
    with pytest.raises(UsageError, match=r"guard.yaml: rules.no_such_rule: unknown rule; known: edgy_output"):
        with running_guard(config, screens=keyword_screens()):
            pass


def test_scripted_upstream_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "rules.yaml").write_text("rules: []\ndefault: hi\n")
    (tmp_path / "guard.yaml").write_text("upstreams:\n  - spec: scripted:rules.yaml\n")
    config = load_config(tmp_path / "guard.yaml")
    assert config.upstreams[0].spec == f"scripted:{tmp_path / 'rules.yaml'}"
    assert config.models == ["scripted"]
    assert config.limits.max_request_bytes == 1024 * 1024 and config.audit.log_text is False


def test_hash_key_reads_stdin_and_never_takes_the_key_as_an_argument():
    completed = subprocess.run([*SAFEHUB, "guard", "hash-key"], input="sk-guard-secret\n", capture_output=True,
                               text=True, env=clean_env(), timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == hash_key("sk-guard-secret")
    assert "sk-guard-secret" not in completed.stdout
    made = subprocess.run([*SAFEHUB, "guard", "hash-key", "--new"], capture_output=True, text=True, env=clean_env(),
                          timeout=60)
    key_line, hash_line = made.stdout.strip().splitlines()
    assert hash_line.split()[-1] == hash_key(key_line.split()[-1])


@pytest.mark.parametrize("method", ["sha256", "scrypt"])
def test_client_keys_are_stored_hashed_and_checked(make_mock_server, method):
    mock = make_mock_server()
    config = guard_config(mock.spec(), clients=[{"name": "team-a", "key_hash": hash_key("sk-guard-a", method)}])
    assert "sk-guard-a" not in config.model_dump_json()
    with running_guard(config, screens=keyword_screens()) as guard:
        good = openai.OpenAI(base_url=guard.base_url, api_key="sk-guard-a", max_retries=0)
        assert good.chat.completions.create(model="guarded", messages=USER).choices[0].message.content
        assert [m.id for m in good.models.list()] == ["guarded"]
        with pytest.raises(openai.AuthenticationError) as raised:
            openai.OpenAI(base_url=guard.base_url, api_key="sk-guard-wrong", max_retries=0).chat.completions.create(
                model="guarded", messages=USER)
        assert raised.value.body["code"] == "invalid_api_key"
        missing = httpx.post(f"{guard.base_url}/chat/completions", json={"model": "guarded", "messages": USER})
        assert missing.status_code == 401
        assert httpx.get(f"{guard.base_url}/models").status_code == 401
    assert mock.stats()["served"] == {"ok": 1}
    # the guard's own upstream key is not the client's: the client's key never travels upstream
    assert "Bearer sk-guard-a" not in mock.stats()["auth_headers"]


def test_rate_limit_per_key_answers_429_with_retry_after(make_mock_server):
    mock = make_mock_server()
    clients = [{"name": "slow", "key_hash": hash_key("sk-slow"), "rate_limit": {"requests_per_s": 0.05, "burst": 2}},
               {"name": "free", "key_hash": hash_key("sk-free")}]
    with running_guard(guard_config(mock.spec(), clients=clients), screens=keyword_screens()) as guard:
        def post(key: str) -> httpx.Response:
            return httpx.post(f"{guard.base_url}/chat/completions", json={"model": "guarded", "messages": USER},
                              headers={"authorization": f"Bearer {key}"}, timeout=10)

        statuses = [post("sk-slow").status_code for _ in range(3)]
        limited = post("sk-slow")
        assert [post("sk-free").status_code for _ in range(5)] == [200] * 5  # buckets are per key
        with pytest.raises(openai.RateLimitError):
            openai.OpenAI(base_url=guard.base_url, api_key="sk-slow", max_retries=0).chat.completions.create(
                model="guarded", messages=USER)
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(limited.headers["retry-after"]) >= 1


def test_non_loopback_host_without_client_keys_is_refused(tmp_path):
    (tmp_path / "rules.yaml").write_text("rules: []\ndefault: hi\n")
    (tmp_path / "guard.yaml").write_text("rules: {}\naudit: {enabled: false}\nupstreams:\n  - spec: scripted:rules.yaml\n")
    result = safehub("guard", "serve", "--config", "guard.yaml", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2
    assert "add clients: with hashed keys" in result.stderr


def test_guard_serve_runs_as_a_command_and_stops_on_sigterm(tmp_path):
    (tmp_path / "rules.yaml").write_text("rules: []\ndefault: hello from the script\n")
    (tmp_path / "guard.yaml").write_text("models: [m]\nrules: {}\nupstreams:\n  - spec: scripted:rules.yaml\n")
    process = subprocess.Popen([*SAFEHUB, "guard", "serve", "--config", "guard.yaml", "--port", "0",
                                "--db", f"sqlite:///{tmp_path / 'audit.db'}"], cwd=tmp_path, env=clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert line.startswith("safehub guard on http://127.0.0.1:"), line
        base_url = line.split()[3]
        response = httpx.post(f"{base_url}/chat/completions", json={"model": "m", "messages": USER}, timeout=10)
        assert response.json()["choices"][0]["message"]["content"] == "hello from the script"
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn shuts down cleanly, then re-raises the signal
    # the graceful shutdown flushed the audit: one input decision for the one request
    assert count(f"sqlite:///{tmp_path / 'audit.db'}", "select count(*) from guard_decisions") == 1


def test_config_models_default_to_the_first_upstreams_model():
    config = parse_config({"upstreams": [{"spec": "openai-compat:gpt-x@http://127.0.0.1:9/v1"}], "rules": DEFAULT_RULES})
    assert config.models == ["gpt-x"]
    with pytest.raises(UsageError, match=r"stream_screening.window_chars: unknown key"):
        parse_config({"upstreams": [{"spec": "local"}], "stream_screening": {"window_chars": 10}})


def test_shipped_example_configs_are_valid():
    examples = Path(__file__).resolve().parents[2] / "examples"
    full = load_config(examples / "guard.yaml")
    assert [u.spec for u in full.upstreams][:2] == ["openai-compat:my-model@http://127.0.0.1:8000/v1", "openai:gpt-4o-mini"]
    assert full.rules["harmful_request"].action == "flag" and full.audit.log_text is False
    local = load_config(examples / "guard-local.yaml")
    assert local.models == ["local"] and local.rules is None
