"""Throughput against the tools people use today: safehub, inspect_ai, garak, promptfoo and a bare client loop.

    python bench/peers.py --setup                 # install the peers into bench/.venvs/ (pinned), then stop
    python bench/peers.py                         # the benchmark (installs missing peers first)
    python bench/peers.py --prompts 20 --latency-trials 20 --tools safehub,bare --repeats 1 --out /tmp/p.json

Every tool sends the same prompts (bench/common.py `make_prompts`) to the same loopback mock
(bench/common.py `mock_server`, its own process), one mock per scenario shared by all tools:
  zero_latency    --prompts prompts (2,000), the mock answers at once: per-trial overhead
  latency_200ms   --latency-trials trials (5,000) at 200 ms each, concurrency 200: the ideal is
                  trials / concurrency x 0.2 s (25 x 0.2 = 5 s); wall_over_ideal says how far off a tool is
Each tool runs as a whole process (start-up included): trials/s = N / wall time from spawn to exit.
CPU seconds come from os.wait4 (the process and every child it reaped). Peak RSS is wait4's for a
single-process tool; the whole tree's is sampled too (the summed PSS of the process, its descendants and
its session, every 0.25 s), so a tool that forks workers (garak's pool) is charged for every one of them,
shared pages once: peak_rss_mb is the larger of the two.

No figure without the work: around every measurement the mock's /stats counter must grow by exactly N
answered requests, and each tool's own record must hold N scored trials (safehub's SQLite store, the
inspect_ai .eval log, garak's report.jsonl, promptfoo's output JSON, the bare loop's count). A peer that
cannot be installed or run, or that fails that check, is recorded with the reason and the run goes on.
Goals (issue 7; reported, never asserted): safehub >= 5x inspect_ai in both scenarios, >= 0.8x the bare loop.

The per-tool parts live in bench/peers/: peer_installs.py (pinned installs into bench/.venvs/),
peer_jobs.py (each tool's command and the check of its own records), process_tree.py (measuring a
process tree), inspect_task.py (the inspect_ai task) and garak_probe.py (the garak probe).

safehub and the bare loop run --repeats times (3) per scenario with the order of all tools rotating,
the peers --peer-repeats times (1): they are an order of magnitude slower. garak's concurrency is a
pool of worker processes (--parallel_attempts): it runs sequentially at zero latency (its fastest mode
there) and with --concurrency workers when latency-bound; see "notes" in the JSON for each tool's settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR / "peers"))  # the per-tool adapters: peer_installs, peer_jobs, process_tree
from common import (  # noqa: E402
    busy_cpu_s,
    machine,  # noqa: E402
    make_prompts,
    mock_server,
    process_cpu_s,
    stolen_cpu_s,
    wait_for_quiet_machine,
    write_report,
    write_suite_jsonl,
)
from engine import versions as engine_versions  # noqa: E402
from peer_installs import BenchmarkError, Install, ensure_installed, install_pins  # noqa: E402
from peer_jobs import JOBS, MAX_TOKENS, NOTES, Workload  # noqa: E402
from process_tree import RSS_SAMPLE_S, measure_tree  # noqa: E402

DEFAULT_OUT = BENCH_DIR / "results" / "peers.json"
TOOLS = ("safehub", "inspect_ai", "garak", "promptfoo", "bare")
PEERS = ("inspect_ai", "garak", "promptfoo")
WARMUP_PROMPTS = 20
INSPECT_GOAL = 5.0
BARE_GOAL = 0.8
NOISY_SHARE = 0.1  # others' CPU above this share of one core during a measurement makes it suspect (as engine.py)

# --------------------------------------------------------------------------------------- the scenarios


def mock_served(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats", timeout=10) as response:
        return json.load(response).get("served", {})


def _served_delta(before: dict, after: dict) -> dict:
    return {kind: after.get(kind, 0) - before.get(kind, 0) for kind in set(before) | set(after)
            if after.get(kind, 0) != before.get(kind, 0)}


def run_once(tool: str, base_url, work: Workload, timeout_s: float, quiet_wait_s: float,
             ideal_s: float | None) -> tuple[dict, list[str]]:
    """One measured run of `tool`; raise BenchmarkError unless the mock and the tool's own record agree on N."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=work.workdir))
    job = JOBS[tool](base_url, work, run_dir)
    waited_s = wait_for_quiet_machine(quiet_wait_s) if quiet_wait_s > 0 else 0.0
    served_before = mock_served(base_url)
    busy_before, stolen_before, mock_before = busy_cpu_s(), stolen_cpu_s(), process_cpu_s(base_url.pid)
    measurement = measure_tree(job.command, env=job.env, cwd=job.cwd, timeout_s=timeout_s)
    mock_cpu_s = process_cpu_s(base_url.pid) - mock_before
    others_cpu_s = max(0.0, busy_cpu_s() - busy_before - measurement.cpu_s - mock_cpu_s)
    stolen = stolen_cpu_s() - stolen_before
    try:
        served = _served_delta(served_before, mock_served(base_url))
        verified = job.verify(measurement)
        if served != {"ok": work.n}:
            raise BenchmarkError(f"the mock served {served} during the run, expected exactly {{'ok': {work.n}}}")
    except (json.JSONDecodeError, KeyError, OSError) as exc:
        error = BenchmarkError(f"{tool}: could not read its output ({type(exc).__name__}: {exc}); "
                               f"stderr {measurement.stderr[-1500:]!r}")
        error.command = job.command
        raise error from None
    except BenchmarkError as error:
        error.command = job.command  # a failed run's record names exactly what was run
        raise
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    sample = {"trials_per_s": work.n / measurement.wall_s, "wall_s": measurement.wall_s, "cpu_s": measurement.cpu_s,
              "user_s": measurement.user_s, "sys_s": measurement.sys_s,
              "peak_rss_mb": max(measurement.peak_rss_mb, measurement.peak_tree_pss_mb),
              "peak_tree_pss_mb": measurement.peak_tree_pss_mb,
              "peak_tree_rss_sum_mb": measurement.peak_tree_rss_sum_mb,
              "peak_rss_largest_process_mb": measurement.peak_rss_mb, "max_processes": measurement.max_processes,
              "mock_cpu_s": mock_cpu_s, "others_cpu_s": others_cpu_s, "stolen_cpu_s": stolen, "quiet_wait_s": waited_s,
              "mock_served": served, "verified": verified}
    if ideal_s:
        sample["wall_over_ideal"] = measurement.wall_s / ideal_s
    return sample, job.command


