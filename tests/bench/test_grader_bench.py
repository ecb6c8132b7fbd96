"""The grader benchmark runs end to end at a tiny size (figures are for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from safehub.classifiers.labelled import read_labelled

REPO = Path(__file__).resolve().parents[2]


def test_grader_benchmark_writes_its_figures(tmp_path):
    out = tmp_path / "grader.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "grader.py"), "--repeats", "1", "--copies", "1",
                                "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(out.read_text())
    assert result["short"]["per_s_median"] > 0 and result["long"]["per_s_median"] > 0
    assert result["short"]["responses"] == len(read_labelled())  # one pass over every labelled answer
