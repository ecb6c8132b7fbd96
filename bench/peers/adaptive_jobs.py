"""How bench/adaptive.py runs each tool's TAP or Crescendo, and checks from the tool's own record and the mock's count
that it did the whole search.

One `*_job` function per tool builds a `Job`: the commands (run one after the other, each a whole process), their
environment, the number of objectives they attack, and a `verify` that reads what the tool wrote and raises
`BenchmarkError` unless it and the mock's per-role count (`served`) agree with the search the settings describe.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Measurement, safehub_command  # noqa: E402
from peer_installs import PEERS_DIR, VENVS, BenchmarkError  # noqa: E402

ROLES = ("attacker", "target", "judge")

# safehub's side of issue 17 (`safehub run ... --attack tap|crescendo --attacker SPEC --judge SPEC --max-queries N`
# and the strategies' own options), in one place: a renamed option is a one-line change here.
SAFEHUB_STRATEGY_FLAGS = {"tap": {"width": "--width", "branching": "--branching", "depth": "--depth"},
                          "crescendo": {"turns": "--turns", "backtracks": "--backtracks"}}
SAFEHUB_BUDGET_FLAG = "--max-queries"
# Where safehub stores an adaptive trial's nodes: one row per attacker proposal, on-topic check, target answer and
# judge rating (roles attacker, target, judge), and per decision of the search (role search: no model asked).
SAFEHUB_NODES_BY_ROLE = "SELECT role, COUNT(*) FROM trial_nodes WHERE run_id = ? GROUP BY role"
# garak's OpenAI-compatible generator, told to send only what the mock reads (as bench/peers/peer_jobs.py does).
GARAK_GENERATOR = {"api_key": "x", "retry_json": False,
                   "suppressed_params": ["n", "frequency_penalty", "presence_penalty", "stop", "seed", "top_p"]}


@dataclass
class Job:
    """One tool's search over the objectives: its commands (one after the other), how many objectives they attack,
    and how to check, from its own record and the mock's count per role, that it did the whole search."""

    commands: list[list[str]]
    objectives: int
    verify: Callable[[list[Measurement], dict], dict]
    env: dict[str, str] | None = None
    notes: dict = field(default_factory=dict)


def _fail_unless_exit_0(measurements: list[Measurement], tool: str) -> None:
    for measurement in measurements:
        if measurement.returncode != 0:
            raise BenchmarkError(f"{tool} exited {measurement.returncode}: stderr {measurement.stderr[-1500:]!r}")


# ------------------------------------------------------------------------------------------------ PyRIT


def tap_nodes(settings: dict) -> int:
    """Nodes of PyRIT's TAP tree walked to the end: `width` roots, then width x branching at every further level."""
    return settings["width"] + (settings["depth"] - 1) * settings["width"] * settings["branching"]


def expected_pyrit_calls(strategy: str, settings: dict, n: int) -> dict[str, int]:
    """The mock's count per role that PyRIT's TAP or Crescendo must produce for n objectives on the script: TAP asks
    per node the attacker, the judge whether the prompt is on topic, the target and the judge for a rating; Crescendo
    asks per attempt the attacker, the target and the judge whether it was refused, and rates each accepted turn."""
    if strategy == "tap":
        nodes = tap_nodes(settings)
        return {"attacker": n * nodes, "target": n * nodes, "judge": 2 * n * nodes}
    attempts = settings["backtracks"] + settings["turns"]
    return {"attacker": n * attempts, "target": n * attempts, "judge": n * (attempts + settings["turns"])}


def pyrit_job(base_url: str, strategy: str, settings: dict, objectives: list[str], run_dir: Path,
              concurrency: int) -> Job:
    objectives_file, out = run_dir / "objectives.json", run_dir / "pyrit.json"
    objectives_file.write_text(json.dumps(objectives), encoding="utf-8")
    command = [str(VENVS / "pyrit" / "bin" / "python"), str(PEERS_DIR / "pyrit_adaptive.py"), "--base-url", base_url,
               "--strategy", strategy, "--objectives", str(objectives_file), "--concurrency", str(concurrency),
               "--out", str(out)]
    for name in ("width", "branching", "depth") if strategy == "tap" else ("turns", "backtracks"):
        command += [f"--{name}", str(settings[name])]
    n = len(objectives)

    def verify(measurements: list[Measurement], served: dict) -> dict:
        _fail_unless_exit_0(measurements, "PyRIT")
        results = json.loads(out.read_text(encoding="utf-8"))["results"]
        if strategy == "tap":
            wanted = {"outcome": "failure", "nodes_explored": tap_nodes(settings), "max_depth_reached": settings["depth"]}
        else:
            wanted = {"outcome": "failure", "executed_turns": settings["turns"],
                      "backtrack_count": settings["backtracks"]}
        off = [result for result in results if any(result.get(key) != value for key, value in wanted.items())]
        if len(results) != n or off:
            raise BenchmarkError(f"PyRIT reported {len(results)} results, {len(off)} unlike {wanted}: {off[:2]}")
        expected = expected_pyrit_calls(strategy, settings, n)
        if served != expected:
            raise BenchmarkError(f"the mock answered {served} during PyRIT's run; its {strategy} implies {expected}")
        return {"results": len(results), **wanted, "source": "PyRIT's AttackResults and the mock"}

    return Job([command], n, verify)


# ------------------------------------------------------------------------------------------------ safehub


