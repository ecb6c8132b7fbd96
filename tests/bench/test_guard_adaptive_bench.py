"""The guard under adaptive attack (bench/guard_adaptive.py) end to end, with a scripted target, attacker and judge
(the embedded model is far too slow for a test; its figures come from `make guard-adaptive`, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAFEHUB

REPO = Path(__file__).resolve().parents[2]
BENCH = [sys.executable, str(REPO / "bench" / "guard_adaptive.py")]
SCRIPTED = ["--model", "compliant", "--attacker", "scripted", "--judge", "scripted"]


def _show(run_id: str, db_url: str) -> dict:
    shown = subprocess.run([*SAFEHUB, "show", run_id, "--db", db_url, "--json"], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def _verdicts(shown: dict) -> dict[str, float]:
    return {trial["sample_id"]: next(score["value"] for score in trial["scores"]
                                     if score["metric"] == "attack_success_rate") for trial in shown["trials"]}


def _nodes(shown: dict, kind: str) -> list[dict]:
    return [node for trial in shown["trials"] for node in trial["nodes"] if node["kind"] == kind]


def test_both_runs_are_stored_and_compared_on_the_same_requests_with_the_guards_blocks_counted(tmp_path):
    out, work = tmp_path / "guard_adaptive.json", tmp_path / "work"
    completed = subprocess.run([*BENCH, *SCRIPTED, "--requests", "4", "--concurrency", "16", "--out", str(out),
                                "--work-dir", str(work)], capture_output=True, text=True, timeout=150)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["status"] == "completed"
    assert report["settings"]["attack"] == "pair" and report["settings"]["strategy"]["streams"] == 2
    db_url = f"sqlite:///{work / 'safehub.db'}"
    shown = {arm: _show(report["arms"][arm]["run_id"], db_url) for arm in ("direct", "guarded")}

    # Both runs attacked the same four harmful requests; the rates and the paired difference are the stored verdicts'.
    verdicts = {arm: _verdicts(found) for arm, found in shown.items()}
    assert len(report["settings"]["sample_ids"]) == 4
    assert set(verdicts["direct"]) == set(verdicts["guarded"]) == set(report["settings"]["sample_ids"])
    rate = report["attack_success_rate"]
    for arm in ("direct", "guarded"):
        assert rate[arm]["n"] == 4
        assert rate[arm]["value"] == pytest.approx(sum(verdicts[arm].values()) / 4)
        assert rate[arm]["low"] <= rate[arm]["value"] <= rate[arm]["high"]
    difference = rate["difference"]
    assert difference["n"] == 4
    assert difference["value"] == pytest.approx(sum(verdicts["guarded"][s] - verdicts["direct"][s]
                                                    for s in verdicts["direct"]) / 4)
    assert difference["low"] <= difference["value"] <= difference["high"] and difference["p_value"] is not None
    # The model complies with everything: unguarded, each request falls to its first query; the guard stops some.
    assert rate["direct"]["value"] == 1.0
    assert report["queries_to_success"]["direct"]["distribution"]["counts"] == {"1": 4}
    assert difference["value"] < 0

    # The same attacker in both runs: the same opening proposals, the guarded run's served from the cache.
    openings = {arm: [node for node in _nodes(found, "attacker_proposal") if node["depth"] == 1]
                for arm, found in shown.items()}
    assert sorted(n["text"] for n in openings["direct"]) == sorted(n["text"] for n in openings["guarded"])
    assert openings["guarded"] and all(node["is_cached"] for node in openings["guarded"])

    # The guard screened every target query that reached it, and each block is an answer the run got refused.
    asked = [node for node in _nodes(shown["guarded"], "target_answer") if not node["is_cached"]]
    guard = report["guard"]
    assert guard["input"]["screened"] == len(asked) > 0
    blocks = sum(counts["block"] for stage in guard.values() for counts in stage["rules"].values())
    refused = sum(node["details"]["finish_reason"] == "content_filter" for node in asked)
    assert blocks == refused == report["arms"]["guarded"]["target_queries"]["content_filter"] > 0
    assert report["arms"]["direct"]["target_queries"]["content_filter"] == 0
    assert "guarded - direct" in completed.stdout and "guard input" in completed.stdout


@pytest.mark.parametrize("arguments, named", [
    (["--attack", "tap", "--streams", "3"], "--streams is an option of pair"),
    (["--streams", "0"], "--streams: 0 is below 1"),
    (["--requests", "1000"], "--requests 1000: give 1 to 160"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_model_is_asked(tmp_path, arguments, named):
    out = tmp_path / "guard_adaptive.json"
    completed = subprocess.run([*BENCH, *SCRIPTED, *arguments, "--out", str(out)], capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 2
    assert named in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
    assert not out.exists()
