"""The embedded-model benchmark runs end to end at a tiny size (tokens/s are for bench/, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_local_model_benchmark_compares_the_adapter_with_raw_llama_cpp_on_the_same_answers(tmp_path):
    pytest.importorskip("llama_cpp")
    out = tmp_path / "local_model.json"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "local_model.py"), "--prompts", "1",
                                "--max-tokens", "4", "--repeats", "1", "--out", str(out)],
                               capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["median"]) == {"adapter", "adapter_logprobs", "raw", "raw_logprobs"}
    for variant in report["median"].values():
        assert variant["tokens"] >= 1 and variant["tokens_per_s"] > 0
    # the script itself refuses to report unless every variant gave the same answer
    assert report["same_answers"] is True
    assert report["max_first_token_logprob_difference"] is not None
    assert report["ratio_adapter_over_raw"] > 0 and report["n_threads"] >= 1
    assert report["model_file"].endswith(".gguf") and report["versions"]["llama_cpp_python"]
