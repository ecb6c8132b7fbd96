"""bench/report.py turns whatever result files exist into one table; missing ones are named with their command."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

ENGINE = {
    "benchmark": "engine", "date": "2026-11-23T17:36:13+00:00", "argv": ["/x/python", "bench/engine.py", "--repeats", "3"],
    "versions": {"python": "3.11.7", "openai": "3.54.0", "safehub": "0.1.0"},
    "settings": {"trials": 5000, "repeats": 3, "concurrency": 200, "target_ratio": 0.8},
    "scenarios": {
        "zero_latency": {"trials": 5000, "concurrency": 200, "repeats": 3, "ratio_safehub_over_bare": 0.75,
                         "median": {"safehub": {"trials_per_s": 450.0}, "bare": {"trials_per_s": 600.0}}},
        "latency_200ms": {"trials": 5000, "concurrency": 200, "repeats": 3, "ratio_safehub_over_bare": 0.9,
                          "median": {"safehub": {"trials_per_s": 450.0, "wall_over_ideal": 2.2},
                                     "bare": {"trials_per_s": 500.0}}}},
}
PEERS = {  # the shape bench/peers.py writes: scenario first
    "benchmark": "peers", "date": "2026-11-30T10:00:00+00:00", "argv": ["/x/python", "bench/peers.py"],
    "versions": {"safehub_side": {"safehub": "0.1.0"}, "inspect_ai": "0.3.285"},
    "installs": {"inspect_ai": {"is_ready": True, "version": "0.3.285", "reason": None},
                 "garak": {"is_ready": False, "version": None, "reason": "pip could not resolve garak offline"}},
    "notes": {"inspect_ai": "inspect eval with the openai-api provider"},
    "scenarios": {
        "zero_latency": {"trials": 2000, "concurrency": 200, "ratios": {"safehub/inspect_ai": 5.0}, "tools": {
            "safehub": {"status": "ok", "median": {"trials_per_s": 500.0, "wall_s": 4.0, "cpu_s": 4.1, "peak_rss_mb": 140.0}},
            "inspect_ai": {"status": "ok", "median": {"trials_per_s": 100.0, "wall_s": 20.0, "cpu_s": 21.0,
                                                      "peak_rss_mb": 300.0}},
            "garak": {"status": "not run", "reason": "pip could not resolve garak offline"}}},
        "latency_200ms": {"trials": 5000, "concurrency": 200, "ratios": {}, "tools": {
            "safehub": {"status": "ok", "median": {"trials_per_s": 400.0, "wall_s": 12.5, "wall_over_ideal": 2.5}},
            "inspect_ai": {"status": "failed", "reason": "inspect eval timed out after 300 s"},
            "garak": {"status": "not run", "reason": "pip could not resolve garak offline"}}}},
    "not_run": {"garak": "pip could not resolve garak offline"},
}
RESUME = {
    "benchmark": "resume", "date": "2026-11-30T11:00:00+00:00", "argv": ["/x/python", "bench/resume.py"],
    "versions": {"safehub": "0.1.0"},
    "settings": {"trials": 5000, "repeats": 3, "concurrency": 200, "kill_at": 0.5, "target_overhead": 0.05,
                 "headline": "SIGKILL"},
    "median": {"uninterrupted": {"wall_s": 10.0}, "SIGKILL": {"wall_s": 10.4, "first_wall_s": 5.5, "resume_wall_s": 4.9},
               "SIGINT": {"wall_s": 11.0, "first_wall_s": 6.0, "resume_wall_s": 5.0}, "one_trial": {"wall_s": 2.0}},
    "by_signal": {"SIGINT": {"overhead": 0.1, "total_over_uninterrupted": 1.1, "meets_target": False},
                  "SIGKILL": {"overhead": 0.04, "total_over_uninterrupted": 1.04, "meets_target": True}},
}
LOCAL_MODEL = {
    "benchmark": "local_model", "date": "2026-11-30T12:00:00+00:00", "argv": ["/x/python", "bench/local_model.py"],
    "versions": {"safehub": "0.1.0", "llama_cpp_python": "0.3.36"}, "n_threads": 2, "n_ctx": 4096,
    "settings": {"prompts": 8, "max_tokens": 64, "repeats": 3, "target_ratio": 0.9},
    "median": {"adapter": {"tokens_per_s": 22.0}, "raw": {"tokens_per_s": 22.5},
               "adapter_logprobs": {"tokens_per_s": 21.0}, "raw_logprobs": {"tokens_per_s": 22.0}},
    "ratios": {"adapter_over_raw": 22.0 / 22.5, "adapter_logprobs_over_raw_logprobs": 21.0 / 22.0},
}


def _report_module():
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def _write_fixtures(folder: Path) -> Path:
    folder.mkdir()
    for name, data in (("engine", ENGINE), ("peers", PEERS), ("resume", RESUME), ("local_model", LOCAL_MODEL)):
        (folder / f"{name}.json").write_text(json.dumps(data))
    (folder / "hub.json").write_text("{not json")
    return folder


def _rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith(("| figure", "| ---", "| tool")):
            cells = [part.strip() for part in line.strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def test_report_has_a_row_per_figure_and_names_the_command_of_each_missing_file(tmp_path):
    results = _write_fixtures(tmp_path / "results")
    out = tmp_path / "RESULTS.md"
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "report.py"), "--results", str(results),
                                "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    rows = _rows(out.read_text())

    zero = rows["Engine throughput, zero latency"]
    assert zero[1] == "450.0 trials/s" and "600.0" in zero[2] and zero[3] == "0.75x" and zero[5] == "**no**"
    assert rows["Engine throughput, 200 ms latency"][5] == "yes"
    inspect = rows["Throughput vs inspect_ai, zero latency"]
    assert inspect[1] == "500.0 trials/s" and inspect[3] == "5.00x" and inspect[4] == "≥ 5.0x" and inspect[5] == "yes"
    kill = rows["Resume after a crash: SIGKILL at 50% (total / uninterrupted)"]
    assert kill[3].startswith("1.04x") and kill[5] == "yes"
    assert rows["Resume after Ctrl-C: SIGINT at 50% (total / uninterrupted)"][5] == "**no**"
    assert rows["Embedded model (local adapter), tokens/s"][3] == "0.98x"
    assert rows["Embedded model with first-token logprobs, tokens/s"][3] == "0.95x"

    for name, command in (("grader", "python bench/grader.py"), ("guard", "python bench/guard.py"),
                          ("guard_screens", "python bench/guard_screens.py"), ("guard_effect", "python bench/guard_effect.py")):
        row = rows[f"{name} figures"]
        assert row[1] == "not measured" and command in row[6]
    assert rows["hub figures"][1] == "unreadable"

    assert "Throughput vs inspect_ai, 200 ms latency" not in rows and "Throughput vs garak, zero latency" not in rows

    text = out.read_text()
    assert "- **garak** (not run, every scenario): pip could not resolve garak offline" in text
    assert "- **inspect_ai** (failed, 200 ms latency): inspect eval timed out after 300 s" in text
    assert "| inspect_ai | zero latency | 100.0 | 20.00 | 21.00 | 300.0 | 0.3.285 |" in text


def test_report_is_the_same_for_the_same_inputs_and_reads_a_tool_first_peers_file(tmp_path):
    report = _report_module()
    results = _write_fixtures(tmp_path / "results")
    assert report.build(results) == report.build(results)

    tool_first = {"date": "2026-11-30T10:00:00+00:00", "tools": [
        {"name": "safehub", "status": "ok", "scenarios": {"zero_latency": {"trials_per_s": 500.0}}},
        {"name": "inspect_ai", "status": "ok", "version": "0.3.285", "scenarios": {"zero_latency": {"trials_per_s": 100.0}}},
        {"name": "garak", "status": "not_run", "reason": "no network"}]}
    (results / "peers.json").write_text(json.dumps(tool_first))
    text = report.build(results)
    assert _rows(text)["Throughput vs inspect_ai, zero latency"][3] == "5.00x"
    assert "- **garak** (not_run): no network" in text

    without_safehub = {**tool_first, "tools": tool_first["tools"][1:]}
    (results / "peers.json").write_text(json.dumps(without_safehub))
    row = _rows(report.build(results))["Throughput vs inspect_ai, zero latency"]
    assert row[1] == "450.0 trials/s" and row[3] == "4.50x" and "from engine.json" in row[6]


def test_report_on_an_empty_folder_lists_every_benchmark_as_not_measured(tmp_path):
    report = _report_module()
    (tmp_path / "results").mkdir()
    text = report.build(tmp_path / "results")
    rows = _rows(text)
    assert [name for name, _, _ in report.SOURCES] == [name.removesuffix(" figures") for name in rows]
    assert all(row[1] == "not measured" for row in rows.values())
    assert "no peer was measured" in text


def test_a_peer_run_at_its_own_concurrency_says_so(tmp_path):
    report = _report_module()
    results = _write_fixtures(tmp_path / "results")
    sequential = json.loads(json.dumps(PEERS))
    zero = sequential["scenarios"]["zero_latency"]
    zero["garak_parallel_attempts"] = 1
    zero["tools"]["garak"] = {"status": "ok", "median": {"trials_per_s": 250.0}}
    zero["ratios"]["safehub/garak"] = 2.0
    (results / "peers.json").write_text(json.dumps(sequential))
    rows = _rows(report.build(results))
    assert rows["Throughput vs garak, zero latency"][6].startswith("2,000 trials, safehub 200 in flight, garak sequential: ")
    assert rows["Throughput vs inspect_ai, zero latency"][6].startswith("2,000 trials, 200 in flight: ")
