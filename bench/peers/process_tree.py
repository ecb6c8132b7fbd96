"""Measuring a whole process tree for bench/peers.py: wall time, CPU from os.wait4, memory of every process.

    measurement = measure_tree(["garak", ...], timeout_s=600)
    measurement.wall_s, measurement.cpu_s, measurement.peak_rss_mb, measurement.peak_tree_pss_mb
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import Measurement  # noqa: E402

RSS_SAMPLE_S = 0.25  # each sample reads /proc for every process (~5 ms CPU): keep it a small share of a core


@dataclass
class TreeMeasurement(Measurement):
    """A `Measurement` plus the whole process tree's memory (peak summed PSS and RSS) and its largest process count."""

    peak_tree_pss_mb: float = 0.0
    peak_tree_rss_sum_mb: float = 0.0
    max_processes: int = 1
    timed_out: bool = False


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) for every process we can read."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return table


def tree_pids(root: int) -> set[int]:
    """`root`, its descendants, and the other members of its session (workers re-parented after a fork)."""
    table = _proc_table()
    members = {pid for pid, (_, session) in table.items() if session == root}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        members.add(parent)
        frontier.extend(pid for pid, (ppid, _) in table.items() if ppid == parent and pid not in members)
    return members & table.keys()


def tree_memory_kib(root: int) -> tuple[int, int, int]:
    """(summed PSS, summed RSS, process count) of the tree: PSS splits shared pages between their sharers."""
    pss = rss = count = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
                lines = rollup.read().splitlines()
        except OSError:
            continue
        count += 1
        for line in lines:
            if line.startswith(b"Pss:"):
                pss += int(line.split()[1])
            elif line.startswith(b"Rss:"):
                rss += int(line.split()[1])
    return pss, rss, count


def measure_tree(command: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
                 timeout_s: float | None = None) -> TreeMeasurement:
    """Run `command` in a new session; time it, take CPU from os.wait4 and sample the tree's memory meanwhile.

    The sampler waits at least 5x as long as its last sample took, so it never takes more than a fifth of
    a core from the tool (it matters with garak's hundreds of workers). On timeout, and once the leader has
    exited, the whole session is killed, so no worker outlives its measurement.
    """
    command = [str(part) for part in command]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        peak = {"pss": 0, "rss": 0, "processes": 1}
        finished = threading.Event()
        timed_out = threading.Event()

        def sample() -> None:
            interval_s = RSS_SAMPLE_S
            while not finished.wait(interval_s):
                sampled_at = time.perf_counter()
                pss, rss, count = tree_memory_kib(process.pid)
                peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)
                peak["processes"] = max(peak["processes"], count)
                interval_s = max(RSS_SAMPLE_S, 5 * (time.perf_counter() - sampled_at))
                if timeout_s and time.perf_counter() - started > timeout_s and not timed_out.is_set():
                    timed_out.set()
                    _kill_session(process.pid)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
        finished.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        _kill_session(process.pid)  # stragglers the tool left behind
        out.seek(0)
        err.seek(0)
        largest_mb = usage.ru_maxrss / 1024.0  # KiB on Linux: the largest single process (wait4 keeps the max)
        return TreeMeasurement(command=command, returncode=process.returncode, wall_s=wall_s, user_s=usage.ru_utime,
                               sys_s=usage.ru_stime, peak_rss_mb=largest_mb,
                               stdout=out.read().decode("utf-8", "replace"), stderr=err.read().decode("utf-8", "replace"),
                               peak_tree_pss_mb=peak["pss"] / 1024.0, peak_tree_rss_sum_mb=max(peak["rss"] / 1024.0, largest_mb),
                               max_processes=peak["processes"], timed_out=timed_out.is_set())


def _kill_session(session: int) -> None:
    try:
        os.killpg(session, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
