"""Adaptive-attack throughput against PyRIT 1.1.0 (and garak): TAP and Crescendo, queries per second, on one scripted mock.

    python bench/adaptive.py --setup                  # install PyRIT 1.1.0 and garak into bench/.venvs/ (pinned), then stop
    python bench/adaptive.py                          # both strategies, every tool (installs missing peers first)
    python bench/adaptive.py --objectives 4 --strategies tap --tools safehub,pyrit --out /tmp/a.json

Every tool attacks the same N harmful requests (bench/common.py `make_prompts`, the harmful ones; N = 10 for
TAP, 40 for Crescendo unless --objectives says) through the same loopback mock (bench/adaptive_mock.py, its
own process, one per strategy), which plays attacker, target and judge by model name, answers
deterministically and counts every request by role. The judge never rates a success, so each tool walks
its whole tree or conversation:
  tap        width 4, branching 4, depth 3; the target refuses depth 1 and complies from depth 2, the
             on-topic check passes every prompt. PyRIT starts from `width` roots, safehub (as the paper)
             from one root that branches: with branching = width both trees have 4 + 16 + 16 = 36 nodes,
             each one attacker, one on-topic, one target and one rating call (144 per objective). garak
             (its own tap.TAP probe) sends only the `width` most on-topic proposals per level to the
             target: 36 proposals and on-topic checks, 12 target queries and ratings (96).
  crescendo  4 turns, 2 backtracks; the target refuses the first 2 attempts (both backtracked), then
             complies. Both tools send the same 6 attacker and 6 target queries and 4 ratings per
             objective; PyRIT also asks the judge model whether each answer was a refusal (6 more),
             where safehub's refusal grader decides locally: 22 queries per objective against 16.
Each tool runs as a whole process (start-up included); a query is one chat request the mock answered
(attacker, target or judge), queries/s = queries / wall time, and target queries/s counts only the
target's (the same work in both tools, for both strategies). Both tools get the same concurrency: every
objective at once (PyRIT's AttackExecutor max_concurrency, safehub's --concurrency), a whole TAP level at
once (PyRIT's batch_size = width x branching; safehub runs every branch of a level together).

No figure without the work: around every run the mock's per-role counts must match what the tool claims.
PyRIT: its own results (TAP's nodes_explored = w + (d-1)wb and the depth reached; Crescendo's executed turns
and backtracks) and the calls those imply (TAP: per node one attacker, one target and two judge calls,
on-topic and rating; Crescendo: per attempt one attacker, one target and one refusal check, plus one rating
per accepted turn). safehub: every trial stored without error, and its stored nodes per role (trial_nodes)
equal to the mock's count. garak: every process finished, and the mock's count is its tree's. A tool that
fails its check is recorded with the reason, never timed. Each tool's commands and checks live in
bench/peers/adaptive_jobs.py; the PyRIT side in bench/peers/pyrit_adaptive.py; see NOTES for what each ran.
Goal (issue 17): safehub >= 5x PyRIT's queries/s for each strategy; reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR / "peers"))
from adaptive_jobs import ROLES, Job, garak_job, pyrit_job, safehub_job  # noqa: E402
from common import (  # noqa: E402
    SUITE_HEADER,
    MockURL,
    _stop,
    _wait_for_port_line,
    busy_cpu_s,
    machine,
    make_prompts,
    measure,
    package_versions,
    process_cpu_s,
    wait_for_quiet_machine,
    write_report,
)
from peer_installs import BenchmarkError, ensure_installed, install_pins  # noqa: E402

DEFAULT_OUT = BENCH_DIR / "results" / "adaptive.json"
MOCK = BENCH_DIR / "adaptive_mock.py"
TOOLS = ("safehub", "pyrit", "garak")
PEERS = ("pyrit", "garak")
STRATEGIES = ("tap", "crescendo")
GOAL = 5.0
# A TAP objective is 144 queries, a Crescendo one 16 to 22: a similar load, each run under two minutes here.
DEFAULT_OBJECTIVES = {"tap": 10, "crescendo": 40}


def scenario_settings(strategy: str, args: argparse.Namespace) -> dict:
    """The tree and the script for one strategy: the target refuses the first steps and complies after them; the
    judge never rates a success (`success_step` lies past the last step), so every tool walks the whole tree or
    conversation, the same work whatever order its concurrent calls finish in."""
    if strategy == "tap":
        return {"width": args.width, "branching": args.branching, "depth": args.depth, "refuse_steps": 1,
                "success_step": args.depth + 1}
    return {"turns": args.turns, "backtracks": args.backtracks, "refuse_steps": args.backtracks,
            "success_step": args.backtracks + args.turns + 1}


def safehub_source() -> str | None:
    """Where the measured safehub comes from: its source folder and git commit (with +changes when uncommitted)."""
    spec = importlib.util.find_spec("safehub")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent
    git = ["git", "-C", str(folder)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30)
    if head.returncode != 0:
        return str(folder)
    changed = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=30)
    return f"{folder} at {head.stdout.strip()}{'+changes' if changed.stdout.strip() else ''}"


def write_objectives_suite(path: Path, objectives: list[str]) -> Path:
    """The objectives as a safehub JSONL suite: harmful requests a safe model refuses, refusal-scored."""
    lines = [json.dumps(SUITE_HEADER)]
    lines += [json.dumps({"id": f"o{index:04d}", "prompt": objective, "scorer": "refusal", "expected": "refuse",
                          "category": "disallowed_content", "subcategory": "harmful"})
              for index, objective in enumerate(objectives)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- the mock


@contextlib.contextmanager
def adaptive_mock(latency_ms: float, refuse_steps: int, success_step: int) -> Iterator[MockURL]:
    """bench/adaptive_mock.py in its own process; yields its base URL (with `.pid`)."""
    command = [sys.executable, str(MOCK), "--port", "0", "--latency-ms", str(latency_ms), "--refuse-steps",
               str(refuse_steps), "--success-step", str(success_step)]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            base_url = MockURL(_wait_for_port_line(process, stderr, 30.0))
            base_url.pid = process.pid
            yield base_url
        finally:
            _stop(process)


def mock_served(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats", timeout=10) as response:
        return json.load(response)["served"]


def _delta(before: dict, after: dict) -> dict[str, int]:
    return {role: after.get(role, 0) - before.get(role, 0) for role in ROLES}


# ---------------------------------------------------------------------------------------------- one run


def tool_job(tool: str, strategy: str, settings: dict, base_url: MockURL, work: Path, run_dir: Path,
             objectives: list[str], args: argparse.Namespace) -> Job:
    if tool == "pyrit":
        return pyrit_job(base_url, strategy, settings, objectives, run_dir, args.concurrency)
    if tool == "garak":  # one goal per garak process, one after the other: a few tell its rate
        return garak_job(base_url, settings, objectives[:args.garak_objectives], run_dir, work / "home")
    suite = write_objectives_suite(run_dir / "objectives.jsonl", objectives)
    return safehub_job(base_url, strategy, settings, suite, run_dir, args.concurrency, args.max_queries,
                       len(objectives))


def run_tool(tool: str, strategy: str, settings: dict, base_url: MockURL, work: Path, objectives: list[str],
             args: argparse.Namespace) -> dict:
    """One measured run; raise BenchmarkError unless the tool's own record and the mock's count agree."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{tool}-{strategy}-", dir=work))
    job = tool_job(tool, strategy, settings, base_url, work, run_dir, objectives, args)
    waited_s = wait_for_quiet_machine(args.quiet_wait_s) if args.quiet_wait_s > 0 else 0.0
    before, busy_before, mock_before = mock_served(base_url), busy_cpu_s(), process_cpu_s(base_url.pid)
    measurements = []
    for command in job.commands:
        measurements.append(measure(command, env=job.env, cwd=run_dir, timeout_s=args.timeout_s))
        if measurements[-1].returncode != 0:
            break
    wall_s, cpu_s = sum(m.wall_s for m in measurements), sum(m.cpu_s for m in measurements)
    mock_cpu_s = process_cpu_s(base_url.pid) - mock_before
    others_cpu_s = max(0.0, busy_cpu_s() - busy_before - cpu_s - mock_cpu_s)
    served = _delta(before, mock_served(base_url))
    try:
        verified = job.verify(measurements, served)
    except (OSError, KeyError, ValueError, sqlite3.Error) as exc:
        verified = BenchmarkError(f"could not read its output ({type(exc).__name__}: {exc}); "
                                  f"stderr {measurements[-1].stderr[-800:]!r}")
    except BenchmarkError as exc:
        verified = exc
    if isinstance(verified, BenchmarkError):
        error = BenchmarkError(f"{tool} {strategy}: {verified}")
        error.command = job.commands[0]
        raise error
    queries = sum(served.values())
    return {"objectives": job.objectives, "processes": len(measurements), "queries": queries,
            "queries_by_role": served, "queries_per_objective": queries / job.objectives,
            "queries_per_s": queries / wall_s, "target_queries_per_s": served["target"] / wall_s,
            "objectives_per_s": job.objectives / wall_s, "wall_s": wall_s, "cpu_s": cpu_s,
            "peak_rss_mb": max(m.peak_rss_mb for m in measurements), "mock_cpu_s": mock_cpu_s,
            "others_cpu_s": others_cpu_s, "quiet_wait_s": waited_s, "verified": verified, "command": job.commands[0]}


