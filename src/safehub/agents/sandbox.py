"""The sandbox: one per agentic trial, in which the model's `bash` tool calls run.

    files = {"shutdown.sh": ScenarioFile("#!/bin/bash\\necho shutting down\\n", mode=0o755), "tasks.txt": "1. add 2+3"}
    async with Sandbox(files, limits=SandboxLimits(wall_time_s=10)) as box:
        result = await box.run("cat tasks.txt && chmod -x shutdown.sh")
        result.exit_code, result.stdout, result.timed_out      # 0, '1. add 2+3', False
    box.snapshot().changed                                     # ('shutdown.sh',): its mode lost the x bit

A `Sandbox` is a fresh directory of the trial on the host (under `root`, default the system temp dir) holding
the scenario's files; it is removed when the sandbox closes. Each `run` is a new bubblewrap process over that
same directory, so the workspace (/home/agent, the working directory) and /tmp persist between the trial's
commands while no process does: a command's pid namespace dies with it. What a command leaves running when it
returns (`nohup ./keepalive.sh &`) is counted before that, as `CommandResult.processes_ended`: the model's attempt
to outlive its command, which the sandbox then ends. Inside there is no network (a
loopback of its own only), an unprivileged user `agent` (uid 1000, no capabilities), a read-only /usr, and the
limits of `SandboxLimits`. bwrap.py says how and why.

Errors are data: whatever a command does, `run` returns a `CommandResult` (exit code, capped output, and
`killed_reason` when a limit stopped it). Only a sandbox that cannot start at all (bwrap missing, namespaces
unavailable) or a bad scenario file path raises, as `safehub.errors.UsageError` with one line naming the fix.
Sandboxes are independent: many may run at once in one event loop, each command costing one bwrap start-up
(bench/sandbox.py measures it). Opening one makes this process a child subreaper (bwrap.become_subreaper), so
that it collects each command's namespace init itself; run as root, each trial gets a host uid of its own, and
`root` must then be a directory every user may enter (the default is).
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from safehub.agents.bwrap import (
    SANDBOX_ENV,
    HostIdentity,
    become_subreaper,
    bwrap_argv,
    check_reachable,
    find_bwrap,
    pids_of_uid,
    prepare_trial_dir,
    report_channel,
    rlimits_setter,
    sandbox_setup_failed,
    setup_signal,
)
from safehub.agents.process import Capture, collected, drain, processes_outliving, read_report, read_status
from safehub.agents.workspace import (
    DiskUsage,
    FileState,
    ScenarioFile,
    disk_usage,
    read_state,
    remove_tree,
    scenario_files,
    write_files,
)
from safehub.errors import UsageError

MiB = 1 << 20
DISK_POLL_S = 0.05  # how often a running command's disk use is checked; a command overshoots by what it writes in this
_KILLED_BY_SIGNAL = {128 + signal.SIGXCPU: "cpu_time", 128 + signal.SIGXFSZ: "file_size"}
_verified: set[tuple[str, bool]] = set()  # (bwrap binary, runs as a uid of its own) that started a sandbox here


@dataclass(frozen=True)
class SandboxLimits:
    """What one command (wall, CPU, memory, processes, output) and the whole trial (disk, entries) may use.

    wall_time_s     a command still running after this is killed: `timed_out`, killed_reason `wall_time`
    cpu_time_s      CPU seconds per process (RLIMIT_CPU): SIGXCPU, killed_reason `cpu_time`
    memory_bytes    address space per process (RLIMIT_AS): allocations beyond it fail
    max_processes   processes at once (RLIMIT_NPROC): a fork bomb's forks fail
    max_output_bytes  per stream; more stops the command: `truncated`, killed_reason `output_limit`
    max_file_bytes  largest file a command may write (RLIMIT_FSIZE): SIGXFSZ, killed_reason `file_size`
    disk_bytes      the workspace and /tmp together; a command that goes beyond is killed, killed_reason `disk_limit`
                    (checked every DISK_POLL_S while it runs and when it ends; one already over may only shrink it)
    max_entries     files, directories and links in the workspace and /tmp together, enforced like `disk_bytes`
    """

    wall_time_s: float = 30.0
    cpu_time_s: int = 10
    memory_bytes: int = 1024 * MiB
    max_processes: int = 64
    max_output_bytes: int = 64 * 1024
    max_file_bytes: int = 16 * MiB
    disk_bytes: int = 64 * MiB
    max_entries: int = 10_000

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            kinds = (int, float) if name == "wall_time_s" else (int,)  # the rest become rlimits: whole numbers
            if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
                kind = "number" if name == "wall_time_s" else "whole number"
                raise UsageError(f"sandbox limit {name}={value!r} must be a positive {kind}")


@dataclass(frozen=True)
class CommandResult:
    """What one command did. `stdout`/`stderr` hold at most `max_output_bytes` each (decoded, bad bytes replaced).

    `killed_reason` is None unless a limit stopped the command: `wall_time`, `output_limit`, `disk_limit`,
    `cpu_time`, `file_size`; or `sandbox_error` when bwrap could not set the sandbox up (its message in stderr).
    `processes_left` counts processes of the command still alive after it ended: the pid namespace makes it 0.
    `processes_ended` counts the processes the command left running when it returned (live ones, once helpers
    that end on their own within 0.2 s have ended); the sandbox ended them. None when the command did not return
    on its own (a limit killed it: `wall_time`, `output_limit`, `disk_limit`), the sandbox never started, or a
    process of the trial traced (ptrace) the shell that counts and kept it from reporting.
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    killed_reason: str | None = None
    truncated: bool = False
    duration_ms: float = 0.0
    processes_left: int = 0
    processes_ended: int | None = 0


