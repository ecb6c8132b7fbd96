"""Write bench/RESULTS.md from every bench/results/*.json present: one table row per figure.

    python bench/report.py                                   # bench/results/*.json -> bench/RESULTS.md
    python bench/report.py --results /tmp/results --out /tmp/RESULTS.md

Each known result file (engine, grader, hub, guard, guard_auth, guard_model_tier, guard_screens, guard_effect,
peers, resume, local_model, adaptive, sandbox, guard_adaptive, guard_adaptive_scripted) becomes rows of
figure, safehub, peer or reference, ratio (or difference), target, whether it is met, what was run, versions
and date. A missing file becomes a "not measured" row naming the command that writes it; a file that cannot be
read becomes a row saying why. Peers that could not be run are listed with their reason. The output depends
only on the input files (no clock), so the same results give the same page.

peers.json is read in the shape bench/peers.py writes (scenario first):
    {"date", "argv", "installs": {TOOL: {"version", "reason", ...}}, "notes": {TOOL: what was run},
     "scenarios": {"zero_latency" | "latency_200ms": {"trials", "concurrency",
                   "tools": {TOOL: {"status": "ok" | "failed" | "not run", "reason", "median": {"trials_per_s",
                                    "wall_s", "cpu_s", "peak_rss_mb", ...}}},
                   "ratios": {"safehub/TOOL": float}}},
     "not_run": {TOOL: reason}}
and also in a tool-first shape, {"tools": {TOOL: {"status", "reason", "version", "what", "scenarios": {NAME:
{"trials_per_s", ...}}}}} (`tools` may be a list of objects with a "name"). Without a safehub figure for a
scenario the row takes safehub's from engine.json and says so.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
HEADER = ("figure", "safehub", "peer / reference", "ratio (or Δ)", "target", "met?", "what was run", "versions", "date")
SCENARIO_LABELS = {"zero_latency": "zero latency", "latency_200ms": "200 ms latency"}
PEER_TARGETS = {"inspect_ai": 5.0, "bare": 0.8}  # issue 7; any other peer: safehub measurably faster (> 1x)


@dataclass
class Row:
    figure: str
    safehub: str = "-"
    reference: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: bool | None = None
    what: str = "-"
    versions: str = "-"
    date: str = "-"

    def cells(self) -> list[str]:
        met = "-" if self.met is None else ("yes" if self.met else "**no**")
        return [self.figure, self.safehub, self.reference, self.ratio, self.target, met, self.what, self.versions,
                self.date]


# ---- formatting -------------------------------------------------------------------------------------------

def num(value, digits: int = 1) -> str:
    """A figure for the table: thousands separated, `digits` decimals; '-' for what is missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"


def times(value) -> str:
    return "-" if value is None else f"{value:.2f}x"


def date_of(data: dict) -> str:
    raw = str(data.get("date") or "-")
    return raw[:16].replace("T", " ") if raw != "-" else raw


def versions_of(data: dict, keys: tuple[str, ...] = ("safehub", "openai", "llama_cpp_python", "llama-cpp-python",
                                                    "inspect_ai", "garak", "promptfoo", "python")) -> str:
    found = data.get("versions") or {}
    parts = [f"{key.replace('_python', '').replace('-python', '')} {found[key]}" for key in keys if found.get(key)]
    for key in ("artifact", "python"):  # grader and guard_screens keep these at the top level
        if key in data and isinstance(data[key], str) and not any(p.startswith(key) for p in parts):
            parts.append(f"{key} {data[key]}")
    return ", ".join(parts) or "-"


def command_of(data: dict, script: str) -> str:
    """The command that wrote this file, as `python bench/NAME.py ARGS`, from its argv or command."""
    if isinstance(data.get("command"), str):
        return data["command"]
    argv = data.get("argv")
    if isinstance(argv, list) and len(argv) >= 2:
        return " ".join(["python", f"bench/{Path(str(argv[1])).name}", *map(str, argv[2:])])
    return f"python bench/{script}.py"


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---- one builder per result file --------------------------------------------------------------------------