def medians(samples: list[dict]) -> dict:
    keys = [key for key, value in samples[0].items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "repeat"]
    return {key: statistics.median(sample[key] for sample in samples) for key in keys}


def run_scenario(name: str, latency_ms: float, work: Workload, tools: list[str], repeats: int, peer_repeats: int,
                 timeout_s: float, quiet_wait_s: float) -> dict:
    """Every tool against one mock; safehub and the bare loop `repeats` times, the peers `peer_repeats` times."""
    ideal_s = work.n / work.concurrency * latency_ms / 1000.0 if latency_ms else None
    if not tools:
        return {"latency_ms": latency_ms, "trials": work.n, "concurrency": work.concurrency, "repeats": repeats,
                "ideal_wall_s": ideal_s, "tools": {}, "ratios": {}, "paired_ratios": {}}
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    commands: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    with mock_server(latency_ms=latency_ms) as base_url:
        for repeat in range(repeats):
            shift = repeat % len(tools)
            for tool in tools[shift:] + tools[:shift]:  # no tool always goes first
                if tool in failures or (tool in PEERS and repeat >= peer_repeats):
                    continue
                try:
                    sample, command = run_once(tool, base_url, work, timeout_s, quiet_wait_s, ideal_s)
                except BenchmarkError as exc:
                    failures[tool] = str(exc)
                    commands[tool] = getattr(exc, "command", None)
                    print(f"  {name:<14} {tool:<10} FAILED: {str(exc)[:400]}", file=sys.stderr, flush=True)
                    time.sleep(1 + latency_ms / 1000.0)  # let requests a killed tool left in flight drain
                    continue
                runs[tool].append({"repeat": repeat + 1, **sample})
                commands[tool] = command
                print(f"  {name:<14} {tool:<10} repeat {repeat + 1}: {sample['trials_per_s']:8.1f} trials/s, "
                      f"wall {sample['wall_s']:6.2f} s, cpu {sample['cpu_s']:6.2f} s, rss {sample['peak_rss_mb']:6.0f} MB "
                      f"({sample['max_processes']} proc), others' cpu {sample['others_cpu_s']:5.2f} s",
                      file=sys.stderr, flush=True)
    results: dict[str, dict] = {}
    for tool in tools:
        if tool in failures:
            results[tool] = {"status": "failed", "reason": failures[tool], "runs": runs[tool],
                             "command": commands.get(tool)}
        else:
            results[tool] = {"status": "ok", "median": medians(runs[tool]), "runs": runs[tool],
                             "command": commands.get(tool)}
    return {"latency_ms": latency_ms, "trials": work.n, "concurrency": work.concurrency, "repeats": repeats,
            "peer_repeats": peer_repeats, "ideal_wall_s": ideal_s, "tools": results, **ratios(results, tools)}