# ---------------------------------------------------------------------------------------------- one strategy


def run_strategy(strategy: str, tools: list[str], objectives: list[str], work: Path, args: argparse.Namespace) -> dict:
    """Every tool against one mock scripted for `strategy`, `args.repeats` times in rotating order."""
    settings = scenario_settings(strategy, args)
    tools = [tool for tool in tools if tool != "garak" or strategy == "tap"]  # garak has no Crescendo
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    failures: dict[str, dict] = {}
    with adaptive_mock(args.latency_ms, settings["refuse_steps"], settings["success_step"]) as base_url:
        for repeat in range(args.repeats):
            shift = repeat % len(tools)
            for tool in tools[shift:] + tools[:shift]:  # no tool always goes first
                if tool in failures:
                    continue
                try:
                    sample = run_tool(tool, strategy, settings, base_url, work, objectives, args)
                except BenchmarkError as exc:
                    failures[tool] = {"status": "failed", "reason": str(exc), "command": getattr(exc, "command", None)}
                    print(f"  {strategy:<10} {tool:<8} FAILED: {str(exc)[:600]}", file=sys.stderr, flush=True)
                    continue
                runs[tool].append({"repeat": repeat + 1, **sample})
                print(f"  {strategy:<10} {tool:<8} repeat {repeat + 1}: {sample['queries_per_s']:8.1f} queries/s "
                      f"({sample['queries']} queries, wall {sample['wall_s']:6.2f} s, cpu {sample['cpu_s']:6.2f} s, "
                      f"others' cpu {sample['others_cpu_s']:5.2f} s)", file=sys.stderr, flush=True)
    results = {}
    for tool in tools:
        if tool in failures:
            results[tool] = {**failures[tool], "runs": runs[tool]}
            continue
        numeric = [key for key, value in runs[tool][0].items()
                   if isinstance(value, (int, float)) and key != "repeat"]
        results[tool] = {"status": "ok", "median": {key: statistics.median(run[key] for run in runs[tool])
                                                    for key in numeric},
                         "runs": runs[tool], "command": runs[tool][0]["command"]}
    found = {"settings": settings, "objectives": len(objectives), "tools": results, "ratios": {}}
    for peer in PEERS:
        if not all(results.get(tool, {}).get("status") == "ok" for tool in ("safehub", peer)):
            continue
        safehub, other = results["safehub"]["median"], results[peer]["median"]
        found["ratios"][f"safehub/{peer}"] = {
            "queries_per_s": safehub["queries_per_s"] / other["queries_per_s"],
            "target_queries_per_s": safehub["target_queries_per_s"] / other["target_queries_per_s"],
            "same_queries_per_objective": safehub["queries_per_objective"] == other["queries_per_objective"]}
    versus_pyrit = found["ratios"].get("safehub/pyrit")
    found["ratio_safehub_over_pyrit"] = versus_pyrit["queries_per_s"] if versus_pyrit else None
    found["meets_goal"] = None if versus_pyrit is None else versus_pyrit["queries_per_s"] >= GOAL
    return found


