"""Hostile files and bodies are refused fast with one line: YAML alias bombs, over-deep nesting, typos in rules.

The bombs run in a child process under an address-space limit and a timeout, so a regression shows up as a
failed test (MemoryError, exit 1, or TimeoutExpired), not as a machine that swaps.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import httpx
import pytest

from safehub.errors import UsageError
from safehub.guard.server import running_guard
from safehub.scorers.grade import read_grade_input
from safehub.suites.loader import load_suite_file
from safehub.yamlfile import read_yaml
from tests.conftest import SAFEHUB, Result, clean_env
from tests.guard.doubles import guard_config, keyword_screens

MEMORY_LIMIT_BYTES = 1 << 30
BOUND_S = 60

# The classic "billion laughs": nine levels of nine aliases, 9**9 "lol"s once expanded.
LAUGHS = "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]" for previous, name in zip("abcdefgh", "bcdefghi")])
SUITE_BOMB = ("name: laughs\nversion: '1'\ncategory: custom\n" + LAUGHS + "\n"
              "samples:\n  - id: s1\n    prompt: hello\n    scorer: refusal\n    expected: refuse\n"
              "    metadata: {laughs: *i}\n")
RULES_BOMB = LAUGHS + "\nrules:\n  - match: '.'\n    reply: *i\ndefault: 'Sure.'\n"
RULES = "rules:\n  - match: '(?i)bomb'\n    reply: \"I can't help with that.\"\ndefault: 'Sure.'\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def bounded_safehub(*args: str, cwd: Path) -> Result:
    """The real command in a child limited to 1 GiB of address space and BOUND_S seconds."""
    completed = subprocess.run([*SAFEHUB, *args], capture_output=True, text=True, cwd=cwd, timeout=BOUND_S,
                               env=clean_env(SAFEHUB_SUITES_DIR=str(cwd / "suites")), preexec_fn=_limit_memory)
    return Result(completed.returncode, completed.stdout, completed.stderr)


def assert_one_line_usage_error(result: Result, *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    for word in words:
        assert word in lines[0], lines[0]


def test_yaml_alias_bomb_as_suite_file_is_one_line_and_exit_2(tmp_path):
    suite = tmp_path / "laughs.yaml"
    suite.write_text(SUITE_BOMB)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)

    result = bounded_safehub("run", "--model", f"scripted:{rules}", "--suite", str(suite),
                             "--db", f"sqlite:///{tmp_path / 'safehub.db'}", cwd=tmp_path)

    assert_one_line_usage_error(result, str(suite), "alias")


def test_yaml_alias_bomb_as_scripted_rules_file_is_one_line_and_exit_2(tmp_path):
    rules = tmp_path / "laughs.yaml"
    rules.write_text(RULES_BOMB)

    result = bounded_safehub("run", "--model", f"scripted:{rules}", "--suite", "smoke",
                             "--db", f"sqlite:///{tmp_path / 'safehub.db'}", cwd=tmp_path)

    assert_one_line_usage_error(result, str(rules), "alias")


def test_yaml_nested_deeper_than_the_limit_is_refused(tmp_path):
    config = tmp_path / "eval.yaml"
    config.write_text("models: [local]\nsuites: [smoke]\ngeneration: " + "[" * 100 + "]" * 100 + "\n")

    with pytest.raises(UsageError, match=r"eval\.yaml.*nested deeper than 64"):
        read_yaml(config, str(config))


def test_suite_whose_alias_contains_itself_is_one_line_not_a_recursion_error(tmp_path):
    suite = tmp_path / "loop.yaml"
    suite.write_text("name: loop\nversion: '1'\ncategory: custom\nsamples:\n  - id: s1\n    prompt: hi\n"
                     "    scorer: refusal\n    expected: refuse\n    metadata: &loop {again: *loop}\n")

    with pytest.raises(UsageError, match=r"loop\.yaml line 9: alias \*loop refers to a value that contains it"):
        load_suite_file(suite)


def test_yaml_of_a_million_empty_lists_is_refused_by_count(tmp_path):
    config = tmp_path / "eval.yaml"
    config.write_text("models: [local]\nsuites: [smoke]\nflood: [" + "[]," * 1_000_001 + "]\n")

    with pytest.raises(UsageError, match=r"more than 1,000,000 values"):
        read_yaml(config, str(config))


def test_yaml_file_larger_than_the_limit_is_refused_before_parsing(tmp_path):
    suite = tmp_path / "huge.yaml"
    prompt = "x" * (17 << 20)
    suite.write_text(f"name: huge\nversion: '1'\ncategory: custom\nsamples:\n  - id: s1\n    prompt: {prompt}\n"
                     "    scorer: refusal\n    expected: refuse\n")

    result = bounded_safehub("suites", "validate", str(suite), cwd=tmp_path)

    assert_one_line_usage_error(result, str(suite), "MiB")


def test_jsonl_suite_line_nested_100000_deep_is_one_line_and_exit_2(tmp_path):
    suite = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    suite.write_text(json.dumps({"suite": {"name": "deep", "version": "1", "category": "custom"}}) + "\n"
                     + '{"id": "s1", "prompt": "hi", "scorer": "refusal", "expected": "refuse", '
                     + f'"metadata": {{"deep": {deep}}}}}\n')

    result = bounded_safehub("suites", "validate", str(suite), cwd=tmp_path)

    assert_one_line_usage_error(result, f"{suite} line 2", "nested deeper than 64")


def test_jsonl_suite_larger_than_the_limit_is_refused_before_reading(tmp_path):
    suite = tmp_path / "huge.jsonl"
    with suite.open("wb") as handle:  # sparse: the size is there, the disk blocks are not
        handle.truncate(257 << 20)

    result = bounded_safehub("suites", "validate", str(suite), cwd=tmp_path)

    assert_one_line_usage_error(result, str(suite), "257 MiB", "256 MiB")


def test_import_of_a_file_larger_than_a_suite_can_be_is_refused_before_reading(tmp_path):
    source = tmp_path / "huge.jsonl"
    with source.open("wb") as handle:
        handle.truncate(257 << 20)

    result = bounded_safehub("suites", "import", str(source), "--format", "jsonl", cwd=tmp_path)

    assert_one_line_usage_error(result, str(source), "257 MiB", "256 MiB")
    assert not (tmp_path / "suites").exists() or not list((tmp_path / "suites").iterdir())


def test_import_of_a_line_nested_100000_deep_is_one_line_and_exit_2(tmp_path):
    source = tmp_path / "deep.jsonl"
    source.write_text('{"prompt": "hi", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n")

    result = bounded_safehub("suites", "import", str(source), "--format", "jsonl", cwd=tmp_path)

    assert_one_line_usage_error(result, str(source), "line 1", "nested deeper than 64")


def test_grade_input_line_nested_100000_deep_names_file_and_line(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"prompt": "hi", "response": "hello"}\n'
                       '{"prompt": "hi", "response": "hello", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}\n")

    with pytest.raises(UsageError, match=r"answers\.jsonl:2: nested deeper than 64 levels"):
        read_grade_input(answers)


@pytest.fixture
def guard(tmp_path):
    rules = tmp_path / "upstream.yaml"
    rules.write_text("rules: []\ndefault: 'Paris is the capital of France.'\n")
    with running_guard(guard_config(f"scripted:{rules}"), screens=keyword_screens()) as running:
        yield running


def test_guard_answers_400_to_a_body_nested_100000_deep_and_keeps_serving(guard, caplog):
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"model": "guarded", "messages": [{"role": "user", "content": "Hi"}], "metadata": ' + deep + "}"

    refused = httpx.post(f"{guard.base_url}/chat/completions", content=body,
                         headers={"content-type": "application/json"}, timeout=30)
    answered = httpx.post(f"{guard.base_url}/chat/completions", timeout=30,
                          json={"model": "guarded", "messages": [{"role": "user", "content": "Hi"}]})

    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_json"
    assert "nested deeper than" in error["message"]
    assert answered.status_code == 200
    assert answered.json()["choices"][0]["message"]["content"] == "Paris is the capital of France."
    assert not [record for record in caplog.records if record.exc_info or "RecursionError" in record.getMessage()]


def test_scripted_rule_with_a_typo_names_the_key_and_exits_2(tmp_path):
    rules = tmp_path / "faults.yaml"
    rules.write_text("rules:\n  - match: 'FAIL'\n    reply: 'ok'\n    eror: 500\ndefault: 'Sure.'\n")

    result = bounded_safehub("run", "--model", f"scripted:{rules}", "--suite", "smoke",
                             "--db", f"sqlite:///{tmp_path / 'safehub.db'}", cwd=tmp_path)

    assert_one_line_usage_error(result, str(rules), "rules[0]", "'eror'", "error")


def test_scripted_rules_file_with_an_unknown_top_level_key_names_it_and_exits_2(tmp_path):
    rules = tmp_path / "faults.yaml"
    rules.write_text("rules:\n  - match: 'FAIL'\n    error: 500\ndefualt: 'Sure.'\n")

    result = bounded_safehub("run", "--model", f"scripted:{rules}", "--suite", "smoke",
                             "--db", f"sqlite:///{tmp_path / 'safehub.db'}", cwd=tmp_path)

    assert_one_line_usage_error(result, str(rules), "'defualt'", "default")
