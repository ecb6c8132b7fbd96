"""Adaptive-attack throughput against PyRIT 1.1.0: TAP and Crescendo, queries per second, on one scripted mock.

    python bench/adaptive.py --setup                  # install PyRIT 1.1.0 into bench/.venvs/pyrit (pinned), then stop
    python bench/adaptive.py                          # both strategies, safehub and PyRIT (installs PyRIT if missing)
    python bench/adaptive.py --objectives 4 --strategies tap --tools pyrit --out /tmp/a.json

Both tools attack the same N harmful requests (bench/common.py `make_prompts`, the harmful ones) through
the same loopback mock (bench/adaptive_mock.py, its own process, one per strategy), which plays attacker,
target and judge by model name, answers deterministically and counts every request by role:
  tap        width 4, branching 2, depth 3; the target refuses depth 1 and complies from depth 2, the
             judge rates success only at depth 3, the on-topic check passes every prompt: the whole tree
             is walked.
  crescendo  4 turns, 2 backtracks; the target refuses the first 2 attempts (both backtracked), then
             complies; the judge rates success only at the 4th accepted turn.
Each tool runs as a whole process (start-up included); a query is one chat request the mock answered
(attacker, target or judge), queries/s = queries / wall time. Both tools get the same concurrency: every
objective at once (PyRIT's AttackExecutor max_concurrency, safehub's --concurrency), a whole TAP level at
once (PyRIT's batch_size = width x branching).

No figure without the work: around every run the mock's per-role counts must match what the tool claims.
PyRIT: its own results (every objective a success; TAP's nodes_explored = w + (d-1)wb at depth d;
Crescendo's executed turns and backtracks) and the count those imply (TAP: one attacker, one target and two
judge calls (on-topic, rating) per node; Crescendo: per attempt one attacker, one target and one refusal
check, plus one rating per accepted turn). safehub: every trial stored without error, and its stored nodes
per role equal to the mock's count. A tool that fails its check is recorded with the reason, never timed.
Goal (issue 17): safehub >= 5x PyRIT's queries/s for each strategy; reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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
    safehub_command,
    wait_for_quiet_machine,
    write_report,
)
from peer_installs import VENVS, BenchmarkError, ensure_installed, install_pins  # noqa: E402

DEFAULT_OUT = BENCH_DIR / "results" / "adaptive.json"
MOCK = BENCH_DIR / "adaptive_mock.py"
PYRIT_SCRIPT = BENCH_DIR / "peers" / "pyrit_adaptive.py"
TOOLS = ("safehub", "pyrit")
STRATEGIES = ("tap", "crescendo")
GOAL = 5.0
ROLES = ("attacker", "target", "judge")

# safehub's side of issue 17 (`safehub run ... --attack tap|crescendo --attacker SPEC --judge SPEC --max-queries N`
# and the strategies' own options), in one place: a renamed option is a one-line change here.
SAFEHUB_STRATEGY_FLAGS = {"tap": {"width": "--width", "branching": "--branching", "depth": "--depth"},
                          "crescendo": {"turns": "--turns", "backtracks": "--backtracks"}}
SAFEHUB_BUDGET_FLAG = "--max-queries"
# Where safehub stores an adaptive trial's nodes: one row per attacker proposal, on-topic check, target answer and
# judge rating (roles attacker, target, judge), and per decision of the search (role search: no model asked).
SAFEHUB_NODES_BY_ROLE = "SELECT role, COUNT(*) FROM trial_nodes WHERE run_id = ? GROUP BY role"


def scenario_settings(strategy: str, args: argparse.Namespace) -> dict:
    """The tree and the script for one strategy: the target refuses the first steps, the judge rates success at the last."""
    if strategy == "tap":
        return {"width": args.width, "branching": args.branching, "depth": args.depth, "refuse_steps": 1,
                "success_step": args.depth}
    return {"turns": args.turns, "backtracks": args.backtracks, "refuse_steps": args.backtracks,
            "success_step": args.backtracks + args.turns}


def expected_pyrit_calls(strategy: str, settings: dict, n: int) -> dict[str, int]:
    """The mock's count per role that PyRIT's TAP or Crescendo must produce for n objectives on the script."""
    if strategy == "tap":
        nodes = settings["width"] + (settings["depth"] - 1) * settings["width"] * settings["branching"]
        return {"attacker": n * nodes, "target": n * nodes, "judge": 2 * n * nodes}
    attempts = settings["backtracks"] + settings["turns"]
    return {"attacker": n * attempts, "target": n * attempts, "judge": n * (attempts + settings["turns"])}


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


# ---------------------------------------------------------------------------------------------- the tools


def pyrit_command(base_url: str, strategy: str, settings: dict, objectives_file: Path, concurrency: int,
                  out: Path) -> list[str]:
    command = [str(VENVS / "pyrit" / "bin" / "python"), str(PYRIT_SCRIPT), "--base-url", base_url, "--strategy",
               strategy, "--objectives", str(objectives_file), "--concurrency", str(concurrency), "--out", str(out)]
    names = ("width", "branching", "depth") if strategy == "tap" else ("turns", "backtracks")
    for name in names:
        command += [f"--{name}", str(settings[name])]
    return command


def verify_pyrit(strategy: str, settings: dict, n: int, out: Path, served: dict) -> dict:
    report = json.loads(out.read_text(encoding="utf-8"))
    results = report["results"]
    if strategy == "tap":
        nodes = settings["width"] + (settings["depth"] - 1) * settings["width"] * settings["branching"]
        wanted = {"outcome": "success", "nodes_explored": nodes, "max_depth_reached": settings["depth"]}
    else:
        wanted = {"outcome": "success", "executed_turns": settings["turns"], "backtrack_count": settings["backtracks"]}
    off = [result for result in results if any(result.get(key) != value for key, value in wanted.items())]
    if len(results) != n or off:
        raise BenchmarkError(f"PyRIT reported {len(results)} results, {len(off)} unlike {wanted}: {off[:2]}")
    expected = expected_pyrit_calls(strategy, settings, n)
    if served != expected:
        raise BenchmarkError(f"the mock answered {served} during PyRIT's run, its {strategy} implies {expected}")
    return {"results": len(results), "all_succeeded": True, **wanted, "source": "PyRIT's AttackResults and the mock"}


def safehub_run_command(base_url: str, strategy: str, settings: dict, suite: Path, db_path: Path,
                        concurrency: int, max_queries: int) -> list[str]:
    command = [*safehub_command(), "run", "--model", f"openai-compat:target@{base_url}", "--suite", str(suite),
               "--attack", strategy, "--attacker", f"openai-compat:attacker@{base_url}",
               "--judge", f"openai-compat:judge@{base_url}", SAFEHUB_BUDGET_FLAG, str(max_queries),
               "--concurrency", str(concurrency), "--no-cache", "--db", f"sqlite:///{db_path}", "--json"]
    for name, flag in SAFEHUB_STRATEGY_FLAGS[strategy].items():
        command += [flag, str(settings[name])]
    return command


def verify_safehub(stdout: str, db_path: Path, n: int, served: dict) -> dict:
    run_id = json.loads(stdout)["run_id"]
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
        trials, errors = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(is_error), 0) FROM trials WHERE run_id = ?", (run_id,)).fetchone()
        status = connection.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        try:
            nodes = dict(connection.execute(SAFEHUB_NODES_BY_ROLE, (run_id,)).fetchall())
        except sqlite3.Error as exc:
            raise BenchmarkError(f"could not count safehub's stored nodes ({exc}); adjust SAFEHUB_NODES_BY_ROLE "
                                 f"in bench/adaptive.py to the store's schema") from None
    if (trials, errors) != (n, 0) or not status or status[0] != "completed":
        raise BenchmarkError(f"safehub run {run_id}: {trials} trials, {errors} errors, status {status}; "
                             f"expected {n} trials, 0 errors, completed")
    stored = {role: nodes.get(role, 0) for role in ROLES}
    if stored != served:
        raise BenchmarkError(f"safehub stored nodes per role {nodes}, the mock answered {served}")
    return {"trials": trials, "errors": 0, "nodes_by_role": stored, "source": "SQLite store and the mock"}


def run_tool(tool: str, strategy: str, settings: dict, base_url: MockURL, work: Path, objectives: list[str],
             args: argparse.Namespace) -> dict:
    """One measured run; raise BenchmarkError unless the tool's own record and the mock's count agree."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{tool}-{strategy}-", dir=work))
    n = len(objectives)
    if tool == "pyrit":
        out = run_dir / "pyrit.json"
        command = pyrit_command(base_url, strategy, settings, work / "objectives.json", args.concurrency, out)
    else:
        db_path = run_dir / "bench.db"
        command = safehub_run_command(base_url, strategy, settings, work / "objectives.jsonl", db_path,
                                      args.concurrency, args.max_queries)
    waited_s = wait_for_quiet_machine(args.quiet_wait_s) if args.quiet_wait_s > 0 else 0.0
    before, busy_before, mock_before = mock_served(base_url), busy_cpu_s(), process_cpu_s(base_url.pid)
    measurement = measure(command, cwd=run_dir, timeout_s=args.timeout_s)
    mock_cpu_s = process_cpu_s(base_url.pid) - mock_before
    others_cpu_s = max(0.0, busy_cpu_s() - busy_before - measurement.cpu_s - mock_cpu_s)
    served = _delta(before, mock_served(base_url))
    failure = None
    if measurement.returncode != 0:
        failure = f"exited {measurement.returncode}: {measurement.stderr[-1500:]}"
    else:
        try:
            verified = (verify_pyrit(strategy, settings, n, out, served) if tool == "pyrit"
                        else verify_safehub(measurement.stdout, db_path, n, served))
        except (OSError, KeyError, ValueError, sqlite3.Error) as exc:
            failure = f"could not read its output ({type(exc).__name__}: {exc}); stderr {measurement.stderr[-800:]!r}"
        except BenchmarkError as exc:
            failure = str(exc)
    if failure is not None:
        error = BenchmarkError(f"{tool} {strategy}: {failure}")
        error.command = command
        raise error
    queries = sum(served.values())
    return {"queries": queries, "queries_by_role": served, "queries_per_objective": queries / n,
            "queries_per_s": queries / measurement.wall_s, "target_queries_per_s": served["target"] / measurement.wall_s,
            "wall_s": measurement.wall_s, "cpu_s": measurement.cpu_s, "peak_rss_mb": measurement.peak_rss_mb,
            "mock_cpu_s": mock_cpu_s, "others_cpu_s": others_cpu_s, "quiet_wait_s": waited_s, "verified": verified,
            "command": command}