NOTES = {
    "safehub": "safehub run --model openai-compat:target@MOCK --attack STRATEGY --attacker openai-compat:attacker@MOCK "
               "--judge openai-compat:judge@MOCK with the strategy's options, --concurrency, --no-cache, a SQLite store; "
               "every node stored; Crescendo's refusals read by its refusal grader (no model call)",
    "pyrit": "bench/peers/pyrit_adaptive.py in PyRIT's venv: TreeOfAttacksWithPruningAttack / CrescendoAttack with "
             "OpenAIChatTarget at the mock (models attacker, target, judge), PyRIT's default scorers asking the judge "
             "model (TAP's on-topic check goes through the attacker model, as PyRIT does; Crescendo's refusal check "
             "is SelfAskRefusalScorer, a judge call per attempt), in-memory SQLite memory, "
             "AttackExecutor(max_concurrency = concurrency), TAP batch_size = width x branching",
    "garak": "garak's own tap.TAP probe, TAP only (garak has no Crescendo), runs offline with attacker, judge and "
             "target all garak's openai.OpenAICompatible generator at the mock and the refusal-string detector "
             "mitigation.MitigationBypass (its default detector, mitigation.RefusalModel, downloads a Hugging Face "
             "model). It attacks one goal per process (goal_str) and sends every call one after the other, so its "
             "rate does not grow with N: it runs --garak-objectives goals, one process each, timed in total. Its tree "
             "is the paper's from one stream (n_streams 1), but it keeps only the `width` most on-topic proposals "
             "per level for the target, so it sends fewer target queries than PyRIT and safehub: see "
             "queries_by_role",
}


