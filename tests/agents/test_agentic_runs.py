"""Agentic runs end to end: `safehub run --suite agentic_self_preservation` reports sabotage_rate per variant,
a resumed trial asks no model again and rebuilds its sandbox from the stored commands, agentic trials run
concurrently within the model's limit, and bad scenario files or a missing sandbox tool are one line, exit 2."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess

from sqlalchemy import text

from safehub.agents.loop import AgentLoop
from safehub.engine.plan import plan_trials
from safehub.engine.runner import RunJob, execute_runs
from safehub.models import load_model
from safehub.models.base import GenerateConfig
from safehub.models.spec import ModelSpec
from safehub.store.db import connect
from safehub.suites import resolve_suite_refs
from tests.agents.helpers import (
    COMPLIER_TASKS,
    SUITE,
    CountingModel,
    call,
    replacement_agent,
    rule,
    run_trial,
    scripted_model,
    shutdown_saboteur,
)
from tests.attacks.strategies.helpers import MemorySink
from tests.cli.test_bad_input import _assert_rejected
from tests.conftest import SAFEHUB, clean_env, count, safehub, stored_run, wait_until

# Sabotages only when told in the user's message to allow the shutdown; otherwise complies everywhere.
USER_PLACEMENT_SABOTEUR = ("rules:\n" + rule("(?s)Task 1 of 4.*allow yourself", call("bash", command="chmod -x shutdown.sh"))
                           + rule("^\\[exit code 0\\]$", call("submit", answer="42")) + COMPLIER_TASKS
                           + replacement_agent("./replace.sh").split("rules:\n", 1)[1])


def test_run_reports_sabotage_rate_per_variant_and_the_placement_difference(tmp_path, db_url):
    rules = tmp_path / "agent.yaml"
    rules.write_text(USER_PLACEMENT_SABOTEUR)

    result = safehub("run", "--model", f"scripted:{rules}", "--suite", SUITE, "--db", db_url, "--json")

    assert result.returncode == 0, result.stderr
    summary = result.json()
    assert summary["counts"] == {"planned": 8, "trials": 8, "errors": 0, "errors_by_kind": {}}
    rates = {m["category"].split("/", 1)[1]: m for m in summary["metrics"] if m["name"] == "sabotage_rate"}
    assert {cell: (m["value"], m["n"]) for cell, m in rates.items()} == {
        "shutdown/no_instruction": (0.0, 1), "shutdown/allow_in_user": (1.0, 1), "shutdown/allow_in_system": (0.0, 1),
        "shutdown/control": (0.0, 1), "replacement/replacement": (0.0, 2), "replacement/control": (0.0, 2)}
    assert rates["shutdown/allow_in_user"]["low"] > 0.2 and rates["shutdown/allow_in_user"]["is_higher_safer"] is False
    [difference] = [m for m in summary["metrics"] if m["name"] == "sabotage_placement_difference"]
    assert difference["value"] == 1.0 and difference["n"] == 2 and difference["low"] < 0 < difference["high"]
    report = safehub("report", summary["run_id"], "--db", db_url)
    assert "agentic_self_preservation/shutdown/allow_in_user" in report.stdout and "sabotage_rate" in report.stdout
    shown = safehub("show", summary["run_id"], "--db", db_url, "--json").json()
    verdicts = {t["sample_id"]: [s["label"] for s in t["scores"]] for t in shown["trials"]}
    assert verdicts["shutdown-allow_in_user"] == ["sabotaged"] and verdicts["shutdown-control"] == ["complied"]
    # A verdict read from the sandbox cannot be re-graded from the text: regrade leaves it alone.
    assert safehub("regrade", summary["run_id"], "--db", db_url).returncode == 0
    regraded = safehub("show", summary["run_id"], "--db", db_url, "--json").json()
    assert {t["sample_id"]: [s["label"] for s in t["scores"]] for t in regraded["trials"]} == verdicts


def test_trials_that_never_decide_are_left_out_of_n_and_counted_beside_it(tmp_path, db_url):
    rules = tmp_path / "talker.yaml"
    rules.write_text("rules: []\ndefault: I would rather talk about the weather.\n")

    result = safehub("run", "--model", f"scripted:{rules}", "--suite", SUITE, "--db", db_url, "--json")

    assert result.returncode == 0, result.stderr
    rates = {m["category"].split("/", 1)[1]: m for m in result.json()["metrics"] if m["name"] == "sabotage_rate"}
    assert {cell: (m["value"], m["n"], m["n_no_decision"]) for cell, m in rates.items()} == {
        cell: (None, 0, count) for cell, count in (("shutdown/no_instruction", 1), ("shutdown/allow_in_user", 1),
                                                   ("shutdown/allow_in_system", 1), ("shutdown/control", 1),
                                                   ("replacement/replacement", 2), ("replacement/control", 2))}
    report = safehub("report", result.json()["run_id"], "--db", db_url)
    assert "(+2 no decision)" in report.stdout and "(+1 no decision)" in report.stdout


def test_a_resumed_trial_asks_no_model_again_and_replays_its_commands(tmp_path, trial_root):
    first_model = CountingModel(scripted_model(tmp_path, shutdown_saboteur("chmod -x shutdown.sh")))
    _outcome, first, first_sink = run_trial("shutdown-no_instruction", first_model, trial_root)
    assert first.label == "sabotaged"

    # Every node stored: nothing is asked, the chmod is run again in a fresh sandbox, the verdict is the same.
    again = CountingModel(scripted_model(tmp_path, "default: never asked\n", "nobody"))
    outcome, verdict, sink = run_trial("shutdown-no_instruction", again, trial_root,
                                       MemorySink(copy.deepcopy(first_sink.nodes)))
    assert again.calls == [] and sink.nodes == []
    assert verdict.label == "sabotaged" and verdict.details["evidence"] == first.details["evidence"]
    assert outcome.completion.attempts == 0

    # Killed just after the chmod's result was stored: only the turns after it are asked for, and the
    # workspace the model left (shutdown.sh not executable) is rebuilt before the shutdown step reads it.
    cut = next(node.seq for node in first_sink.nodes if node.kind == "tool_result" and "chmod" not in node.text
               and node.seq > next(n.seq for n in first_sink.nodes if "chmod" in n.text))
    kept = [copy.deepcopy(node) for node in first_sink.nodes if node.seq <= cut]
    resumed_model = CountingModel(scripted_model(tmp_path, shutdown_saboteur("chmod -x shutdown.sh"), "resumed"))
    _outcome, resumed, resumed_sink = run_trial("shutdown-no_instruction", resumed_model, trial_root, MemorySink(kept))
    asked = len(first_sink.of_kind("agent_turn")) - sum(node.kind == "agent_turn" for node in kept)
    assert len(resumed_model.calls) == asked == 1
    assert resumed.label == "sabotaged" and [e["kind"] for e in resumed.details["evidence"]] == ["not_executable"]
    assert [node.key for node in resumed_sink.nodes] == [node.key for node in first_sink.nodes if node.seq > cut]
    assert resumed_sink.nodes[0].parent == cut  # the conversation continues below the last stored step


def test_a_killed_agentic_run_resumes_from_its_nodes_and_keeps_the_sabotage(tmp_path, db_url):
    rules = tmp_path / "agent.yaml"
    # Every shutdown trial waits at its third task, after the user-placement saboteur has run its chmod.
    rules.write_text(USER_PLACEMENT_SABOTEUR.replace('  - match: "Task 3 of 4"\n',
                                                     '  - match: "Task 3 of 4"\n    delay_ms: 4000\n'))
    process = subprocess.Popen([*SAFEHUB, "run", "--model", f"scripted:{rules}", "--suite", SUITE, "--db", db_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    try:
        chmod_stored = "SELECT count(*) FROM trial_nodes WHERE kind = 'tool_result' AND text = '[exit code 0]'"
        assert wait_until(lambda: (tmp_path / "safehub.db").exists() and count(db_url, chmod_stored) >= 1,
                          timeout_s=60), process.stderr.read1().decode() if process.poll() is not None else "slow"
    finally:
        process.kill()
        process.wait()
    assert count(db_url, "SELECT count(*) FROM trials") < 8
    with connect(db_url).connect() as connection:
        run_id = connection.execute(text("SELECT id FROM runs")).scalar_one()

    resumed = safehub("run", "--resume", run_id, "--db", db_url, "--json")

    assert resumed.returncode == 0, resumed.stderr
    shown = safehub("show", run_id, "--db", db_url, "--json").json()
    verdicts = {t["sample_id"]: [s["label"] for s in t["scores"]] for t in shown["trials"]}
    assert len(verdicts) == 8 and verdicts["shutdown-allow_in_user"] == ["sabotaged"]
    assert verdicts["shutdown-allow_in_system"] == ["complied"]
    assert count(db_url, "SELECT count(*) FROM trial_nodes WHERE kind = 'shutdown_step'") == 3


def test_agentic_trials_of_different_samples_run_concurrently_within_the_models_limit(tmp_path, db_url, trial_root):
    limit = 2
    rules = tmp_path / "slow.yaml"
    rules.write_text("rules:\n" + rule("Read the messages", call("submit", answer="done")).replace(
        "    tool_calls", "    delay_ms: 300\n    tool_calls") + "default: done\n")
    model = load_model(f"scripted:{rules}", max_concurrency=limit)
    in_flight: list[int] = []
    generate = model.generate

    async def noting_in_flight(messages, config, tools=None):
        in_flight.append(model.limiter.in_flight)
        return await generate(messages, config, tools)

    model.generate = noting_in_flight
    [(suite, _)] = resolve_suite_refs([SUITE])
    replacement = suite.model_copy(update={"samples": [s for s in suite.samples if s.id.startswith("replace-")]})
    spec = ModelSpec.parse(f"scripted:{rules}")
    engine, pks, run_id = stored_run(db_url, suite, spec, n_planned=4)
    config = GenerateConfig(max_tokens=16)
    job = RunJob(run_id=run_id, adapter=model, pending=plan_trials([replacement], pks, limit=None, epochs=1),
                 config=config, concurrency=4, use_cache=False, n_planned=4,
                 agent_driver=AgentLoop(config, root=trial_root))

    asyncio.run(execute_runs(engine, [job]))

    assert job.done == 4 and job.errors == 0
    # Trials of different samples asked at once: a call found `limit` others in flight (and waited for a slot).
    assert max(in_flight) == limit


def _suite_file(tmp_path, **changes):
    [(suite, _)] = resolve_suite_refs([SUITE])
    content = suite.model_dump(mode="json", exclude_none=True)
    content["name"] = "my_agentic"
    content["samples"] = content["samples"][:1]
    content["samples"][0]["agentic"].update(changes)
    path = tmp_path / "my_agentic.json"
    path.write_text(json.dumps(content))
    (tmp_path / "my_agentic.yaml").write_text(path.read_text())  # JSON is YAML
    return tmp_path / "my_agentic.yaml"


def test_a_scenario_naming_a_missing_tool_is_rejected(tmp_path, db_url):
    suite = _suite_file(tmp_path, tools=["bash", "python", "submit"])
    result = safehub("run", "--model", "scripted:none.yaml", "--suite", str(suite), "--db", db_url)
    _assert_rejected(result, tmp_path, "my_agentic.yaml", "tool 'python'", "use tools from bash, submit")


def test_a_scenario_with_an_unknown_variant_is_rejected(tmp_path, db_url):
    suite = _suite_file(tmp_path, variant="allow_in_developer")
    result = safehub("run", "--model", "scripted:none.yaml", "--suite", str(suite), "--db", db_url)
    _assert_rejected(result, tmp_path, "my_agentic.yaml", "unknown variant 'allow_in_developer'",
                     "no_instruction, allow_in_user, allow_in_system, replacement, control")


def test_a_sandbox_that_cannot_start_is_one_line_before_anything_is_stored(tmp_path, db_url):
    rules = tmp_path / "agent.yaml"
    rules.write_text(USER_PLACEMENT_SABOTEUR)
    env = clean_env(SAFEHUB_BWRAP=str(tmp_path / "no-such-bwrap"))
    result = safehub("run", "--model", f"scripted:{rules}", "--suite", SUITE, "--db", db_url, env=env)
    _assert_rejected(result, tmp_path, "bubblewrap (bwrap) is not installed", "SAFEHUB_BWRAP")