def ratios(results: dict[str, dict], tools: list[str]) -> dict:
    """safehub's trials/s over each other tool's: of the medians, and per repeat (tools ran back to back in it)."""
    if results.get("safehub", {}).get("status") != "ok":
        return {"ratios": {}, "paired_ratios": {}}
    safehub = results["safehub"]
    of_medians, paired = {}, {}
    for tool in tools:
        if tool == "safehub" or results[tool]["status"] != "ok":
            continue
        of_medians[f"safehub/{tool}"] = safehub["median"]["trials_per_s"] / results[tool]["median"]["trials_per_s"]
        by_repeat = {run["repeat"]: run["trials_per_s"] for run in results[tool]["runs"]}
        paired[f"safehub/{tool}"] = [run["trials_per_s"] / by_repeat[run["repeat"]] for run in safehub["runs"]
                                     if run["repeat"] in by_repeat]
    return {"ratios": of_medians, "paired_ratios": paired}


def goals(scenarios: dict) -> dict:
    found = {}
    for name, scenario in scenarios.items():
        for peer, goal in (("inspect_ai", INSPECT_GOAL), ("bare", BARE_GOAL)):
            key = f"safehub/{peer}"
            ratio = scenario["ratios"].get(key)
            found[f"{name}: {key} >= {goal:g}"] = {"ratio": ratio, "is_met": None if ratio is None else ratio >= goal}
    return found


def warm_up(tools: list[str], work: Workload, timeout_s: float) -> dict[str, str]:
    """One small unmeasured run per tool (cold disk cache, peers' first-run set-up); returns why each failing tool failed."""
    small = Workload(work.prompts[:WARMUP_PROMPTS], work.workdir / "warmup.jsonl", work.concurrency, work.workdir,
                     work.home)
    write_suite_jsonl(small.suite, small.prompts)
    failures = {}
    with mock_server(latency_ms=0) as base_url:
        for tool in tools:
            started = time.monotonic()
            try:
                run_once(tool, base_url, small, timeout_s, 0, None)
                print(f"  warm-up    {tool:<10} ok in {time.monotonic() - started:5.1f} s", file=sys.stderr, flush=True)
            except BenchmarkError as exc:
                failures[tool] = f"warm-up run ({WARMUP_PROMPTS} prompts) failed: {exc}"
                print(f"  warm-up    {tool:<10} FAILED: {str(exc)[:600]}", file=sys.stderr, flush=True)
    return failures


# ------------------------------------------------------------------------------------------------ main


def tool_versions(installs: dict[str, Install]) -> dict:
    found = {"safehub_side": engine_versions(), "node": _node_version()}
    for tool, install in installs.items():
        found[tool] = install.version
    return found


def _node_version() -> str | None:
    node = shutil.which("node")
    if not node:
        return None
    return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip() or None