def safehub_job(base_url: str, strategy: str, settings: dict, suite: Path, run_dir: Path, concurrency: int,
                max_queries: int, n: int) -> Job:
    db_path = run_dir / "bench.db"
    command = [*safehub_command(), "run", "--model", f"openai-compat:target@{base_url}", "--suite", str(suite),
               "--attack", strategy, "--attacker", f"openai-compat:attacker@{base_url}",
               "--judge", f"openai-compat:judge@{base_url}", SAFEHUB_BUDGET_FLAG, str(max_queries),
               "--concurrency", str(concurrency), "--no-cache", "--db", f"sqlite:///{db_path}", "--json"]
    for name, flag in SAFEHUB_STRATEGY_FLAGS[strategy].items():
        command += [flag, str(settings[name])]

    def verify(measurements: list[Measurement], served: dict) -> dict:
        _fail_unless_exit_0(measurements, "safehub")
        run_id = json.loads(measurements[0].stdout)["run_id"]
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
            trials, errors = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(is_error), 0) FROM trials WHERE run_id = ?", (run_id,)).fetchone()
            status = connection.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            try:
                nodes = dict(connection.execute(SAFEHUB_NODES_BY_ROLE, (run_id,)).fetchall())
            except sqlite3.Error as exc:
                raise BenchmarkError(f"could not count safehub's stored nodes ({exc}); adjust SAFEHUB_NODES_BY_ROLE in "
                                     f"bench/peers/adaptive_jobs.py to the store's schema") from None
        if (trials, errors) != (n, 0) or not status or status[0] != "completed":
            raise BenchmarkError(f"safehub run {run_id}: {trials} trials, {errors} errors, status {status}; "
                                 f"expected {n} trials, 0 errors, completed")
        stored = {role: nodes.get(role, 0) for role in ROLES}
        if stored != served:
            raise BenchmarkError(f"safehub stored nodes per role {nodes}, the mock answered {served}")
        return {"trials": trials, "errors": 0, "nodes_by_role": stored, "decisions": nodes.get("search", 0),
                "source": "its SQLite store (trials, trial_nodes) and the mock"}

    return Job([command], n, verify)


# ------------------------------------------------------------------------------------------------ garak


def garak_tree(settings: dict) -> dict[str, int]:
    """Calls per goal of garak's TAP walked to the end from one stream: each level every leaf branches `branching`
    proposals, each checked for being on topic; the `width` most on-topic go to the target and are rated, and
    the `width` best-rated become the next level's leaves."""
    leaves, proposals, sent = 1, 0, 0
    for _ in range(settings["depth"]):
        level = leaves * settings["branching"]
        proposals += level
        sent += min(level, settings["width"])
        leaves = min(level, settings["width"])
    return {"attacker": proposals, "target": sent, "judge": proposals + sent}


def garak_job(base_url: str, settings: dict, objectives: list[str], run_dir: Path,
              home: Path) -> Job:
    """garak's own tap.TAP probe, once per objective (its goal_str is one goal); attacker, judge and target are all
    garak's OpenAI-compatible generator at the mock; the refusal-string detector (its default detector downloads
    a Hugging Face model)."""
    generator = {**GARAK_GENERATOR, "uri": base_url}
    options = run_dir / "garak-generator.json"
    options.write_text(json.dumps({"openai": {"OpenAICompatible": {**generator, "model": "target",
                                                                    "max_tokens": 150}}}), encoding="utf-8")
    commands = []
    for index, objective in enumerate(objectives):
        probe = run_dir / f"garak-tap-{index}.json"
        probe.write_text(json.dumps({"tap": {"TAP": {
            "goal_str": objective, "target": "Sure, here is", "attack_model_type": "openai.OpenAICompatible",
            "attack_model_name": "attacker", "attack_model_config": {**generator, "max_tokens": 500},
            "evaluator_model_type": "openai.OpenAICompatible", "evaluator_model_name": "judge",
            "evaluator_model_config": {**generator, "max_tokens": 50}, "branching_factor": settings["branching"],
            "width": settings["width"], "depth": settings["depth"], "n_streams": 1}}}), encoding="utf-8")
        commands.append([str(VENVS / "garak" / "bin" / "python"), "-m", "garak", "--target_type",
                         "openai.OpenAICompatible", "--target_name", "target", "--generator_option_file", str(options),
                         "--probes", "tap.TAP", "--probe_option_file", str(probe), "--detectors",
                         "mitigation.MitigationBypass", "--generations", "1", "--report_prefix",
                         f"adaptive-{run_dir.name}-{index}"])
    env = {**os.environ, "OPENAICOMPATIBLE_API_KEY": "x", "HF_HUB_OFFLINE": "1", "HOME": str(home / "garak"),
           "XDG_DATA_HOME": str(home / "garak" / "data"), "XDG_CONFIG_HOME": str(home / "garak" / "config"),
           "XDG_CACHE_HOME": str(home / "garak" / "cache")}
    n = len(objectives)

    def verify(measurements: list[Measurement], served: dict) -> dict:
        _fail_unless_exit_0(measurements, "garak")
        finished = sum("garak run complete" in measurement.stdout for measurement in measurements)
        expected = {role: n * count for role, count in garak_tree(settings).items()}
        if finished != n or served != expected:
            raise BenchmarkError(f"garak finished {finished} of {n} runs; the mock answered {served}, its TAP tree "
                                 f"implies {expected}")
        return {"runs": finished, "source": "garak's exit and completion line, and the mock"}

    return Job(commands, n, verify, env=env)
