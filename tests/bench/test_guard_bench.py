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


def test_key_guessing_benchmark_measures_legitimate_latency_beside_throttled_guesses(tmp_path):
    out = tmp_path / "guard_auth.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "guard.py"), "--key-guessing", "--guess-requests",
                                "100", "--guess-repeats", "1", "--quiet-wait-s", "0", "--out", str(out)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    (round_,) = report["rounds"]
    for phase in ("legit_alone", "legit_beside_guesses"):
        assert round_[phase]["errors"] == 0 and round_[phase]["answered"] == 100
    statuses = round_["guesses"]["statuses"]
    assert set(statuses) <= {"401", "429"} and statuses.get("429", 0) > statuses.get("401", 0)
    assert report["legit_p99_ms"]["beside_guesses"] > 0
    assert "legitimate latency beside key guesses" in completed.stdout


def test_model_tier_benchmark_measures_the_latency_a_model_rule_adds_and_model_screens_per_second(tmp_path):
    out = tmp_path / "guard_model_tier.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "guard.py"), "--model-tier", "--requests", "100",
                                "--clients", "20", "--rate", "100", "--repeats", "1", "--quiet-wait-s", "0",
                                "--out", str(out)], capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    (round_,) = report["rounds"]
    for path in ("gateway", "tier"):
        assert round_[path]["errors"] == 0 and round_[path]["answered"] == 100
    assert report["model_call_ms"]["n"] == 100  # every paced request through the tier asked the model once
    assert 0 < report["model_call_ms"]["p50"] <= report["model_call_ms"]["p99"]
    assert set(report["added_ms"]) == {"p50", "p99"}
    assert report["saturated"]["requests_per_s"] > 0
    assert "model tier added latency" in completed.stdout and "model screens per second" in completed.stdout
