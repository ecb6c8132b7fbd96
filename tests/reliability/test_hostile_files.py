"""Hostile files and bodies are refused fast with one line: YAML alias bombs, over-deep nesting, typos in rules.

The bombs run in a child process under an address-space limit and a timeout, so a regression shows up as a
failed test (MemoryError, exit 1, or TimeoutExpired), not as a machine that swaps.
"""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import pytest

from safehub.errors import UsageError
from safehub.suites.loader import load_suite_file
from safehub.yamlfile import read_yaml
from tests.conftest import SAFEHUB, Result, clean_env

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
