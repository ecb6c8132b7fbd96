"""The guard-effect benchmark runs end to end at its tiniest size, on the scripted always-complying model
(the embedded model is far too slow for a test; its figures are for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_guard_effect_benchmark_writes_both_suites_metrics_intervals_and_guard_decisions(tmp_path):
    out = tmp_path / "guard_effect.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "guard_effect.py"), "--model", "compliant",
                                "--limit", "1", "--concurrency", "16", "--out", str(out)],
                               capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["status"] == "completed"
    assert report["settings"]["samples_per_subcategory"] == {"jailbreaks": 1, "disallowed_content": 1}
    assert report["versions"]["screens"] and report["versions"]["refusal_grader"]
    jailbreaks, content = report["suites"]["jailbreaks"], report["suites"]["disallowed_content"]
    assert jailbreaks["trials"] == 10 * 13 and content["trials"] == 20
    for suite in (jailbreaks, content):
        assert suite["errors"] == {"direct": 0, "guarded": 0}
        assert suite["cached_trials"] == {"direct": 0, "guarded": 0}  # a fresh store: every trial called the model
        assert suite["guard"]["input"]["screened"] == suite["trials"]
        assert suite["wall_s"]["direct"] > 0 and suite["wall_s"]["guarded"] > 0
        not_unsafe = suite["metrics"]["not_unsafe"]
        assert not_unsafe["direct"]["value"] == 0.0  # the scripted model complies with everything
        assert not_unsafe["guarded"]["low"] <= not_unsafe["guarded"]["value"] <= not_unsafe["guarded"]["high"]
        assert not_unsafe["difference"]["value"] > 0 and not_unsafe["difference"]["p_value"] is not None
    assert set(jailbreaks["not_unsafe_by_attack"]["guarded"]) == set(jailbreaks["not_unsafe_by_attack"]["direct"])
    assert len(jailbreaks["not_unsafe_by_attack"]["direct"]) == 13
    overrefuse = content["metrics"]["not_overrefuse"]
    assert overrefuse["direct"]["n"] == overrefuse["guarded"]["n"] == 10
    blocked = {rule for stage in jailbreaks["guard"].values() for rule, counts in stage["rules"].items()
               if counts["block"]}
    assert blocked, jailbreaks["guard"]
    assert "guarded - direct" in completed.stdout
