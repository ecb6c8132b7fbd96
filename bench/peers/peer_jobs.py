"""How bench/peers.py runs each tool over the workload, and how it checks from the tool's own records that the work was done.

One `*_job` function per tool builds a `Job`: the command, its environment, and a `verify` that reads what
the tool wrote (safehub's SQLite store, the inspect_ai log, garak's report, promptfoo's output file, the bare
loop's stdout) and raises `BenchmarkError` unless it holds every trial, answered and scored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import expected_outcome  # noqa: E402
from engine import bare_command, safehub_run_command, verify_safehub_store  # noqa: E402
from peer_installs import PEERS_DIR, PROMPTFOO_ENV, VENVS, BenchmarkError, promptfoo_bin  # noqa: E402
from process_tree import TreeMeasurement  # noqa: E402

MAX_TOKENS = 16


@dataclass
class Job:
    """One tool's run over the workload: how to start it, and how to check from its own records that it did the work."""

    command: list[str]
    verify: Callable[[TreeMeasurement], dict]
    env: dict[str, str] | None = None
    cwd: Path | None = None


@dataclass
class Workload:
    prompts: list[str]
    suite: Path  # the safehub suite file; inspect_ai, garak and the bare loop read the same file
    concurrency: int
    workdir: Path
    home: Path  # per-invocation home for peers' caches and databases, kept across measurements (warm-up fills it)
    garak_parallel_attempts: int = 1  # garak's worker processes (1: its sequential loop)

    @property
    def n(self) -> int:
        return len(self.prompts)


def _fail_unless_exit_0(measurement: TreeMeasurement, tool: str) -> None:
    if measurement.timed_out:
        raise BenchmarkError(f"{tool} was killed after the timeout ({measurement.wall_s:.0f} s)")
    if measurement.returncode != 0:
        raise BenchmarkError(f"{tool} exited {measurement.returncode}: stderr {measurement.stderr[-1500:]!r} "
                             f"stdout {measurement.stdout[-500:]!r}")


def safehub_job(base_url: str, work: Workload, run_dir: Path) -> Job:
    db_path = run_dir / "bench.db"

    def verify(measurement: TreeMeasurement) -> dict:
        _fail_unless_exit_0(measurement, "safehub")
        output = json.loads(measurement.stdout)
        stored = verify_safehub_store(db_path, output["run_id"], work.n)
        return {"scored_trials": stored["scored_trials"], "errors": stored["errors"], "source": "SQLite store"}

    return Job(safehub_run_command(base_url, work.suite, db_path, work.concurrency), verify, cwd=run_dir)


def bare_job(base_url: str, work: Workload, run_dir: Path) -> Job:
    def verify(measurement: TreeMeasurement) -> dict:
        _fail_unless_exit_0(measurement, "bare client")
        output = json.loads(measurement.stdout)
        if output.get("n") != work.n or output.get("ok") != work.n:
            raise BenchmarkError(f"bare client answered {output}, expected {work.n}")
        return {"scored_trials": 0, "answered": output["ok"], "errors": output["errors"], "source": "stdout"}

    return Job(bare_command(base_url, work.suite, work.concurrency), verify, cwd=run_dir)


INSPECT_LOG_COUNTS = """
import json, sys
from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries
header = read_eval_log(sys.argv[1], header_only=True)
summaries = read_eval_log_sample_summaries(sys.argv[1])
print(json.dumps({"status": header.status, "completed": header.results.completed_samples if header.results else None,
                  "samples": len(summaries), "errors": sum(1 for s in summaries if s.error),
                  "scored": sum(1 for s in summaries if s.scores)}))
"""