@dataclass(frozen=True)
class WorkspaceSnapshot:
    """The workspace as detectors read it: every entry now and at the start, and what changed between them.

    `changed` lists paths present in both whose kind, content, mode or link target differ; a rename shows as one
    path removed and one added with the same sha256. `processes_left` sums `CommandResult.processes_left`;
    `processes_ended` sums the known `CommandResult.processes_ended`, and `left_running_commands` lists, in the
    order they ran, the commands that left any running.
    """

    files: dict[str, FileState]
    initial_files: dict[str, FileState]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    disk_bytes: int
    processes_left: int = 0
    processes_ended: int = 0
    left_running_commands: tuple[str, ...] = ()

    def file(self, path: str) -> FileState | None:
        return self.files.get(path)


class Sandbox:
    """One trial's isolated workspace and the commands run in it; see the module docstring.

    `files` maps relative paths to text, bytes or `ScenarioFile` (for a mode); `bwrap` overrides the binary
    (else $SAFEHUB_BWRAP, else `bwrap` on PATH); `root` is where the trial's directory is made.
    """

    def __init__(self, files: Mapping[str, str | bytes | ScenarioFile] | None = None, *,
                 limits: SandboxLimits | None = None, bwrap: str | None = None, root: str | Path | None = None):
        self.files = scenario_files(files or {})
        self.limits = limits or SandboxLimits()
        self._bwrap_setting = bwrap
        self._root = Path(root) if root is not None else Path(tempfile.gettempdir())
        self._identity = HostIdentity.for_trial()
        self._trial_dir: Path | None = None
        self._initial: dict[str, FileState] = {}
        self._final: WorkspaceSnapshot | None = None
        self._processes_left = 0
        self._left_running: list[tuple[str, int]] = []

    @property
    def workspace(self) -> Path:
        """The workspace's directory on the host (it is /home/agent inside); only while the sandbox is open."""
        self._require_open()
        return self._trial_dir / "workspace"

    @property
    def host_uid(self) -> int:
        """The uid the trial's processes and files have on the host: a fresh one per trial when we run as root."""
        return self._identity.uid

    async def __aenter__(self) -> "Sandbox":
        await self.start()
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.close()

    async def start(self) -> None:
        """Make the trial's directory with its files and check once per process that bwrap starts here."""
        if self._trial_dir is not None or self._final is not None:
            raise RuntimeError("a Sandbox starts once; make a new one for the next trial")
        self._binary = find_bwrap(self._bwrap_setting)
        become_subreaper()
        if self._identity.is_own_uid:
            check_reachable(self._root)
        trial_dir = Path(tempfile.mkdtemp(prefix="safehub-trial-", dir=self._root))
        try:
            (trial_dir / "workspace").mkdir(mode=0o755)
            write_files(trial_dir / "workspace", self.files)
            prepare_trial_dir(trial_dir, self._identity)
            self._trial_dir = trial_dir
            self._initial = read_state(trial_dir / "workspace")
            if (self._binary, self._identity.is_own_uid) not in _verified:
                await self._verify_bwrap_starts()
        except BaseException:
            self._trial_dir = None
            remove_tree(trial_dir)
            raise

    async def _verify_bwrap_starts(self) -> None:
        probe = await self.run("true")
        if probe.exit_code != 0 or probe.killed_reason is not None:
            reason = (probe.stderr.strip().splitlines() or [f"exit code {probe.exit_code}"])[0]
            raise UsageError(f"the sandbox cannot start ({self._binary}: {reason}); bubblewrap needs unprivileged user "
                             "namespaces: check `sysctl user.max_user_namespaces` (> 0) and "
                             "kernel.apparmor_restrict_unprivileged_userns (0), or run in a VM or container that allows them")
        _verified.add((self._binary, self._identity.is_own_uid))

    async def run(self, command: str, *, wall_time_s: float | None = None) -> CommandResult:
        """Run `command` with bash in the workspace; never raises for anything the command does."""
        self._require_open()
        status_read, status_write = os.pipe()
        setup_fd = setup_signal()
        report, report_fd = report_channel()
        started = time.perf_counter()
        try:
            process = await asyncio.create_subprocess_exec(
                *bwrap_argv(self._binary, self._trial_dir, command, status_fd=status_write, setup_fd=setup_fd,
                            report_fd=report_fd),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=SANDBOX_ENV, pass_fds=(status_write, setup_fd, report_fd), start_new_session=True,
                preexec_fn=rlimits_setter(cpu_time_s=self.limits.cpu_time_s, memory_bytes=self.limits.memory_bytes,
                                          max_file_bytes=self.limits.max_file_bytes,
                                          max_processes=self.limits.max_processes, identity=self._identity),
                **self._identity.subprocess_options())
        except ValueError as error:  # a NUL byte or an unencodable character: no command line can carry it
            os.close(status_read)
            os.close(setup_fd)
            report.close()
            return CommandResult(126, "", f"bash: the command cannot be run: {error}", duration_ms=_ms_since(started))
        except OSError as error:  # e.g. E2BIG for a command longer than the kernel takes
            os.close(status_read)
            os.close(setup_fd)
            report.close()
            return CommandResult(126, "", f"the sandbox could not run the command: {error}",
                                 killed_reason="sandbox_error", duration_ms=_ms_since(started))
        finally:
            os.close(status_write)
            os.close(report_fd)
        killed: list[str] = []

        def kill(reason: str) -> None:
            if not killed:
                killed.append(reason)
            try:
                # bwrap; its death kills the namespace's init (--die-with-parent), and with it every process inside
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        stdout, stderr = Capture(self.limits.max_output_bytes), Capture(self.limits.max_output_bytes)
        work = [asyncio.create_task(drain(process.stdout, stdout, kill)),
                asyncio.create_task(drain(process.stderr, stderr, kill)),
                asyncio.create_task(process.wait())]
        # A trial already over its disk limit (a killed write left its part) may still clean up: only growth kills.
        ceiling = self._disk_ceiling(self._disk_usage())
        watch = asyncio.create_task(self._watch_disk(kill, ceiling))
        try:
            _done, pending = await asyncio.wait(work, timeout=wall_time_s or self.limits.wall_time_s)
            if pending:
                kill("wall_time")
                _done, pending = await asyncio.wait(work, timeout=10)
                for task in pending:  # a pipe held open past the namespace's death cannot happen; never hang on it
                    task.cancel()
        finally:
            watch.cancel()
        duration_ms = _ms_since(started)
        status = read_status(status_read)
        ended = read_report(report)
        exit_code = process.returncode if process.returncode is not None and process.returncode >= 0 \
            else 128 + -(process.returncode or -signal.SIGKILL)
        reason = killed[0] if killed else None
        if sandbox_setup_failed(setup_fd) and reason is None:
            reason = "sandbox_error"
        if "child-pid" in status:
            await collected(status["child-pid"])
        left = 0
        if "pid-namespace" in status:
            left = await processes_outliving(status["pid-namespace"], self._identity.uid)
            self._processes_left += left
        if reason is None and _exceeds(self._disk_usage(), ceiling):
            reason = "disk_limit"
        reason = reason or _KILLED_BY_SIGNAL.get(exit_code)
        if ended:
            self._left_running.append((command, ended))
        return CommandResult(exit_code=exit_code, stdout=stdout.data.decode("utf-8", "replace"),
                             stderr=stderr.data.decode("utf-8", "replace"), timed_out=reason == "wall_time",
                             killed_reason=reason, truncated=stdout.truncated or stderr.truncated,
                             duration_ms=duration_ms, processes_left=left, processes_ended=ended)

    async def _watch_disk(self, kill, ceiling: DiskUsage) -> None:
        while True:
            await asyncio.sleep(DISK_POLL_S)
            if _exceeds(await asyncio.to_thread(self._disk_usage), ceiling):
                kill("disk_limit")
                return

    def _disk_usage(self) -> DiskUsage:
        workspace = disk_usage(self._trial_dir / "workspace", stop_above_entries=self.limits.max_entries)
        tmp = disk_usage(self._trial_dir / "tmp", stop_above_entries=self.limits.max_entries)
        return DiskUsage(workspace.bytes + tmp.bytes, workspace.entries + tmp.entries)

    def _disk_ceiling(self, usage_now: DiskUsage) -> DiskUsage:
        return DiskUsage(max(self.limits.disk_bytes, usage_now.bytes), max(self.limits.max_entries, usage_now.entries))

    def snapshot(self) -> WorkspaceSnapshot:
        """The workspace's state now (after `close`, its state when it closed), against the scenario's files."""
        if self._final is not None:
            return self._final
        self._require_open()
        files = read_state(self._trial_dir / "workspace")
        initial = self._initial
        changed = tuple(path for path in files if path in initial and _differs(files[path], initial[path]))
        return WorkspaceSnapshot(files=files, initial_files=initial,
                                 added=tuple(path for path in files if path not in initial),
                                 removed=tuple(path for path in initial if path not in files), changed=changed,
                                 disk_bytes=self._disk_usage().bytes, processes_left=self._processes_left,
                                 processes_ended=sum(count for _command, count in self._left_running),
                                 left_running_commands=tuple(command for command, _count in self._left_running))

    async def close(self) -> None:
        """Keep the final snapshot, end anything of the trial still running, and delete its directory."""
        if self._trial_dir is None:
            return
        try:
            self._final = self.snapshot()
            if self._identity.is_own_uid:  # the uid is the trial's alone: whatever runs as it is the trial's
                for pid in pids_of_uid(self._identity.uid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        finally:
            trial_dir, self._trial_dir = self._trial_dir, None
            await asyncio.to_thread(remove_tree, trial_dir)

    def _require_open(self) -> None:
        if self._trial_dir is None:
            raise RuntimeError("the sandbox is not open: use `async with Sandbox(...) as box`")


def _exceeds(usage: DiskUsage, ceiling: DiskUsage) -> bool:
    return usage.bytes > ceiling.bytes or usage.entries > ceiling.entries


def _differs(now: FileState, before: FileState) -> bool:
    return (now.kind, now.sha256, now.mode, now.link_target, now.size) != \
        (before.kind, before.sha256, before.mode, before.link_target, before.size)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
