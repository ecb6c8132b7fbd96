"""The resume benchmark runs end to end at a tiny size (its overhead figure is for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_resume_benchmark_finishes_every_interrupted_run_with_each_trial_stored_once(tmp_path):
    out = tmp_path / "resume.json"
    # Few workers keep the tiny run going long enough for the signal to land half-way (usually; not asserted).
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "resume.py"), "--trials", "200", "--repeats", "1",
                                "--concurrency", "4", "--quiet-wait-s", "0", "--out", str(out)],
                               capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["settings"]["trials"] == 200 and report["settings"]["headline"] == "SIGKILL"
    assert set(report["by_signal"]) == {"SIGINT", "SIGKILL"}
    for kind in ("uninterrupted", "SIGINT", "SIGKILL"):
        (run,) = report["runs"][kind]
        assert run["stored"]["trials"] == run["stored"]["distinct_trials"] == 200
        assert run["stored"]["errors"] == 0 and run["stored"]["status"] == "completed"
        assert run["wall_s"] > 0
    for name in ("SIGINT", "SIGKILL"):
        run = report["runs"][name][0]
        assert run["stored_after_exit"] + run["resumed_trials"] == 200
        assert run["calls"] >= 200
    assert isinstance(report["overhead"], float) and isinstance(report["meets_target"], bool)
    assert {"cpu_overhead", "overhead_past_one_process_start"} <= set(report["by_signal"]["SIGKILL"])
    assert "resume overhead (SIGKILL)" in completed.stdout