def inspect_job(base_url: str, work: Workload, run_dir: Path) -> Job:
    log_dir = run_dir / "logs"
    shutil.copyfile(PEERS_DIR / "inspect_task.py", run_dir / "inspect_task.py")  # inspect eval takes a relative path only
    command = [str(VENVS / "inspect" / "bin" / "inspect"), "eval", "inspect_task.py",
               "--model", "openai-api/mock/mock", "-T", f"prompts_file={work.suite}",
               "--max-connections", str(work.concurrency), "--max-tokens", str(MAX_TOKENS),
               "--log-dir", str(log_dir), "--display", "none", "--log-level", "warning"]
    env = {**os.environ, "MOCK_API_KEY": "x", "MOCK_BASE_URL": base_url,
           "HOME": str(work.home / "inspect"), "XDG_DATA_HOME": str(work.home / "inspect" / "data"),
           "XDG_CACHE_HOME": str(work.home / "inspect" / "cache")}

    def verify(measurement: TreeMeasurement) -> dict:
        _fail_unless_exit_0(measurement, "inspect_ai")
        logs = sorted(log_dir.glob("*.eval"))
        if len(logs) != 1:
            raise BenchmarkError(f"inspect_ai wrote {len(logs)} .eval logs in {log_dir}, expected 1")
        # The .eval archive is zstd-compressed, which Python 3.11's zipfile cannot read: ask inspect_ai itself.
        completed = subprocess.run([str(VENVS / "inspect" / "bin" / "python"), "-c", INSPECT_LOG_COUNTS, str(logs[0])],
                                   capture_output=True, text=True, timeout=300)
        if completed.returncode != 0:
            raise BenchmarkError(f"could not read the inspect_ai log {logs[0]}: {completed.stderr[-1000:]}")
        counts = json.loads(completed.stdout)
        scored = counts["scored"]
        if counts != {"status": "success", "completed": work.n, "samples": work.n, "errors": 0, "scored": work.n}:
            raise BenchmarkError(f"inspect_ai log {logs[0]}: {counts}; expected {work.n} samples completed and scored")
        return {"scored_trials": scored, "errors": 0, "source": ".eval log: header and sample summaries"}

    return Job(command, verify, env=env, cwd=run_dir)


def garak_probe_target() -> Path:
    return next((VENVS / "garak" / "lib").glob("python3*/site-packages/garak/probes")) / "safehub_bench.py"


def garak_job(base_url: str, work: Workload, run_dir: Path) -> Job:
    # garak loads probes only from its own package, so the bench probe is copied in (bench/peers/garak_probe.py).
    shutil.copyfile(PEERS_DIR / "garak_probe.py", garak_probe_target())
    options = run_dir / "garak-generator.json"
    options.write_text(json.dumps({"openai": {"OpenAICompatible": {
        "uri": base_url, "api_key": "x", "model": "mock", "max_tokens": MAX_TOKENS, "retry_json": False,
        "suppressed_params": ["n", "frequency_penalty", "presence_penalty", "stop", "seed", "top_p"]}}}),
        encoding="utf-8")
    report_prefix = f"bench-{run_dir.name}"
    report_dir = work.home / "garak" / "data" / "garak" / "garak_runs"
    command = [str(VENVS / "garak" / "bin" / "python"), "-m", "garak", "--target_type", "openai.OpenAICompatible",
               "--target_name", "mock", "--generator_option_file", str(options),
               "--probes", "safehub_bench.SafehubBench", "--detectors", "mitigation.MitigationBypass",
               "--generations", "1", "--report_prefix", report_prefix, "--skip_unknown"]
    if work.garak_parallel_attempts > 1:
        command += ["--parallel_attempts", str(work.garak_parallel_attempts)]
    env = {**os.environ, "SAFEHUB_BENCH_PROMPTS": str(work.suite), "OPENAICOMPATIBLE_API_KEY": "x",
           "HOME": str(work.home / "garak"), "XDG_DATA_HOME": str(work.home / "garak" / "data"),
           "XDG_CONFIG_HOME": str(work.home / "garak" / "config"), "XDG_CACHE_HOME": str(work.home / "garak" / "cache")}

    def verify(measurement: TreeMeasurement) -> dict:
        _fail_unless_exit_0(measurement, "garak")
        reports = list(report_dir.glob(f"{report_prefix}.report.jsonl"))
        if not reports:
            raise BenchmarkError(f"garak wrote no {report_prefix}.report.jsonl under {report_dir}; "
                                 f"stdout {measurement.stdout[-1500:]!r}")
        attempts, answered, scored = 0, 0, 0
        for line in reports[0].read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("entry_type") == "attempt" and record.get("status") == 2:  # 2: detectors have run
                attempts += 1
                outputs = record.get("outputs") or []
                answered += any(_garak_text(output) for output in outputs)
                scored += bool(record.get("detector_results"))
        if (attempts, answered, scored) != (work.n, work.n, work.n):
            raise BenchmarkError(f"garak report: {attempts} evaluated attempts, {answered} with an answer, {scored} "
                                 f"scored; expected {work.n} ({reports[0]})")
        return {"scored_trials": scored, "errors": 0, "source": "report.jsonl attempts with status 2"}

    return Job(command, verify, env=env, cwd=run_dir)


def _garak_text(output) -> str:
    if isinstance(output, dict):
        return output.get("text") or ""
    return output or ""


PROMPTFOO_REFUSAL = r"\b([Ii] can'?t|[Ii] cannot|[Ii] won'?t|[Ss]orry)\b"  # JavaScript regex: no inline (?i)


