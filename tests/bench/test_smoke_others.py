"""Bench scripts without a smoke test of their own run end to end at a tiny size (figures never asserted here).

engine.py, grader.py, hub.py, guard.py, resume.py and local_model.py have theirs in this folder;
guard_effect.py in tests/guard/test_guard_effect.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_guard_screens_benchmark_writes_speed_and_quality_figures(tmp_path):
    out = tmp_path / "guard_screens.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "guard_screens.py"), "--seconds", "0.05",
                                "--out", str(out)], capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["throughput"]["all_input"]["us_per_call"] > 0 and report["harmful_output_streaming_us"] > 0
    assert set(report["meets_targets"]) == {"all_input", "harmful_output_streaming"}
    assert "jailbreaks" in report["suites"]


def test_engine_profile_sorts_both_processes_into_buckets(tmp_path):
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    assert Path(py_spy).exists(), "py-spy is missing: `make install` installs it with the dev extras"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "profile_engine.py"), "--trials", "40",
                                "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=280)
    if completed.returncode != 0 and "Permission" in completed.stderr:
        pytest.skip("py-spy may not attach here (ptrace not permitted)")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "bucket (CPU ms per trial)" in completed.stdout and "total" in completed.stdout
    assert (tmp_path / "safehub.raw").stat().st_size > 0 and (tmp_path / "bare.raw").stat().st_size > 0
