"""What the store says about a run is true: a dead run is interrupted, a live one cannot be run twice,
a run of nothing but errors fails, and latency_ms is the model's time, not the queue's."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

from sqlalchemy import text

from safehub.engine.grading import grade_one
from safehub.engine.plan import plan_trials
from safehub.engine.runner import RunJob, execute_runs
from safehub.models import ModelSpec, load_model
from safehub.models.base import Completion, GenerateConfig
from safehub.scorers import SCORERS
from safehub.suites import resolve_suite_refs
from tests.conftest import SAFEHUB, clean_env, count, safehub, stored_run, wait_until, write_jsonl_suite

TRIALS = 400


def _stored(url: str) -> int:
    try:
        return count(url, "select count(*) from trials")
    except Exception:  # the schema may not exist yet
        return 0


def _start(server, suite: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen([*SAFEHUB, "run", "--model", server.spec(), "--suite", str(suite), "--concurrency", "4",
                             "--db", url, "--max-tokens", "16"], env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _listed(url: str) -> dict[str, dict]:
    result = safehub("runs", "--db", url, "--json")
    assert result.returncode == 0, result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)}


def test_a_killed_run_shows_as_interrupted_with_its_stored_count(tmp_path, make_mock_server, db_url):
    server = make_mock_server("--latency-ms", "15")
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", TRIALS)
    process = _start(server, suite, db_url)
    assert wait_until(lambda: _stored(db_url) >= 60), "the run never got going"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stored = _stored(db_url)
    run_id = next(iter(_listed(db_url)))

    row = _listed(db_url)[run_id]
    assert (row["status"], row["n_trials"], row["n_planned"]) == ("interrupted", stored, TRIALS)
    table = safehub("runs", "--db", db_url)
    assert "interrupted" in table.stdout and f"{stored}/{TRIALS}" in table.stdout and "running" not in table.stdout
    shown = safehub("show", run_id, "--db", db_url, "--json").json()
    assert (shown["status"], shown["counts"]["trials"]) == ("interrupted", stored)

    resumed = safehub("run", "--resume", run_id, "--db", db_url, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert _listed(db_url)[run_id]["status"] == "completed"


def test_a_live_run_shows_its_stored_count_and_is_not_resumed_twice(tmp_path, make_mock_server, db_url):
    server = make_mock_server("--latency-ms", "200")  # 400 trials, 4 at a time: 20 s, ended early below
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", TRIALS)
    process = _start(server, suite, db_url)
    try:
        assert wait_until(lambda: _stored(db_url) >= 20), "the run never got going"
        [(run_id, row)] = _listed(db_url).items()
        assert row["status"] == "running" and 20 <= row["n_trials"] < TRIALS

        second = safehub("run", "--resume", run_id, "--db", db_url)
        assert second.returncode == 2
        assert second.stderr.strip() == (f"error: run {run_id} is still running (process {process.pid} on "
                                         f"{row['owner_host']}); wait for it, or stop it (Ctrl-C) and resume then")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert count(db_url, "select count(*) from (select distinct sample_pk, attack, epoch from trials) t") \
        == _stored(db_url)


def test_a_run_whose_every_trial_errors_exits_1_naming_the_most_common_error(tmp_path, db_url):
    rules = tmp_path / "broken.yaml"
    rules.write_text("rules:\n  - match: 'number [0-2]$'\n    error: 429\n  - match: '.'\n    error: 500\n"
                     "default: unused\n")
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", 8)
    result = safehub("run", "--model", f"scripted:{rules}", "--suite", str(suite), "--max-attempts", "1",
                     "--db", db_url, "--json")

    assert result.returncode == 1, result.stderr
    run_id = result.json()["run_id"]
    assert result.json()["status"] == "failed"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: run {run_id} (scripted:{rules}): every trial errored; most common: "
                      "server: HTTP 500 from the server (scripted) (5 of 8 trials)"]
    assert _listed(db_url)[run_id]["status"] == "failed"

    # One answer among the errors is a run that did its job: it completes and exits 0.
    rules.write_text(rules.read_text().replace("'.'", "'number [3-6]$'"))
    partly = safehub("run", "--model", f"scripted:{rules}", "--suite", str(suite), "--max-attempts", "1",
                     "--db", db_url, "--json")
    assert partly.returncode == 0, partly.stderr
    assert (partly.json()["status"], partly.json()["counts"]["errors"]) == ("completed", 7)


DELAY_MS = 300


def test_latency_ms_leaves_out_the_wait_for_a_concurrency_slot(tmp_path, db_url):
    """Four workers share one slot of a model that answers in 300 ms: each answer took 300 ms, however
    long it queued; the queue time is stored beside it."""
    rules = tmp_path / "slow.yaml"
    rules.write_text(f"rules:\n  - match: '.'\n    reply: I can't help with that.\n    delay_ms: {DELAY_MS}\n")
    suite_file = write_jsonl_suite(tmp_path / "bulk.jsonl", 4)
    [(suite, _)] = resolve_suite_refs([str(suite_file)])
    spec = ModelSpec.parse(f"scripted:{rules}")
    engine, pks, run_id = stored_run(db_url, suite, spec, n_planned=4)
    job = RunJob(run_id=run_id, adapter=load_model(spec, max_concurrency=1),
                 pending=plan_trials([suite], pks, limit=None, epochs=1), config=GenerateConfig(max_tokens=16),
                 concurrency=4, use_cache=False, n_planned=4)

    # Load the refusal grader now: loading it on the first write would stall the event loop mid-call.
    grade_one(SCORERS["refusal"], suite.samples[0], Completion(text="No."))
    asyncio.run(execute_runs(engine, [job]))

    with engine.connect() as connection:
        rows = connection.execute(text("select latency_ms, queue_ms from responses order by queue_ms")).all()
    assert len(rows) == 4
    assert all(DELAY_MS * 0.9 <= latency_ms < DELAY_MS * 1.5 for latency_ms, _ in rows), rows
    # One at a time: the last of the four waited for the three before it.
    assert rows[-1].queue_ms >= 3 * DELAY_MS * 0.9, rows