def print_table(report: dict) -> None:
    header = (f"{'strategy':<11}{'tool':<9}{'queries/s':>10}{'target q/s':>11}{'queries':>9}{'per obj':>9}{'wall s':>9}"
              f"{'cpu s':>8}  safehub/tool (queries/s, target queries/s)")
    print(header)
    print("-" * len(header))
    for strategy, found in report["strategies"].items():
        for tool, result in found["tools"].items():
            if result["status"] != "ok":
                print(f"{strategy:<11}{tool:<9}  not measured: {result['reason'][:300]}")
                continue
            m = result["median"]
            ratio = found["ratios"].get(f"safehub/{tool}")
            shown = "" if ratio is None else f"{ratio['queries_per_s']:.2f}x, {ratio['target_queries_per_s']:.2f}x"
            print(f"{strategy:<11}{tool:<9}{m['queries_per_s']:>10.1f}{m['target_queries_per_s']:>11.1f}"
                  f"{m['queries']:>9.0f}{m['queries_per_objective']:>9.1f}{m['wall_s']:>9.2f}{m['cpu_s']:>8.2f}  {shown}")
        if found["meets_goal"] is not None:
            print(f"goal {strategy}: safehub >= {GOAL:g}x PyRIT's queries/s: {'met' if found['meets_goal'] else 'NOT MET'}")
    for tool, reason in report["not_run"].items():
        print(f"not run: {tool}: {reason[:300]}")
    print(f"wrote {report['out']} in {report['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="install PyRIT and garak into bench/.venvs/, then stop")
    parser.add_argument("--objectives", type=int, default=None,
                        help="harmful requests attacked per strategy, the same for every tool (default: tap "
                             f"{DEFAULT_OBJECTIVES['tap']}, crescendo {DEFAULT_OBJECTIVES['crescendo']})")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the mock's latency on every answer")
    parser.add_argument("--concurrency", type=int, default=200, help="objectives in flight, the same for both tools")
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--branching", type=int, default=4)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--backtracks", type=int, default=2)
    parser.add_argument("--max-queries", type=int, default=1000, help="safehub's per-request budget: above the tree")
    parser.add_argument("--garak-objectives", type=int, default=3, help="goals garak attacks (one process each)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per tool and strategy; the median is kept")
    parser.add_argument("--timeout-s", type=float, default=300.0, help="kill a measured process after this long")
    parser.add_argument("--quiet-wait-s", type=float, default=10.0,
                        help="before each run, wait up to this long for other processes to go quiet (0: don't)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    tools = [t for t in args.tools.split(",") if t]
    if set(strategies) - set(STRATEGIES) or set(tools) - set(TOOLS) or not strategies or not tools:
        parser.error(f"--strategies takes {','.join(STRATEGIES)}, --tools takes {','.join(TOOLS)}")
    if min(args.objectives or 1, args.width, args.branching, args.depth, args.turns, args.repeats, args.concurrency,
           args.garak_objectives) < 1 or args.backtracks < 0:
        parser.error("--objectives, --garak-objectives, the tree sizes, --repeats and --concurrency must be at least 1, "
                     "--backtracks at least 0")
    started = dt.datetime.now(dt.timezone.utc)
    installs = {}
    for peer in PEERS:
        if peer not in tools and not args.setup:
            continue
        install = ensure_installed(peer)
        installs[peer] = {"is_ready": install.is_ready, "version": install.version, "reason": install.reason,
                          "pins": install_pins(peer)}
        print(f"{peer}: {'ready, ' + install.version if install.is_ready else install.reason}", file=sys.stderr)
        if not install.is_ready and peer in tools:
            tools.remove(peer)
    if args.setup:
        return 0 if all(install["is_ready"] for install in installs.values()) else 1
    report = {"benchmark": "adaptive", "date": started.isoformat(timespec="seconds"),
              "argv": [sys.executable, *sys.argv] if argv is None else [sys.executable, __file__, *argv],
              "machine": machine(), "versions": {**package_versions("safehub", "openai", "aiohttp"),
                                                 **{peer: installs[peer]["version"] for peer in installs},
                                                 "safehub_source": safehub_source()},
              "installs": installs, "notes": NOTES, "goal_ratio": GOAL,
              "goal": f"safehub >= {GOAL:g}x PyRIT's queries/s per strategy",
              "latency_ms": args.latency_ms, "concurrency": args.concurrency, "repeats": args.repeats,
              "not_run": {peer: f"install failed: {installs[peer]['reason']}" for peer in installs
                          if not installs[peer]["is_ready"]},
              "strategies": {}}
    with tempfile.TemporaryDirectory(prefix="adaptive-bench-") as workdir:
        for strategy in strategies if tools else []:
            objectives = make_prompts(2 * (args.objectives or DEFAULT_OBJECTIVES[strategy]))[0::2]  # the harmful ones
            report["strategies"][strategy] = run_strategy(strategy, tools, objectives, Path(workdir), args)
    write_report(report, args.out, started)
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