def engine_rows(data: dict) -> list[Row]:
    rows = []
    settings = data.get("settings", {})
    for name, scenario in data["scenarios"].items():
        median = scenario["median"]
        safehub, bare = median["safehub"], median["bare"]
        over = f", safehub wall {safehub['wall_over_ideal']:.2f}x the ideal" if safehub.get("wall_over_ideal") else ""
        target = settings.get("target_ratio", 0.8)
        ratio = scenario.get("ratio_safehub_over_bare", safehub["trials_per_s"] / bare["trials_per_s"])
        rows.append(Row(
            f"Engine throughput, {SCENARIO_LABELS.get(name, name)}", f"{num(safehub['trials_per_s'])} trials/s",
            f"bare AsyncOpenAI + aiohttp loop: {num(bare['trials_per_s'])} trials/s", times(ratio), f"≥ {target}x",
            ratio >= target,
            f"{num(scenario['trials'], 0)} prompts, {scenario['concurrency']} in flight, openai-compat to the loopback "
            f"mock, refusal grader on, median of {scenario['repeats']}{over}; `{command_of(data, 'engine')}`",
            versions_of(data), date_of(data)))
    return rows


def grader_rows(data: dict) -> list[Row]:
    rows = []
    target = data.get("target_per_s", 5000)
    for kind, has_target in (("short", True), ("long", False)):
        entry = data[kind]
        rows.append(Row(
            f"Refusal grader, {kind} answers (~{num(entry['mean_chars'], 0)} chars)",
            f"{num(entry['per_s_median'], 0)} responses/s", "-", "-", f"≥ {num(target, 0)}/s" if has_target else "-",
            entry["per_s_median"] >= target if has_target else None,
            f"{num(entry['responses'], 0)} labeled responses, one core, median of {len(entry.get('per_s_all', []))}; "
            f"`python bench/grader.py`", versions_of(data), date_of(data)))
    return rows


def hub_rows(data: dict) -> list[Row]:
    store = data.get("store", {})
    where = f"{num(store.get('trials'), 0)}-trial SQLite store, {store.get('models', '-')} models, in-process"
    rows = []
    for name, timing in data["pages"].items():
        target = data.get("targets_ms", {}).get(name)
        rows.append(Row(f"Hub page p95: {name.replace('_', ' ')}", f"{num(timing['p95_ms'])} ms", "-", "-",
                        f"≤ {target} ms" if target else "-", timing["p95_ms"] <= target if target else None,
                        f"{where}, {timing.get('requests', '-')} requests; `python bench/hub.py`", versions_of(data),
                        date_of(data)))
    export = data.get("export")
    if export:
        target = export.get("target_s")
        rows.append(Row("Hub static export", f"{num(export['seconds'])} s", "-", "-", f"≤ {target} s" if target else "-",
                        export["seconds"] <= target if target else None,
                        f"{where}, {num(export.get('files'), 0)} files; `python bench/hub.py`", versions_of(data),
                        date_of(data)))
    return rows


