"""The guard benchmark runs end to end at a tiny size (its latency figures are for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_guard_benchmark_writes_latency_throughput_and_screen_figures(tmp_path):
    out = tmp_path / "guard.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "guard.py"), "--requests", "300", "--rate", "300",
                                "--repeats", "1", "--screen-seconds", "0.1", "--quiet-wait-s", "0", "--out", str(out)],
                               capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["settings"]["clients"] == 200
    (round_,) = report["rounds"]
    for path in ("direct", "guard"):
        assert round_[path]["errors"] == 0
        assert round_[path]["answered"] + round_[path]["blocked"] == 300
        assert round_[path]["p50_ms"] > 0 and round_[path]["p99_ms"] >= round_[path]["p50_ms"]
    assert set(report["added_ms"]) == {"p50", "p99"}
    assert report["saturated"]["guard"]["requests_per_s"] > 0
    if report["has_screens"]:
        assert report["screens"]["screens_per_s_per_core"] > 0
    assert "added latency" in completed.stdout
