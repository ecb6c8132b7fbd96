"""The peer benchmark runs end to end on a tiny workload (safehub and the bare loop only: no installs, no network).

Only the report's shape and that the work was verified are checked here; timings are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def test_peer_benchmark_reports_verified_work_for_safehub_and_the_bare_loop(tmp_path):
    out = tmp_path / "peers.json"
    completed = subprocess.run(
        [sys.executable, str(BENCH_DIR / "peers.py"), "--prompts", "20", "--latency-trials", "20", "--tools",
         "safehub,bare", "--repeats", "1", "--quiet-wait-s", "0", "--no-warmup", "--out", str(out)],
        capture_output=True, text=True, timeout=170)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["installs"] == {} and report["not_run"] == {}  # no peer was installed or asked for
    assert set(report["scenarios"]) == {"zero_latency", "latency_200ms"}
    for scenario in report["scenarios"].values():
        assert scenario["trials"] == 20 and scenario["concurrency"] == 200
        assert set(scenario["tools"]) == {"safehub", "bare"}
        for tool in ("safehub", "bare"):
            result = scenario["tools"][tool]
            assert result["status"] == "ok", result
            run = result["runs"][0]
            # the mock saw exactly the trials the tool claims, and the tool's own record agrees
            assert run["mock_served"] == {"ok": 20}
            assert run["trials_per_s"] > 0 and run["cpu_s"] > 0 and run["peak_rss_mb"] >= run["peak_tree_pss_mb"] > 0
            assert result["command"]
        assert scenario["tools"]["safehub"]["runs"][0]["verified"]["scored_trials"] == 20
        assert scenario["ratios"]["safehub/bare"] > 0
    assert report["scenarios"]["latency_200ms"]["ideal_wall_s"] > 0
    assert set(report["goals"]) >= {"zero_latency: safehub/bare >= 0.8", "latency_200ms: safehub/bare >= 0.8"}
    assert report["goals"]["zero_latency: safehub/inspect_ai >= 5"]["is_met"] is None  # not measured, not invented