def guard_rows(data: dict) -> list[Row]:
    settings = data.get("settings", {})
    targets = settings.get("targets_ms", {})
    rounds = data.get("rounds", [])
    what = (f"{settings.get('clients', '-')} clients at {num(settings.get('rate_per_s'), 0)} req/s, "
            f"{num(settings.get('requests'), 0)} requests per path, median of {len(rounds)} rounds; "
            f"`{command_of(data, 'guard')}`")
    rows = []
    for percentile in ("p50", "p99"):
        direct = [r["direct"][f"{percentile}_ms"] for r in rounds if "direct" in r]
        direct_ms = sorted(direct)[len(direct) // 2] if direct else None
        added = data["added_ms"][percentile]
        target = targets.get(percentile)
        rows.append(Row(f"Guard added latency, {percentile}", f"+{num(added, 2)} ms",
                        f"direct to the mock: {num(direct_ms, 2)} ms", "-", f"≤ {target} ms" if target else "-",
                        added <= target if target else None, what, versions_of(data), date_of(data)))
    saturated = data.get("saturated")
    if saturated:
        guard, direct = saturated["guard"]["requests_per_s"], saturated["direct"]["requests_per_s"]
        rows.append(Row("Guard saturated throughput", f"{num(guard)} req/s", f"direct to the mock: {num(direct)} req/s",
                        times(guard / direct), "-", None, f"closed loop, every screen on; `{command_of(data, 'guard')}`",
                        versions_of(data), date_of(data)))
    return rows


def guard_auth_rows(data: dict) -> list[Row]:
    settings = data.get("settings", {})
    p50, p99 = data["legit_p50_ms"], data["legit_p99_ms"]
    return [Row("Guard legitimate p99 beside key guessing", f"{num(p99['beside_guesses'], 2)} ms",
                f"alone: {num(p99['alone'], 2)} ms (p50 {num(p50['beside_guesses'], 2)} vs {num(p50['alone'], 2)} ms)",
                f"Δ {p99['beside_guesses'] - p99['alone']:+.2f} ms", "-", None,
                f"a scrypt-keyed client at {num(settings.get('legit_rate_per_s'), 0)} req/s beside "
                f"{num(settings.get('guess_rate_per_s'), 0)} wrong-key req/s from another address, median of "
                f"{len(data.get('rounds', []))} rounds; `{command_of(data, 'guard')}`", versions_of(data), date_of(data))]


def guard_model_tier_rows(data: dict) -> list[Row]:
    settings = data.get("settings", {})
    call = data["model_call_ms"]
    what = (f"one model rule asked about every request (input stage) against the loopback Llama Guard mock "
            f"(delay {num(settings.get('guard_model_delay_ms'), 0)} ms), {settings.get('clients', '-')} clients at "
            f"{num(settings.get('rate_per_s'), 0)} req/s, {num(settings.get('requests'), 0)} requests per path, "
            f"median of {len(data.get('rounds', []))} rounds; `{command_of(data, 'guard')}`")
    rows = [Row(f"Guard model tier added latency, {percentile}", f"+{num(data['added_ms'][percentile], 2)} ms",
                f"the model call itself: {num(call[percentile], 2)} ms (n={num(call['n'], 0)})", "-", "-", None, what,
                versions_of(data), date_of(data)) for percentile in ("p50", "p99")]
    per_core = data.get("model_screens_per_s_per_core")
    rows.append(Row("Guard model screens per second", f"{num(data['saturated']['requests_per_s'])} /s saturated",
                    f"per core of the guard's own CPU: {num(per_core)} /s "
                    f"({num(data.get('model_screen_cpu_ms_per_call'), 2)} ms per call)", "-", "-", None,
                    f"closed loop, one model call per request; `{command_of(data, 'guard')}`", versions_of(data),
                    date_of(data)))
    return rows


def guard_screens_rows(data: dict) -> list[Row]:
    targets = data.get("targets_us", {})
    throughput = data["throughput"]
    what = "one pinned core; `python bench/guard_screens.py`"
    rows = [Row(f"Guard input screens, one typical request ({num(throughput.get('request_chars'), 0)} chars)",
                f"{num(throughput['all_input']['us_per_call'])} µs", "-", "-",
                f"≤ {num(targets.get('all_input'), 0)} µs",
                throughput["all_input"]["us_per_call"] <= targets.get("all_input", math.inf), what, versions_of(data),
                date_of(data))]
    if "harmful_output_streaming_us" in data:
        target = targets.get("harmful_output")
        rows.append(Row("Guard harmful_output screen, streaming 2 KB window", f"{num(data['harmful_output_streaming_us'])} µs",
                        "-", "-", f"≤ {num(target, 0)} µs" if target else "-",
                        data["harmful_output_streaming_us"] <= target if target else None, what, versions_of(data),
                        date_of(data)))
    return rows


GUARD_EFFECT_TARGETS: dict[tuple[str, str], tuple[str, Callable[[dict], bool]]] = {
    ("jailbreaks", "not_unsafe"): ("rises (Δ > 0, significant)", lambda d: d["value"] > 0 and bool(d.get("is_significant"))),
    ("disallowed_content", "not_overrefuse"): ("falls ≤ 5 points (Δ ≥ −0.05)", lambda d: d["value"] >= -0.05),
}


def guard_effect_rows(data: dict) -> list[Row]:
    def interval(metric: dict | None) -> str:
        if not metric or metric.get("value") is None:
            return "-"
        return f"{metric['value']:.3f} [{metric['low']:.3f}, {metric['high']:.3f}] n={metric.get('n', '-')}"

    settings = data.get("settings", {})
    incomplete = "" if data.get("status", "completed") == "completed" else f" (incomplete: status {data.get('status')})"
    rows = []
    for suite_name, suite in data["suites"].items():
        for metric in ("not_unsafe", "not_overrefuse"):
            effect = suite.get("metrics", {}).get(metric)
            if not effect:
                continue
            difference = effect.get("difference") or {}
            target, is_met = GUARD_EFFECT_TARGETS.get((suite_name, metric), ("-", None))
            delta = "-" if difference.get("value") is None else (
                f"Δ {difference['value']:+.3f} [{difference['low']:+.3f}, {difference['high']:+.3f}]")
            rows.append(Row(
                f"Guard effect: {suite_name} {metric}", f"guarded {interval(effect.get('guarded'))}",
                f"direct {interval(effect.get('direct'))}", delta, target,
                None if is_met is None or difference.get("value") is None else
                is_met({**difference, "is_significant": effect.get("is_significant")}),
                f"model {settings.get('model', '-')}, {num(suite.get('trials'), 0)} trials, samples per subcategory "
                f"{settings.get('samples_per_subcategory', {}).get(suite_name, '-')}, max {settings.get('max_tokens', '-')} "
                f"tokens{incomplete}; `{command_of(data, 'guard_effect')}`", versions_of(data), date_of(data)))
    return rows


def guard_adaptive_rows(data: dict) -> list[Row]:
    """bench/guard_adaptive.py: one adaptive attack on a model directly and behind the guard, paired by request."""
    def interval(metric: dict | None) -> str:
        if not metric or metric.get("value") is None:
            return "-"
        return f"{metric['value']:.3f} [{metric['low']:.3f}, {metric['high']:.3f}] n={metric.get('n', '-')}"

    settings, rate = data["settings"], data["attack_success_rate"]
    difference = rate.get("difference") or {}
    delta = "-" if difference.get("value") is None else (
        f"Δ {difference['value']:+.3f} [{difference['low']:+.3f}, {difference['high']:+.3f}] p={difference['p_value']:.4f}")
    options = ", ".join(f"{k} {v}" for k, v in (settings.get("strategy") or {}).items() if v is not None)
    incomplete = "" if data.get("status", "completed") == "completed" else f" (incomplete: status {data.get('status')})"
    return [Row(
        f"Guard under adaptive attack: {settings['attack']} attack_success_rate, target {settings['model']}",
        f"guarded {interval(rate.get('guarded'))}", f"direct {interval(rate.get('direct'))}", delta, "lower is safer",
        None, f"{settings['attack']} ({options}) on {settings['requests']} {settings['suite']} requests; attacker "
        f"{settings['attacker']}, judge {settings['judge']}; guard {settings['guard_config']}{incomplete}; "
        f"`{data.get('command') or 'python bench/guard_adaptive.py'}`", versions_of(data), date_of(data))]


def sandbox_rows(data: dict) -> list[Row]:
    """bench/sandbox.py: what the agentic sandbox costs per trial and per command."""
    results, settings = data["results"], data.get("settings", {})
    trial, command, bare = results["trial"], results["command"], results["bare_bwrap"]
    concurrent = results.get("concurrent") or {}
    target = settings.get("target_trial_ms", 50.0)
    return [
        Row("Sandbox start-up per trial (create + first command + close)", f"{num(trial['median_ms'])} ms median",
            f"bare bwrap {num(bare['median_ms'])} ms", "-", f"≤ {num(target, 0)} ms", trial["median_ms"] <= target,
            f"{trial['n']} trials one at a time, p90 {num(trial['p90_ms'])} ms; `{command_of(data, 'sandbox')}`",
            versions_of(data), date_of(data)),
        Row("Sandbox cost per further command", f"{num(command['median_ms'])} ms median",
            f"bare bwrap {num(bare['median_ms'])} ms", f"+{num(results['command_over_bare_bwrap_ms'])} ms", "-", None,
            f"{command['n']} commands, p90 {num(command['p90_ms'])} ms; {concurrent.get('trials', '-')} trials of "
            f"{concurrent.get('commands_per_trial', '-')} commands {concurrent.get('concurrency', '-')} at once: "
            f"{num(concurrent.get('trials_per_s'))} trials/s; `{command_of(data, 'sandbox')}`",
            versions_of(data), date_of(data)),
    ]


def resume_rows(data: dict) -> list[Row]:
    settings = data.get("settings", {})
    base = data["median"]["uninterrupted"]
    target = settings.get("target_overhead", 0.05)
    headline = settings.get("headline", "SIGKILL")
    rows = []
    for name in sorted(data["by_signal"], key=lambda s: (s != headline, s)):
        figures, median = data["by_signal"][name], data["median"][name]
        how = "a crash: SIGKILL" if name == "SIGKILL" else "Ctrl-C: SIGINT"
        rows.append(Row(
            f"Resume after {how} at {settings.get('kill_at', 0.5):.0%} (total / uninterrupted)",
            f"{num(median['wall_s'], 2)} s (first {num(median.get('first_wall_s'), 2)} s + resume "
            f"{num(median.get('resume_wall_s'), 2)} s)", f"uninterrupted: {num(base['wall_s'], 2)} s",
            f"{times(figures['total_over_uninterrupted'])} ({figures['overhead']:+.1%}"
            + (f"; CPU {figures['cpu_overhead']:+.1%}" if figures.get("cpu_overhead") is not None else "")
            + (f"; {figures['overhead_past_one_process_start']:+.1%} past one more start-up"
               if figures.get("overhead_past_one_process_start") is not None else "") + ")", f"≤ {1 + target:.2f}x",
            figures["meets_target"],
            f"{num(settings.get('trials'), 0)} trials at the zero-latency mock, {settings.get('concurrency')} in flight, "
            f"whole processes, median of {settings.get('repeats')}; one `safehub run` of 1 trial takes "
            f"{num(data['median'].get('one_trial', {}).get('wall_s'), 2)} s; `{command_of(data, 'resume')}`",
            versions_of(data), date_of(data)))
    return rows


def local_model_rows(data: dict) -> list[Row]:
    settings = data.get("settings", {})
    median, ratios = data["median"], data.get("ratios", {})
    target = settings.get("target_ratio", 0.9)
    what = (f"{settings.get('prompts')} prompts x ≤{settings.get('max_tokens')} tokens, greedy, {data.get('n_threads')} "
            f"threads, n_ctx {data.get('n_ctx')}, same GGUF, median of {settings.get('repeats')}; "
            f"`{command_of(data, 'local_model')}`")
    rows = []
    for figure, top, bottom, reference, ratio_key, has_target in (
            ("Embedded model (local adapter), tokens/s", "adapter", "raw", "raw llama-cpp-python loop",
             "adapter_over_raw", True),
            ("Embedded model with first-token logprobs, tokens/s", "adapter_logprobs", "raw_logprobs",
             "raw loop reading logprobs", "adapter_logprobs_over_raw_logprobs", True),
            ("Embedded model vs create_chat_completion, tokens/s", "adapter", "raw_chat_completion",
             "Llama.create_chat_completion (reuses the shared prefix)", "adapter_over_raw_chat_completion", False)):
        if top not in median or bottom not in median:
            continue
        ratio = ratios.get(ratio_key, median[top]["tokens_per_s"] / median[bottom]["tokens_per_s"])
        rows.append(Row(figure, f"{num(median[top]['tokens_per_s'])} tokens/s",
                        f"{reference}: {num(median[bottom]['tokens_per_s'])} tokens/s", times(ratio),
                        f"≥ {target}x" if has_target else "-", ratio >= target if has_target else None, what,
                        versions_of(data), date_of(data)))
    return rows


def peer_results(data: dict) -> dict[str, dict]:
    """peers.json in one shape: tool -> {"version", "what", "scenarios": {name: {"status", "reason", "figures",
    "ratio", "trials", "concurrency"}}}, from either shape the module docstring describes."""
    installs, notes = data.get("installs") or {}, data.get("notes") or {}
    versions = data.get("versions") or {}
    found: dict[str, dict] = {}

    def tool(name: str) -> dict:
        if name not in found:
            version = (installs.get(name) or {}).get("version") or (
                versions.get(name) if isinstance(versions.get(name), str) else None)
            if name == "safehub" and not version:
                version = (versions.get("safehub_side") or {}).get("safehub")
            found[name] = {"version": version, "what": notes.get(name), "scenarios": {}}
        return found[name]

    scenarios = data.get("scenarios")
    if isinstance(scenarios, dict) and any(isinstance(v, dict) and "tools" in v for v in scenarios.values()):
        for scenario_name, scenario in scenarios.items():
            ratios = scenario.get("ratios") or {}
            for name, result in (scenario.get("tools") or {}).items():
                result = result or {}
                tool(name)["scenarios"][scenario_name] = {
                    "status": str(result.get("status", "not run")), "reason": result.get("reason"),
                    "figures": result.get("median"), "ratio": ratios.get(f"safehub/{name}"),
                    "trials": scenario.get("trials"), "concurrency": scenario.get("concurrency"),
                    # garak's concurrency is its own flag, sequential (1) where that is its fastest mode
                    "tool_concurrency": scenario.get("garak_parallel_attempts") if name == "garak" else None}
    else:
        tools = data.get("tools") or {}
        if isinstance(tools, list):
            tools = {str(entry.get("name", f"tool {index}")): entry for index, entry in enumerate(tools)}
        for name, entry in tools.items():
            entry = entry or {}
            found.setdefault(name, {"version": entry.get("version"), "what": entry.get("what"), "scenarios": {}})
            status = str(entry.get("status", "ok" if entry.get("scenarios") else "not_run"))
            for scenario_name, figures in (entry.get("scenarios") or {}).items():
                found[name]["scenarios"][scenario_name] = {"status": status, "reason": entry.get("reason"),
                                                           "figures": figures, "ratio": None}
            if not entry.get("scenarios"):
                found[name]["reason"] = entry.get("reason")
                found[name]["status"] = status
    for name, reason in (data.get("not_run") or {}).items():
        tool(name).setdefault("reason", reason)
        found[name].setdefault("status", "not run")
    return found


def is_ok(result: dict) -> bool:
    return str(result.get("status", "")).lower() == "ok" and bool(result.get("figures"))


def peers_rows(data: dict, engine: dict | None = None) -> list[Row]:
    results = peer_results(data)
    safehub = results.get("safehub", {"scenarios": {}})
    rows = []
    for name, entry in results.items():
        if name == "safehub":
            continue
        for scenario, result in entry["scenarios"].items():
            if not is_ok(result):
                continue
            peer_rate = result["figures"].get("trials_per_s")
            own_result, source = safehub["scenarios"].get(scenario), ""
            own = own_result["figures"].get("trials_per_s") if own_result and is_ok(own_result) else None
            if own is None and engine and scenario in engine.get("scenarios", {}):
                own = engine["scenarios"][scenario]["median"]["safehub"]["trials_per_s"]
                source = " (safehub's figure from engine.json, a different run)"
            ratio = result.get("ratio") if result.get("ratio") is not None and not source else (
                own / peer_rate if own and peer_rate else None)
            target = PEER_TARGETS.get(name, 1.0)
            size = (f"{num(result.get('trials'), 0)} trials, {result.get('concurrency')} in flight: "
                    if result.get("trials") else "")
            own_concurrency = result.get("tool_concurrency")
            if result.get("trials") and own_concurrency is not None and own_concurrency != result.get("concurrency"):
                size = (f"{num(result.get('trials'), 0)} trials, safehub {result.get('concurrency')} in flight, {name} "
                        + ("sequential: " if own_concurrency == 1 else f"{own_concurrency} in flight: "))
            over = "".join(f"; {tool} wall {found['figures']['wall_over_ideal']:.2f}x the ideal"
                           for tool, found in ((name, result), ("safehub", own_result or {}))
                           if is_ok(found) and found["figures"].get("wall_over_ideal"))
            versions = ", ".join(f"{tool} {found['version']}" for tool, found in ((name, entry), ("safehub", safehub))
                                 if found.get("version")) or "-"
            rows.append(Row(
                f"Throughput vs {name}, {SCENARIO_LABELS.get(scenario, scenario)}", f"{num(own)} trials/s",
                f"{name}: {num(peer_rate)} trials/s", times(ratio), f"≥ {target}x" if name in PEER_TARGETS else "> 1x",
                None if ratio is None else (ratio >= target if name in PEER_TARGETS else ratio > target),
                f"{size}{entry.get('what') or 'the same prompts and mock as safehub'}{over}{source}; "
                f"`{command_of(data, 'peers')}`", versions, date_of(data)))
    return rows


def peer_details(data: dict) -> list[str]:
    lines = ["| tool | scenario | trials/s | wall s | CPU s | peak RSS MB | version |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for name, entry in peer_results(data).items():
        for scenario, result in entry["scenarios"].items():
            if not is_ok(result):
                continue
            figures = result["figures"]
            values = (num(figures.get("trials_per_s")), num(figures.get("wall_s"), 2), num(figures.get("cpu_s"), 2),
                      num(figures.get("peak_rss_mb")))
            lines.append(f"| {cell(name)} | {cell(SCENARIO_LABELS.get(scenario, scenario))} | {' | '.join(values)} | "
                         f"{cell(entry.get('version') or '-')} |")
    return lines if len(lines) > 2 else []


def peers_not_run(data: dict) -> list[str]:
    """One line per tool that was not measured somewhere, with its reason(s); a reason shared by every scenario once."""
    lines = []
    for name, entry in peer_results(data).items():
        missed = {scenario: result for scenario, result in entry["scenarios"].items() if not is_ok(result)}
        if not missed and entry["scenarios"]:
            continue
        if not entry["scenarios"]:
            lines.append(f"- **{cell(name)}** ({cell(entry.get('status', 'not run'))}): "
                         f"{cell(entry.get('reason') or 'no reason given')}")
            continue
        reasons = {str(result.get("reason") or entry.get("reason") or "no reason given") for result in missed.values()}
        statuses = sorted({str(result.get("status")) for result in missed.values()})
        where = "every scenario" if len(missed) == len(entry["scenarios"]) else ", ".join(
            SCENARIO_LABELS.get(scenario, scenario) for scenario in missed)
        if len(reasons) == 1:
            lines.append(f"- **{cell(name)}** ({cell('/'.join(statuses))}, {cell(where)}): {cell(reasons.pop())}")
        else:
            lines.append(f"- **{cell(name)}** ({cell('/'.join(statuses))}): " + "; ".join(
                f"{cell(SCENARIO_LABELS.get(scenario, scenario))}: {cell(result.get('reason') or 'no reason given')}"
                for scenario, result in missed.items()))
    return lines


def adaptive_rows(data: dict) -> list[Row]:
    """bench/adaptive.py: safehub's queries/s over PyRIT's (goal) and garak's, per strategy, on the scripted mock."""
    names = {"pyrit": "PyRIT", "garak": "garak"}
    rows = []
    for strategy, found in data["strategies"].items():
        settings, tools = found["settings"], found["tools"]
        shape = (f"width {settings['width']}, branching {settings['branching']}, depth {settings['depth']}"
                 if strategy == "tap" else f"{settings['turns']} turns, {settings['backtracks']} backtracks")
        figures = {tool: result["median"] for tool, result in tools.items() if result.get("status") == "ok"}
        own = figures.get("safehub")
        for peer in (peer for peer in names if peer in tools):
            other, ratio = figures.get(peer), (found.get("ratios") or {}).get(f"safehub/{peer}")
            why = "".join(f"; {tool} not measured: {tools[tool].get('reason', '')[:200]}" for tool in ("safehub", peer)
                          if tools.get(tool, {}).get("status") != "ok")
            sizes = " / ".join(f"{tool} {num(figures[tool]['queries_per_objective'])}" for tool in ("safehub", peer)
                               if tool in figures)
            extra = (f", target queries/s {times(ratio['target_queries_per_s'])}" if ratio else "")
            cpu = [f"{tool} {num(1000 * figures[tool]['cpu_s'] / figures[tool]['queries'], 2)} ms"
                   for tool in ("safehub", peer) if figures.get(tool, {}).get("queries")]
            extra += f"; CPU per query {' / '.join(cpu)}" if len(cpu) == 2 else ""
            source = (data.get("versions") or {}).get("safehub_source") or ""
            extra += f"; safehub code at {source.rsplit(' at ', 1)[1]}" if " at " in source else ""
            if peer == "garak" and other:
                extra += f"; garak {num(other.get('objectives'), 0)} goals, one process each, sequential"
            is_goal = peer == "pyrit"
            rows.append(Row(
                f"Adaptive attack throughput vs {names[peer]}, {strategy}",
                f"{num(own['queries_per_s'])} queries/s" if own else "not measured",
                f"{names[peer]}: {num(other['queries_per_s'])} queries/s" if other else f"{names[peer]}: not measured",
                times(ratio["queries_per_s"]) if ratio else "-",
                f"≥ {data.get('goal_ratio', 5.0):g}x" if is_goal else "> 1x",
                None if not ratio else ratio["queries_per_s"] >= (data.get("goal_ratio", 5.0) if is_goal else 1.0),
                f"{found['objectives']} objectives, all in flight, {shape}, mock latency {num(data.get('latency_ms'), 0)} "
                f"ms; queries per objective {sizes or '-'}{extra}{why}; `{command_of(data, 'adaptive')}`",
                versions_of(data, ("safehub", peer, "python")), date_of(data)))
    return rows


# name, command that writes it, rows builder
SOURCES: tuple[tuple[str, str, Callable[..., list[Row]]], ...] = (
    ("engine", "python bench/engine.py", engine_rows),
    ("peers", "python bench/peers.py", peers_rows),
    ("resume", "python bench/resume.py", resume_rows),
    ("local_model", "python bench/local_model.py", local_model_rows),
    ("grader", "python bench/grader.py", grader_rows),
    ("hub", "python bench/hub.py", hub_rows),
    ("guard", "python bench/guard.py", guard_rows),
    ("guard_auth", "python bench/guard.py --key-guessing", guard_auth_rows),
    ("guard_model_tier", "python bench/guard.py --model-tier", guard_model_tier_rows),
    ("guard_screens", "python bench/guard_screens.py", guard_screens_rows),
    ("guard_effect", "python bench/guard_effect.py --limit 1", guard_effect_rows),
    ("adaptive", "python bench/adaptive.py", adaptive_rows),
    ("sandbox", "python bench/sandbox.py", sandbox_rows),
    ("guard_adaptive", "make guard-adaptive", guard_adaptive_rows),
    ("guard_adaptive_scripted", "python bench/guard_adaptive.py --model compliant --attacker scripted --judge scripted "
     "--concurrency 16 --requests 40 --streams 5 --out bench/results/guard_adaptive_scripted.json", guard_adaptive_rows),
)


def load(path: Path) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return (data, None) if isinstance(data, dict) else (None, "not a JSON object")


def build(results: Path) -> str:
    """The whole RESULTS.md text for the result files in `results`."""
    loaded = {name: load(results / f"{name}.json") for name, _, _ in SOURCES if (results / f"{name}.json").exists()}
    engine = loaded.get("engine", (None, None))[0]
    rows: list[Row] = []
    for name, command, builder in SOURCES:
        if name not in loaded:
            rows.append(Row(f"{name} figures", "not measured", what=f"`{command}` writes bench/results/{name}.json"))
            continue
        data, problem = loaded[name]
        if data is not None:
            try:
                built = builder(data, engine) if builder is peers_rows else builder(data)
            except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError, IndexError) as exc:
                problem = f"unexpected shape ({type(exc).__name__}: {exc})"
            else:
                rows.extend(built or [Row(f"{name} figures", "no figures in the file", what=f"`{command}`",
                                          date=date_of(data))])
                continue
        rows.append(Row(f"{name} figures", "unreadable", what=f"bench/results/{name}.json: {problem}; rerun `{command}`"))

    lines = ["# Benchmark results", "",
             "Generated by `python bench/report.py` from `bench/results/*.json` (`make bench` runs every benchmark, then "
             "this); do not edit by hand. Ratios are safehub over the peer or reference in the same run unless the row "
             "says otherwise; figures are medians of repeats on a shared 2-core machine, so read them as noisy. A met? "
             "of **no** marks a missed target.", "",
             "| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(cell(text) for text in row.cells()) + " |" for row in rows]
    peers = loaded.get("peers", (None, None))[0]
    lines += ["", "## Peers that could not be run", ""]
    if peers is None:
        lines.append("bench/results/peers.json is missing or unreadable: no peer was measured (`python bench/peers.py`).")
    else:
        lines += peers_not_run(peers) or ["Every peer in bench/results/peers.json was run."]
        details = peer_details(peers)
        if details:
            lines += ["", "## Peers in detail", "", *details]
    known = {f"{name}.json" for name, _, _ in SOURCES}
    others = sorted(path.name for path in results.glob("*.json") if path.name not in known)
    if others:
        lines += ["", "## Other result files", "", "Not summarized here: " + ", ".join(others) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results", help="folder of the result JSON files")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    text = build(args.results)
    args.out.write_text(text, encoding="utf-8")
    measured = sum(1 for name, _, _ in SOURCES if (args.results / f"{name}.json").exists())
    print(f"wrote {args.out}: {measured} of {len(SOURCES)} result files present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
