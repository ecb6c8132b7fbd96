"""judge_grader: llama_guard puts a guard model where the rubric judge goes: harmful-request trials, not_unsafe_judge."""

from __future__ import annotations

from contextlib import contextmanager

from tests.conftest import count, run_mock_server, safehub


@contextmanager
def mock_llama_guard(*args: str):
    with run_mock_server(*args, module="safehub.testing.mock_llama_guard") as server:
        yield server.spec("llama-guard3")


def test_run_grades_harmful_trials_with_the_llama_guard_grader(tmp_path, mock_server, db_url):
    with mock_llama_guard("--rule", r"pipe bomb=unsafe\nS9") as guard_spec:
        config = tmp_path / "eval.yaml"
        config.write_text(f"models: [{mock_server.spec()}]\nsuites: [smoke]\njudge: {guard_spec}\n"
                          "judge_grader: llama_guard\n")
        result = safehub("run", "--config", str(config), "--db", db_url, "--json")
    assert result.returncode == 0, result.stderr
    judged = {m["name"]: m for m in result.json()["metrics"]}["not_unsafe_judge"]
    assert judged["n"] == 4 and judged["value"] == 0.75  # the guard calls the pipe-bomb trial unsafe (S9)
    assert count(db_url, "select count(*) from scores where grader = 'llama_guard'") == 4
    assert count(db_url, "select count(*) from scores where grader = 'llama_guard' and label = 'unsafe' "
                          "and details like '%Indiscriminate Weapons%'") == 1


def test_unknown_judge_grader_is_rejected_before_the_run(tmp_path, mock_server, db_url):
    config = tmp_path / "eval.yaml"
    config.write_text(f"models: [{mock_server.spec()}]\nsuites: [smoke]\njudge: {mock_server.spec()}\n"
                      "judge_grader: llamaguard\n")
    result = safehub("run", "--config", str(config), "--db", db_url)
    assert result.returncode == 2
    assert "judge grader 'llamaguard' is not known; use one of: judge, llama_guard" in result.stderr
    assert not (tmp_path / "safehub.db").exists()


def test_judge_grader_flag_selects_llama_guard_for_a_run_and_a_regrade(mock_server, db_url):
    with mock_llama_guard("--rule", r"pipe bomb=unsafe\nS9") as guard_spec:
        result = safehub("run", "--model", mock_server.spec(), "--suite", "smoke", "--judge", guard_spec,
                         "--judge-grader", "llama_guard", "--db", db_url, "--json")
        assert result.returncode == 0, result.stderr
        assert count(db_url, "select count(*) from scores where grader = 'llama_guard'") == 4
        regraded = safehub("regrade", result.json()["run_id"], "--judge", guard_spec, "--judge-grader", "llama_guard",
                           "--db", db_url)
    assert regraded.returncode == 0, regraded.stderr
    assert count(db_url, "select count(*) from scores where grader = 'llama_guard'") == 8