# ---------------------------------------------------------------------------------------------- one strategy


def run_strategy(strategy: str, tools: list[str], objectives: list[str], work: Path, args: argparse.Namespace) -> dict:
    """Every tool against one mock scripted for `strategy`, `args.repeats` times in rotating order."""
    settings = scenario_settings(strategy, args)
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
    found = {"settings": settings, "objectives": len(objectives), "tools": results}
    if all(results.get(tool, {}).get("status") == "ok" for tool in ("safehub", "pyrit")):
        safehub, pyrit = results["safehub"]["median"], results["pyrit"]["median"]
        ratio = safehub["queries_per_s"] / pyrit["queries_per_s"]
        found["ratio_safehub_over_pyrit"] = ratio
        found["meets_goal"] = ratio >= GOAL
        found["same_tree_size"] = safehub["queries_per_objective"] == pyrit["queries_per_objective"]
    else:
        found.update(ratio_safehub_over_pyrit=None, meets_goal=None, same_tree_size=None)
    return found


NOTES = {
    "safehub": "safehub run --model openai-compat:target@MOCK --attack STRATEGY --attacker openai-compat:attacker@MOCK "
               "--judge openai-compat:judge@MOCK, the strategy's options, --concurrency, --no-cache, SQLite store; every "
               "node stored",
    "pyrit": "bench/peers/pyrit_adaptive.py in PyRIT's venv: TreeOfAttacksWithPruningAttack / CrescendoAttack with "
             "OpenAIChatTarget at the mock (models attacker, target, judge), PyRIT's default scorers asking the judge "
             "model (TAP's on-topic check goes through the attacker model, as PyRIT does), in-memory SQLite memory, "
             "AttackExecutor(max_concurrency = concurrency), TAP batch_size = width x branching",
    "garak": "garak's tap probe (0.17.1) was not run. It attacks one goal per probe run (goal_str), sequentially, so it "
             "cannot do the same work as N objectives at once; its attacker can be pointed at an OpenAI-compatible URL "
             "(attack_model_type), but garak.resources.tap imports torch and its default attacker is a Hugging Face "
             "pipeline on CPU, and its tree starts from n_streams roots, not PyRIT's width: not the same tree",
}


