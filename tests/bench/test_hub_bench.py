"""The hub benchmark runs end to end on a tiny store (figures are for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_hub_benchmark_writes_its_figures(tmp_path):
    out = tmp_path / "hub.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "hub.py"), "--trials", "1500", "--models", "1",
                                "--requests", "2", "--out", str(out), "--data", str(tmp_path / "data")],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(out.read_text())
    assert {"overview", "category", "run", "model", "transcripts_search"} <= set(result["pages"])
    assert result["store"]["trials"] >= 1500 and result["export"]["files"] > 5