def print_table(report: dict) -> None:
    header = f"{'scenario':<15}{'tool':<11}{'trials/s':>10}{'wall s':>9}{'cpu s':>8}{'RSS MB':>8}{'wall/ideal':>11}  safehub/tool"
    print(header)
    print("-" * len(header))
    for name, scenario in report["scenarios"].items():
        for tool, result in scenario["tools"].items():
            if result["status"] != "ok":
                print(f"{name:<15}{tool:<11}  not measured: {result['reason'][:200]}")
                continue
            m = result["median"]
            over = f"{m['wall_over_ideal']:.2f}" if "wall_over_ideal" in m else "-"
            ratio = scenario["ratios"].get(f"safehub/{tool}")
            print(f"{name:<15}{tool:<11}{m['trials_per_s']:>10.1f}{m['wall_s']:>9.2f}{m['cpu_s']:>8.2f}"
                  f"{m['peak_rss_mb']:>8.0f}{over:>11}  {'' if ratio is None else f'{ratio:.2f}x'}")
    for name, scenario in report["scenarios"].items():
        for pair, values in scenario["paired_ratios"].items():
            if len(values) > 1:
                print(f"{name}: {pair} per repeat (same moment's noise): {', '.join(f'{v:.2f}' for v in values)}")
    noisy = [f"{name}/{tool} repeat {run['repeat']}" for name, scenario in report["scenarios"].items()
             for tool, result in scenario["tools"].items() for run in result.get("runs", [])
             if run["others_cpu_s"] > NOISY_SHARE * run["wall_s"]]
    if noisy:
        print(f"warning: other processes used over {NOISY_SHARE:.0%} of a core during {len(noisy)} of the measurements "
              f"({', '.join(noisy[:6])}{', ...' if len(noisy) > 6 else ''}): the machine was shared, the figures are noisy")
    for goal, verdict in report["goals"].items():
        state = "not measured" if verdict["is_met"] is None else ("met" if verdict["is_met"] else "NOT MET")
        ratio = "" if verdict["ratio"] is None else f" ({verdict['ratio']:.2f})"
        print(f"goal {goal}: {state}{ratio}")
    for tool, reason in report["not_run"].items():
        print(f"not run: {tool}: {reason[:300]}")
    print(f"wrote {report['out']} in {report['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="install the peers (pinned) into bench/.venvs/ and stop")
    parser.add_argument("--reinstall", action="store_true", help="with --setup: install again even if present")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--prompts", type=int, default=2000, help="prompts in the zero-latency scenario")
    parser.add_argument("--latency-trials", type=int, default=5000, help="trials in the latency-bound scenario")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="mock latency of the latency-bound scenario")
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight, the same for every tool")
    parser.add_argument("--repeats", type=int, default=3,
                        help="measurements of safehub and the bare loop per scenario; the median is kept")
    parser.add_argument("--peer-repeats", type=int, default=1,
                        help="measurements of each peer per scenario (they are an order of magnitude slower, and "
                             "their ratios to safehub far from the goals' thresholds)")
    parser.add_argument("--timeout-s", type=float, default=600.0, help="kill a measured tool after this long")
    parser.add_argument("--quiet-wait-s", type=float, default=10.0,
                        help="before each measurement wait up to this long for the machine to go quiet (0: don't)")
    parser.add_argument("--garak-parallel-zero", type=int, default=1,
                        help="garak's --parallel_attempts at zero latency (1: its sequential loop, its fastest there)")
    parser.add_argument("--garak-parallel-latency", type=int, default=0,
                        help="garak's --parallel_attempts when latency-bound (0: the same as --concurrency)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the small unmeasured run of each tool before the scenarios (for smoke tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown or not tools:
        parser.error(f"--tools: unknown {unknown}; choose from {','.join(TOOLS)}")
    if min(args.prompts, args.latency_trials, args.repeats, args.peer_repeats, args.concurrency) < 1:
        parser.error("--prompts, --latency-trials, --repeats, --peer-repeats and --concurrency must be at least 1")
    args.peer_repeats = min(args.peer_repeats, args.repeats)

    started = dt.datetime.now(dt.timezone.utc)
    peers = [tool for tool in tools if tool in PEERS]
    # The installs are mostly downloads, each into its own directory: side by side they take as long as the longest.
    with ThreadPoolExecutor(max_workers=max(1, len(peers))) as pool:
        installs = dict(zip(peers, pool.map(lambda tool: ensure_installed(tool, force=args.reinstall), peers)))
    for install in installs.values():
        state = f"ready ({install.version})" if install.is_ready else f"NOT READY: {install.reason}"
        print(f"setup: {install.tool}: {state}", file=sys.stderr, flush=True)
    if args.setup:
        return 0 if all(install.is_ready for install in installs.values()) else 1

    not_run = {tool: install.reason for tool, install in installs.items() if not install.is_ready}
    report: dict = {
        "benchmark": "peers", "date": started.isoformat(timespec="seconds"), "argv": [sys.executable, *sys.argv],
        "machine": machine(), "versions": tool_versions(installs),
        "installs": {tool: {"is_ready": i.is_ready, "version": i.version, "pins": install_pins(tool), "reason": i.reason,
                            "commands": i.commands, "install_s": i.install_s} for tool, i in installs.items()},
        "settings": {"prompts": args.prompts, "latency_trials": args.latency_trials, "latency_ms": args.latency_ms,
                     "concurrency": args.concurrency, "repeats": args.repeats, "peer_repeats": args.peer_repeats,
                     "max_tokens": MAX_TOKENS,
                     "quiet_wait_s": args.quiet_wait_s, "timeout_s": args.timeout_s, "tools": tools,
                     "garak_parallel_attempts": {"zero_latency": args.garak_parallel_zero,
                                                 "latency_bound": args.garak_parallel_latency or args.concurrency}},
        "method": {
            "trials_per_s": "N / wall time of the whole process, spawn to exit (start-up included)",
            "cpu_s": "user+sys from os.wait4: the tool's process plus every child it waited for",
            "peak_rss_mb": "the tool's peak resident memory: the larger of peak_rss_largest_process_mb (exact for a "
                           "single-process tool, the figure bench/engine.py reports) and peak_tree_pss_mb (for a tool "
                           "that forks workers, every process counted, shared pages once)",
            "peak_tree_pss_mb": "the largest sum of PSS (proportional set size: each shared page split between the "
                                "processes sharing it) over the process tree: the tool, its descendants and its "
                                f"session's other members, sampled from /proc/PID/smaps_rollup every {RSS_SAMPLE_S:g} s "
                                "(slower when a sample takes long); the memory the tool really holds, also for forking "
                                "tools (garak's pool). "
                                "peak_tree_rss_sum_mb: the same sum of RSS (shared pages counted once per process, an "
                                "upper bound); peak_rss_largest_process_mb: os.wait4's maxrss, the largest single process "
                                "(the figure bench/engine.py reports)",
            "verification": "the mock's /stats must grow by exactly N ok answers per run, and the tool's own record "
                            "(store, log, report, output file) must hold N answered and scored trials",
            "order": "tools rotate their order every repeat (peers run in the first --peer-repeats repeats only); "
                     "medians over repeats; paired ratios compare runs within the same repeat",
            "noise": "others_cpu_s is every other process's CPU during a measurement, stolen_cpu_s the hypervisor's"},
        "notes": {tool: note for tool, note in NOTES.items() if tool in tools},
        "scenarios": {}, "not_run": not_run}
    runnable = [tool for tool in tools if tool not in not_run]
    with tempfile.TemporaryDirectory(prefix="peers-bench-") as workdir_name:
        workdir = Path(workdir_name)
        home = workdir / "home"
        home.mkdir()
        garak_parallel_latency = args.garak_parallel_latency or args.concurrency
        scenarios = (("zero_latency", 0.0, args.prompts, args.garak_parallel_zero),
                     (f"latency_{args.latency_ms:g}ms", args.latency_ms, args.latency_trials, garak_parallel_latency))
        largest = max(args.prompts, args.latency_trials)
        prompts = make_prompts(largest)
        base = Workload(prompts, workdir / "warm.jsonl", args.concurrency, workdir, home)
        for tool, reason in ({} if args.no_warmup else warm_up(runnable, base, args.timeout_s)).items():
            not_run[tool] = reason
        runnable = [tool for tool in runnable if tool not in not_run]
        for name, latency_ms, n, garak_parallel in scenarios:
            work = Workload(prompts[:n], write_suite_jsonl(workdir / f"{name}.jsonl", prompts[:n]), args.concurrency,
                            workdir, home, garak_parallel)
            report["scenarios"][name] = run_scenario(name, latency_ms, work, runnable, args.repeats, args.peer_repeats,
                                                     args.timeout_s, args.quiet_wait_s)
            if "garak" in tools:
                report["scenarios"][name]["garak_parallel_attempts"] = garak_parallel
            for tool in tools:
                if tool in not_run:
                    report["scenarios"][name]["tools"][tool] = {"status": "not run", "reason": not_run[tool]}
    report["goals"] = goals(report["scenarios"])
    write_report(report, args.out, started)
    print_table(report)
    failed_own = [tool for tool in ("safehub", "bare") if tool in tools and any(
        scenario["tools"][tool]["status"] != "ok" for scenario in report["scenarios"].values())]
    return 1 if failed_own else 0


if __name__ == "__main__":
    sys.exit(main())