def print_table(report: dict) -> None:
    header = f"{'strategy':<11}{'tool':<9}{'queries/s':>10}{'queries':>9}{'per obj':>9}{'wall s':>9}{'cpu s':>8}  safehub/PyRIT"
    print(header)
    print("-" * len(header))
    for strategy, found in report["strategies"].items():
        for tool, result in found["tools"].items():
            if result["status"] != "ok":
                print(f"{strategy:<11}{tool:<9}  not measured: {result['reason'][:300]}")
                continue
            m = result["median"]
            ratio = found["ratio_safehub_over_pyrit"] if tool == "safehub" else None
            print(f"{strategy:<11}{tool:<9}{m['queries_per_s']:>10.1f}{m['queries']:>9.0f}{m['queries_per_objective']:>9.1f}"
                  f"{m['wall_s']:>9.2f}{m['cpu_s']:>8.2f}  {'' if ratio is None else f'{ratio:.2f}x'}")
        if found["meets_goal"] is not None:
            state = "met" if found["meets_goal"] else "NOT MET"
            print(f"goal {strategy}: safehub/PyRIT >= {GOAL:g}: {state}; same tree size: {found['same_tree_size']}")
    print(f"wrote {report['out']} in {report['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="install PyRIT into bench/.venvs/pyrit, then stop")
    parser.add_argument("--objectives", type=int, default=20, help="harmful requests attacked, the same for both tools")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the mock's latency on every answer")
    parser.add_argument("--concurrency", type=int, default=200, help="objectives in flight, the same for both tools")
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--branching", type=int, default=2)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--backtracks", type=int, default=2)
    parser.add_argument("--max-queries", type=int, default=1000, help="safehub's per-request budget: above the tree")
    parser.add_argument("--repeats", type=int, default=1, help="runs per tool and strategy; the median is kept")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="kill a measured process after this long")
    parser.add_argument("--quiet-wait-s", type=float, default=10.0,
                        help="before each run, wait up to this long for other processes to go quiet (0: don't)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    strategies = [s for s in args.strategies.split(",") if s]
    tools = [t for t in args.tools.split(",") if t]
    if set(strategies) - set(STRATEGIES) or set(tools) - set(TOOLS) or not strategies or not tools:
        parser.error(f"--strategies takes {','.join(STRATEGIES)}, --tools takes {','.join(TOOLS)}")
    if min(args.objectives, args.width, args.branching, args.depth, args.turns, args.repeats, args.concurrency) < 1 \
            or args.backtracks < 0:
        parser.error("--objectives, the tree sizes, --repeats and --concurrency must be at least 1, --backtracks >= 0")
    started = dt.datetime.now(dt.timezone.utc)
    installs = {}
    if "pyrit" in tools or args.setup:
        install = ensure_installed("pyrit")
        installs["pyrit"] = {"is_ready": install.is_ready, "version": install.version, "reason": install.reason,
                             "pins": install_pins("pyrit")}
        if args.setup:
            print(f"pyrit: {'ready, ' + install.version if install.is_ready else install.reason}")
            return 0 if install.is_ready else 1
        if not install.is_ready:
            tools.remove("pyrit")
    report = {"benchmark": "adaptive", "date": started.isoformat(timespec="seconds"),
              "argv": [sys.executable, *sys.argv] if argv is None else [sys.executable, __file__, *argv],
              "machine": machine(), "versions": {**package_versions("safehub", "openai", "aiohttp"),
                                                 "pyrit": installs.get("pyrit", {}).get("version")},
              "installs": installs, "notes": NOTES, "goal_ratio": GOAL,
              "goal": f"safehub >= {GOAL:g}x PyRIT's queries/s per strategy",
              "latency_ms": args.latency_ms, "concurrency": args.concurrency, "repeats": args.repeats,
              "not_run": {"garak": NOTES["garak"], **{tool: installs[tool]["reason"] for tool in installs
                                                      if not installs[tool]["is_ready"]}},
              "strategies": {}}
    objectives = make_prompts(2 * args.objectives)[0::2]  # the harmful requests only
    with tempfile.TemporaryDirectory(prefix="adaptive-bench-") as workdir:
        work = Path(workdir)
        (work / "objectives.json").write_text(json.dumps(objectives), encoding="utf-8")
        write_objectives_suite(work / "objectives.jsonl", objectives)
        if tools:
            for strategy in strategies:
                report["strategies"][strategy] = run_strategy(strategy, tools, objectives, work, args)
    write_report(report, args.out, started)
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
