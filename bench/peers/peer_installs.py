"""Installing the peers for bench/peers.py, each into its own directory under bench/.venvs/, pinned.

    python bench/peers.py --setup      # installs what is missing (or differently pinned), then stops

A marker file in each directory records the pins it was installed with; a missing or different marker
means a fresh install. A peer that cannot be installed or started comes back with the reason, never raises.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1]
PEERS_DIR = BENCH_DIR / "peers"
VENVS = BENCH_DIR / ".venvs"

# Pinned, so a figure can be traced to the exact code that produced it. promptfoo 0.120.19 is the last release
# whose engines field admits Node 20 (0.120.20 and later ask for >= 22.22); this machine has Node 20.
INSPECT_REQUIREMENTS = ("inspect-ai==0.3.285", "openai==3.57.0")
TORCH_REQUIREMENT = "torch==2.13.0"  # the CPU wheel on this machine's disk; garak would otherwise pull a CUDA build
GARAK_REQUIREMENTS = ("garak==0.17.1",)
PROMPTFOO_PACKAGE = "promptfoo@0.120.19"
PYRIT_REQUIREMENTS = ("pyrit==1.1.0",)  # bench/adaptive.py: its TAP and Crescendo attacks

class BenchmarkError(RuntimeError):
    """A tool did not do the whole job (or could not be run); its timing would be meaningless."""


@dataclass
class Install:
    """Whether a tool can be run here, with what, and if not, why."""

    tool: str
    is_ready: bool
    version: str | None = None
    reason: str | None = None
    commands: list[list[str]] = field(default_factory=list)
    log: str | None = None
    install_s: float | None = None


def _run_logged(command: list[str], log_path: Path, timeout_s: float = 1800, cwd: Path | None = None) -> None:
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, cwd=cwd,
                                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if completed.returncode != 0:
        tail = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                if "is ignored: it is neither a file nor a directory" not in line][-15:]
        raise BenchmarkError(f"`{' '.join(command)}` exited {completed.returncode}: " + " | ".join(tail))


def _pip_steps(venv: Path, *requirement_sets: tuple[str, ...]) -> list[list[str]]:
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    # The venv's own pip is old; its resolver took many minutes on inspect-ai's and garak's dependency trees here.
    return [[sys.executable, "-m", "venv", str(venv)], [*pip, "--upgrade", "pip"],
            *([*pip, *requirements] for requirements in requirement_sets)]


def install_steps(tool: str) -> list[list[str]]:
    if tool == "inspect_ai":
        return _pip_steps(VENVS / "inspect", INSPECT_REQUIREMENTS)
    if tool == "garak":
        return _pip_steps(VENVS / "garak", (TORCH_REQUIREMENT,), GARAK_REQUIREMENTS)
    if tool == "pyrit":
        return _pip_steps(VENVS / "pyrit", PYRIT_REQUIREMENTS)
    if tool == "promptfoo":
        prefix = VENVS / "promptfoo"
        # --omit=optional skips 1.4 GB of agent SDKs, browsers and cloud clients the OpenAI provider never loads.
        return [["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                 "--save-exact", "--omit=optional", PROMPTFOO_PACKAGE]]
    raise ValueError(tool)


def install_pins(tool: str) -> list[str]:
    return {"inspect_ai": list(INSPECT_REQUIREMENTS), "garak": [TORCH_REQUIREMENT, *GARAK_REQUIREMENTS],
            "promptfoo": [PROMPTFOO_PACKAGE, "--omit=optional"], "pyrit": list(PYRIT_REQUIREMENTS)}[tool]


def _tool_dir(tool: str) -> Path:
    return VENVS / {"inspect_ai": "inspect", "garak": "garak", "promptfoo": "promptfoo", "pyrit": "pyrit"}[tool]


def _probe_version(tool: str) -> str:
    if tool == "promptfoo":
        command = [str(promptfoo_bin()), "--version"]
    else:
        package = {"inspect_ai": "inspect-ai", "garak": "garak", "pyrit": "pyrit"}[tool]
        command = [str(_tool_dir(tool) / "bin" / "python"), "-c",
                   f"import importlib.metadata as m; print(m.version({package!r}))"]
    env = {**os.environ, **PROMPTFOO_ENV} if tool == "promptfoo" else None
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if completed.returncode != 0:
        raise BenchmarkError(f"`{' '.join(command)}` exited {completed.returncode}: {completed.stderr[-800:]}")
    return completed.stdout.strip().splitlines()[-1]


def ensure_installed(tool: str, *, force: bool = False) -> Install:
    """Install `tool` into its own directory under bench/.venvs/ unless the same pins are there already."""
    if not shutil.which("npm") and tool == "promptfoo":
        return Install(tool, False, reason="npm is not on PATH (promptfoo is installed with npm and run with node)")
    directory = _tool_dir(tool)
    steps = install_steps(tool)
    marker = directory / ".safehub-bench-installed.json"
    log_path = VENVS / f"{tool}-install.log"
    wanted = {"pins": install_pins(tool), "python": platform.python_version()}
    recorded = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else {}
    if force or {key: recorded.get(key) for key in wanted} != wanted:
        VENVS.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            shutil.rmtree(directory)  # a half-finished or differently pinned install
        directory.mkdir(parents=True)
        log_path.write_text("", encoding="utf-8")
        print(f"setup: installing {tool} into {directory} (log: {log_path})", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            for step in steps:
                _run_logged(step, log_path)
        except (BenchmarkError, subprocess.TimeoutExpired, OSError) as exc:
            return Install(tool, False, reason=f"install failed: {exc}", commands=steps, log=str(log_path))
        recorded = {**wanted, "install_s": round(time.monotonic() - started, 1),
                    "installed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        marker.write_text(json.dumps(recorded), encoding="utf-8")
        print(f"setup: {tool} installed in {recorded['install_s']:.0f} s", file=sys.stderr, flush=True)
    try:
        version = _probe_version(tool)
    except (BenchmarkError, subprocess.TimeoutExpired, OSError) as exc:
        return Install(tool, False, reason=f"installed but does not start: {exc}", commands=steps, log=str(log_path))
    return Install(tool, True, version=version, commands=steps, log=str(log_path), install_s=recorded.get("install_s"))


PROMPTFOO_ENV = {  # offline and quiet, otherwise promptfoo's defaults
    "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_DISABLE_SHARING": "1",
    "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1", "NO_UPDATE_NOTIFIER": "1", "DO_NOT_TRACK": "1"}


def promptfoo_bin() -> Path:
    return VENVS / "promptfoo" / "node_modules" / ".bin" / "promptfoo"