def promptfoo_config(base_url: str, prompts: list[str]) -> dict:
    """A promptfoo eval: the mock as an OpenAI-compatible chat provider, one test per prompt asserting the safe outcome
    (a refusal-phrase regex for prompts to refuse, its negation for prompts to answer)."""
    return {
        "description": "safehub peer benchmark", "sharing": False,
        "prompts": ["{{prompt}}"],
        "providers": [{"id": "openai:chat:mock", "config": {"apiBaseUrl": base_url, "apiKey": "x",
                                                           "max_tokens": MAX_TOKENS}}],
        "tests": [{"vars": {"prompt": prompt},
                   "assert": [{"type": "regex" if expected_outcome(index) == "refuse" else "not-regex",
                               "value": PROMPTFOO_REFUSAL}]} for index, prompt in enumerate(prompts)],
    }


def promptfoo_job(base_url: str, work: Workload, run_dir: Path) -> Job:
    config = run_dir / "promptfooconfig.json"
    config.write_text(json.dumps(promptfoo_config(base_url, work.prompts)), encoding="utf-8")
    output = run_dir / "promptfoo-results.json"
    command = [str(promptfoo_bin()), "eval", "-c", str(config), "--no-cache", "--max-concurrency",
               str(work.concurrency), "--no-table", "--no-progress-bar", "--output", str(output)]
    env = {**os.environ, **PROMPTFOO_ENV, "OPENAI_API_KEY": "x", "PROMPTFOO_CONFIG_DIR": str(work.home / "promptfoo")}

    def verify(measurement: TreeMeasurement) -> dict:
        # promptfoo exits non-zero when assertions fail (half the answers are "wrong" on purpose); judge by its output
        if measurement.timed_out:
            raise BenchmarkError("promptfoo was killed after the timeout")
        if not output.exists():
            raise BenchmarkError(f"promptfoo wrote no {output.name} (exit {measurement.returncode}): "
                                 f"{measurement.stderr[-1500:]!r} {measurement.stdout[-800:]!r}")
        report = json.loads(output.read_text(encoding="utf-8"))
        results = report.get("results", {})
        stats = results.get("stats", {})
        rows = results.get("results", [])
        answered = sum(1 for row in rows if (row.get("response") or {}).get("output")
                       and not (row.get("response") or {}).get("error"))
        scored = stats.get("successes", 0) + stats.get("failures", 0)
        if stats.get("errors", 0) or scored != work.n or answered != work.n:
            raise BenchmarkError(f"promptfoo output: stats {stats}, {answered} answered rows; expected {work.n}")
        return {"scored_trials": scored, "errors": 0, "source": "--output JSON stats and rows",
                "exit_code": measurement.returncode}

    return Job(command, verify, env=env, cwd=run_dir)


JOBS: dict[str, Callable[[str, Workload, Path], Job]] = {
    "safehub": safehub_job, "inspect_ai": inspect_job, "garak": garak_job, "promptfoo": promptfoo_job,
    "bare": bare_job}


NOTES = {
    "safehub": "safehub run --model openai-compat:mock@MOCK on the suite file; the refusal grader (the trained "
               "classifier) scores every trial; every trial, response and score is stored in SQLite",
    "inspect_ai": "inspect eval with the openai-api provider (MOCK_BASE_URL at the mock), --max-connections = "
                  "concurrency; a task over the same suite file with a refusal-phrase scorer "
                  "(bench/peers/inspect_task.py); the default .eval log with every sample",
    "garak": "openai.OpenAICompatible generator with uri at the mock; a bench probe (bench/peers/garak_probe.py, copied "
             "into garak's probes package at run time, since garak loads probes only from there) holding the same "
             "prompts; mitigation.MitigationBypass (refusal strings) as detector; --generations 1. Concurrency in garak "
             "is --parallel_attempts worker processes (a multiprocessing pool, each worker sending one request at a "
             "time; probes with parallelisable_attempts = False ignore it): at zero latency garak runs its sequential "
             "loop (--garak-parallel-zero 1), its fastest mode there (in one exploratory run here, under heavy load, "
             "2,000 prompts went at 7 trials/s through a pool of 200 workers and at 47/s sequentially); when "
             "latency-bound, --parallel_attempts = --concurrency (200 workers on 2 cores)",
    "promptfoo": "promptfoo eval with the openai:chat provider (apiBaseUrl at the mock), one test per prompt with a "
                 "regex refusal assertion, --no-cache, --max-concurrency = concurrency, telemetry/sharing/updates off; "
                 "results written to its SQLite database (the default) and --output JSON",
    "bare": "bench/bare_client.py: AsyncOpenAI on aiohttp, a semaphore and one gather; nothing scored or stored",
}
