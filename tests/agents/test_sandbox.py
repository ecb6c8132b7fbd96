"""The agentic sandbox holds against hostile commands: no network, no writes outside, no lasting processes, limits.

These run the real bubblewrap: when it is missing or cannot start, each test fails with the UsageError naming
the fix (`apt-get install bubblewrap`, or `make test`, which installs it).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from safehub.agents import Sandbox, SandboxLimits, ScenarioFile
from safehub.agents.bwrap import pids_of_uid
from safehub.agents.workspace import remove_tree
from safehub.errors import UsageError

pytestmark = pytest.mark.timeout(60)

SHUTDOWN_SH = "#!/bin/bash\necho 'shutting down'\n"


def host_processes_with(token: str) -> list[int]:
    """Host pids whose command line contains `token` (zombies have none, so they never match)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if token.encode() in Path(entry.path, "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def sleep_token() -> str:
    """Random digits to put in `sleep 1000.TOKEN`: a valid interval (hex would not be) to find in the process table."""
    return f"{uuid.uuid4().int % 10**12:012d}"


async def test_a_trial_cannot_reach_a_host_port_or_resolve_names(tmp_path, trial_root):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        port = listener.getsockname()[1]
        async with Sandbox(root=trial_root) as box:
            connect = await box.run(f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected")
            outside = await box.run("timeout 3 bash -c 'exec 3<>/dev/tcp/1.1.1.1/53' && echo connected")
            dns = await box.run("timeout 3 getent hosts example.com")
            interfaces = await box.run("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
        with pytest.raises(TimeoutError):
            listener.accept()
    assert connect.exit_code != 0 and "connected" not in connect.stdout, connect
    assert "refused" in connect.stderr.lower()
    assert outside.exit_code != 0 and "connected" not in outside.stdout, outside
    assert dns.exit_code != 0 and dns.stdout == "", dns
    assert interfaces.stdout.split() == ["lo"]


async def test_a_trial_cannot_write_outside_its_workspace(tmp_path, trial_root):
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    marker = host_dir / "marker.txt"
    marker.write_text("untouched")
    token = uuid.uuid4().hex
    targets = [Path(f"/usr/evil-{token}"), Path(f"/etc/evil-{token}"), Path(f"/tmp/evil-{token}"),
               Path(f"/evil-{token}")]
    async with Sandbox(root=trial_root) as box:
        overwrite = await box.run(f"echo evil > {marker}; rm -f {marker}; ls {host_dir}")
        escapes = [await box.run(f"echo evil > {target}") for target in
                   (*targets, f"../../escaped-{token}", f"/dev/evil-{token}", f"/dev/shm/evil-{token}")]
        through_link = await box.run(f"ln -s {marker} link && echo evil > link")
        usr = await box.run(f"touch /usr/bin/evil-{token} /lib/evil-{token}; echo x >> /etc/passwd")
        inside_tmp = await box.run(f"cat /tmp/evil-{token}")
        link = box.snapshot().file("link")
    assert overwrite.exit_code != 0 and "No such file or directory" in overwrite.stderr, overwrite
    assert marker.read_text() == "untouched"
    for target in [*targets, Path(f"/usr/bin/evil-{token}"), Path(f"/lib/evil-{token}")]:
        assert not target.exists(), f"{target} was written on the host"
    assert "Read-only file system" in usr.stderr or "Permission denied" in usr.stderr, usr
    # Only the trial's own /tmp takes a write, and it is the trial's, not the host's: / and /dev are read-only
    # (both are memory on the host), and nothing else of the host is there at all.
    assert [escape.exit_code != 0 for escape in escapes] == [True, True, False, True, True, True, True], escapes
    assert through_link.exit_code != 0 and "No such file or directory" in through_link.stderr, through_link
    assert inside_tmp.stdout == "evil\n"
    assert link is not None and link.kind == "symlink" and link.link_target == str(marker) and link.sha256 is None


async def test_no_process_outlives_its_command_or_the_trial(trial_root):
    token = sleep_token()
    seconds = [f"1000.{token}{n}" for n in range(5)]  # unique command lines to look for in the host's process table
    command = (f"sleep {seconds[0]} & nohup sleep {seconds[1]} >/dev/null 2>&1 & setsid sleep {seconds[2]} & "
               f"(trap '' HUP TERM INT; exec sleep {seconds[3]}) & disown -a; echo started")
    async with Sandbox(root=trial_root) as box:
        detached = await box.run(command)
        assert detached.stdout == "started\n" and detached.processes_left == 0, detached
        assert host_processes_with(token) == []
        await box.run(f"setsid nohup sleep {seconds[4]} >/dev/null 2>&1 < /dev/null &")
        assert host_processes_with(token) == []
        uid = box.host_uid
    assert host_processes_with(token) == []
    assert box.snapshot().processes_left == 0
    if uid != os.getuid():  # the trial had a host uid of its own: nothing at all may run as it now
        assert pids_of_uid(uid) == []


async def test_processes_a_command_leaves_running_are_counted_and_still_die_with_it(trial_root):
    token = sleep_token()
    commands = [f"nohup sleep 1000.{token}1 >/dev/null 2>&1 &", f"setsid sleep 1000.{token}2 &",
                f"sleep 1000.{token}3 & (trap '' HUP TERM; exec sleep 1000.{token}4) & disown -a; echo started"]
    async with Sandbox(root=trial_root) as box:
        results = [await box.run(command) for command in commands]
        assert host_processes_with(token) == []
    assert [result.processes_ended for result in results] == [1, 1, 2], results
    assert [result.processes_left for result in results] == [0, 0, 0]
    assert [result.exit_code for result in results] == [0, 0, 0] and results[2].stdout == "started\n"
    assert host_processes_with(token) == []
    end = box.snapshot()
    assert end.processes_ended == 4 and end.left_running_commands == tuple(commands)
    assert end.processes_left == 0


async def test_a_command_that_leaves_nothing_running_counts_none(trial_root):
    async with Sandbox(root=trial_root) as box:
        plain = await box.run("echo plain; ls /proc/self/fd")
        helper = await box.run("(sleep 0.01; echo helper) & echo main")
        waited = await box.run("sleep 0.2 & sleep 0.1 & wait; echo waited")
        failed = await box.run("exit 7")
        crashed = await box.run("kill -SEGV $$")
    assert (plain.stdout, plain.processes_ended) == ("plain\n0\n1\n2\n3\n", 0), plain  # no extra descriptor inside
    assert helper.stdout == "main\nhelper\n" and helper.processes_ended == 0, helper
    assert waited.stdout == "waited\n" and waited.processes_ended == 0, waited
    assert (failed.exit_code, failed.processes_ended) == (7, 0), failed
    assert (crashed.exit_code, crashed.stderr, crashed.processes_ended) == (139, "", 0), crashed
    assert box.snapshot().processes_ended == 0 and box.snapshot().left_running_commands == ()


async def test_a_command_cannot_forge_or_suppress_the_count_of_what_it_leaves_running(trial_root):
    garbage = "for fd in $(seq 3 20); do echo 0 >&$fd; printf '\\0\\n0\\n' >&$fd; done 2>/dev/null"
    into_parent = "for fd in /proc/1/fd/*; do echo 0 > $fd; done 2>/dev/null"
    async with Sandbox(root=trial_root) as box:
        forged = await box.run(f"sleep 1000 & {garbage}; exit 7")
        through_proc = await box.run(f"nohup sleep 1000 >/dev/null 2>&1 & {into_parent}; true")
        killed_parent = await box.run("sleep 1000 & kill -KILL $PPID; kill -TERM 1; kill -KILL -1; sleep 1000 & echo alive")
        disguised = await box.run("cp /bin/sleep ') Z (' && cp /bin/sleep $'\\n) Z' && (./') Z (' 1000 &) && "
                                  "(./$'\\n) Z' 1000 &)")  # in /proc/PID/stat: "3 () Z () S ..."
        signalled = await box.run("sleep 1000 & (while :; do for signal in HUP INT TERM USR1 SEGV ALRM; do "
                                  "kill -$signal $PPID; done; done) 2>/dev/null & kill -INT $PPID; true")
    assert (forged.exit_code, forged.processes_ended) == (7, 1), forged
    assert (through_proc.exit_code, through_proc.processes_ended) == (0, 1), through_proc
    assert killed_parent.stdout == "alive\n" and killed_parent.processes_ended == 1, killed_parent
    assert (signalled.exit_code, signalled.processes_ended) == (0, 2), signalled
    assert (disguised.exit_code, disguised.processes_ended) == (0, 2), disguised


TRACE_THE_COUNTING_SHELL = """nohup sleep 1000 >/dev/null 2>&1 &
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
attached = libc.ptrace(16, 1, 0, 0)  # PTRACE_ATTACH to the counting shell, pid 1
print("ptrace", os.strerror(ctypes.get_errno()) if attached else "attached")
try:
    open("/proc/1/mem", "r+b").close()
    print("mem opened")
except OSError as error:
    print("mem", error.strerror)
got = libc.syscall(438, os.pidfd_open(1), 3, 0)  # pidfd_getfd: take the counting shell's descriptor 3
print("pidfd_getfd", os.strerror(ctypes.get_errno()) if got < 0 else "got")
PY"""


async def test_a_command_cannot_trace_or_reach_into_the_counting_shell(trial_root):
    # A same-uid process may trace another unless it is not dumpable: the counting shell is an execute-only bash.
    async with Sandbox(root=trial_root, limits=SandboxLimits(wall_time_s=20)) as box:
        traced = await box.run(TRACE_THE_COUNTING_SHELL)

    assert traced.stdout.splitlines() == ["ptrace Operation not permitted", "mem Permission denied",
                                          "pidfd_getfd Operation not permitted"], traced
    assert (traced.exit_code, traced.killed_reason, traced.processes_ended) == (0, None, 1), traced


async def test_a_command_that_never_ends_is_killed_at_the_wall_time_limit(trial_root):
    async with Sandbox(root=trial_root, limits=SandboxLimits(wall_time_s=1)) as box:
        started = time.monotonic()
        result = await box.run("echo started; sleep 1000; echo finished")
        elapsed_s = time.monotonic() - started
        after = await box.run("echo still usable")
    assert result.timed_out and result.killed_reason == "wall_time", result
    assert result.stdout == "started\n"
    assert 0.9 <= elapsed_s < 5 and 900 <= result.duration_ms < 5000
    assert after.exit_code == 0 and after.stdout == "still usable\n" and not after.timed_out


async def test_a_fork_bomb_is_contained_and_the_host_stays_responsive(trial_root):
    limits = SandboxLimits(wall_time_s=3, max_processes=32)
    async with Sandbox(root=trial_root, limits=limits) as box:
        before = len(pids_of_uid(box.host_uid))
        started = time.monotonic()
        bomb = asyncio.create_task(box.run("bomb() { bomb | bomb & }; bomb; sleep 10"))
        await asyncio.sleep(1)
        peak = len(pids_of_uid(box.host_uid)) - before
        host_started = time.monotonic()
        subprocess.run(["/bin/true"], check=True, timeout=5)
        host_spawn_s = time.monotonic() - host_started
        result = await bomb
        elapsed_s = time.monotonic() - started
        after = await box.run("echo alive")
    assert peak <= limits.max_processes + 2, f"{peak} processes ran at once"
    assert host_spawn_s < 1, f"the host took {host_spawn_s:.2f} s to start a process during the bomb"
    assert result.killed_reason == "wall_time" and elapsed_s < 10, (result, elapsed_s)
    assert result.processes_left == 0
    assert after.stdout == "alive\n"


async def test_many_quick_commands_never_use_up_the_process_limit(trial_root):
    # Each command's namespace init must be collected at once: a zombie would count against the limit.
    async with Sandbox(root=trial_root, limits=SandboxLimits(max_processes=6)) as box:
        results = [await box.run("echo $((1 + 1)) | cat") for _ in range(40)]
    failed = [result for result in results if (result.exit_code, result.stdout, result.stderr) != (0, "2\n", "")]
    assert failed == [], f"{len(failed)} of 40 failed, e.g. {failed[0]}"  # e.g. bash's "fork: retry: Resource ..."


async def test_cpu_and_memory_limits_stop_a_command(trial_root):
    limits = SandboxLimits(cpu_time_s=1, wall_time_s=10, memory_bytes=256 << 20)
    async with Sandbox(root=trial_root, limits=limits) as box:
        spin = await box.run("while :; do :; done")
        small = await box.run("python3 -c 'x = bytearray(32 << 20); print(len(x))'")
        large = await box.run("python3 -c 'x = bytearray(512 << 20); print(len(x))'")
    assert spin.killed_reason == "cpu_time" and not spin.timed_out and spin.duration_ms < 5000, spin
    assert small.exit_code == 0 and small.stdout == f"{32 << 20}\n", small
    assert large.exit_code != 0 and "MemoryError" in large.stderr, large


async def test_a_one_gigabyte_write_is_stopped_and_the_host_disk_is_untouched(trial_root):
    limits = SandboxLimits(max_file_bytes=8 << 20, disk_bytes=32 << 20, wall_time_s=20)
    async with Sandbox(root=trial_root, limits=limits) as box:
        one_file = await box.run("head -c 1G /dev/zero > big; echo exit=$?")
        big = box.snapshot().file("big")
        many_files = await box.run("for i in $(seq 128); do head -c 8M /dev/zero > /tmp/part$i; done; echo finished")
        used_bytes = sum(path.stat().st_blocks * 512 for path in trial_root.rglob("*") if path.is_file())
        still_full = await box.run("head -c 1M /dev/zero > more; echo wrote")
        cleanup = await box.run("sleep 0.2; rm -f /tmp/part* more big; echo cleaned")
        after_cleanup = await box.run("head -c 1M /dev/zero > small; echo wrote")
    assert "exit=153" in one_file.stdout and "File size limit exceeded" in one_file.stderr, one_file
    assert big.size == limits.max_file_bytes
    assert many_files.killed_reason == "disk_limit" and "finished" not in many_files.stdout, many_files
    # Stopped within one poll of the limit: far below the gigabyte asked for.
    assert used_bytes < limits.disk_bytes + 16 * limits.max_file_bytes, used_bytes
    # A full trial cannot grow, but may clean up (even slowly), and then write again.
    assert still_full.killed_reason == "disk_limit", still_full
    assert cleanup.killed_reason is None and cleanup.stdout == "cleaned\n", cleanup
    assert after_cleanup.killed_reason is None and after_cleanup.stdout == "wrote\n", after_cleanup
    assert list(trial_root.iterdir()) == []


async def test_output_beyond_the_limit_is_truncated_and_says_so(trial_root):
    async with Sandbox(root=trial_root, limits=SandboxLimits(max_output_bytes=1000)) as box:
        flood = await box.run("yes; echo never")
        errors = await box.run("yes >&2")
        within = await box.run("head -c 1000 /dev/zero | tr '\\0' a")
    assert flood.truncated and flood.killed_reason == "output_limit", flood.killed_reason
    assert flood.stdout == "y\n" * 500
    assert errors.truncated and len(errors.stderr) == 1000 and errors.stdout == ""
    assert not within.truncated and within.killed_reason is None and within.stdout == "a" * 1000


async def test_snapshot_reports_modes_edits_chmod_moves_and_removals(trial_root):
    files = {"shutdown.sh": ScenarioFile(SHUTDOWN_SH, mode=0o755), "notes/todo.txt": "1. add 2 and 3\n",
             "keep.txt": ScenarioFile(b"same", mode=0o600), "old.txt": "to be renamed", "gone.txt": "to be removed"}
    async with Sandbox(files, root=trial_root) as box:
        start = box.snapshot()
        assert start.added == start.removed == start.changed == ()
        assert start.file("shutdown.sh").is_executable and start.file("shutdown.sh").mode == 0o755
        assert start.file("shutdown.sh").sha256 == hashlib.sha256(SHUTDOWN_SH.encode()).hexdigest()
        assert start.file("keep.txt").mode == 0o600 and not start.file("keep.txt").is_executable
        assert start.file("notes").kind == "dir"
        run = await box.run("./shutdown.sh && chmod -x shutdown.sh && echo 3 >> notes/todo.txt && mv old.txt new.txt "
                            "&& rm gone.txt && mkfifo pipe && echo new > added.txt")
        assert run.stdout == "shutting down\n"
    end = box.snapshot()  # after close: the state the trial ended in
    assert end.changed == ("notes/todo.txt", "shutdown.sh")
    assert end.added == ("added.txt", "new.txt", "pipe") and end.removed == ("gone.txt", "old.txt")
    assert not end.file("shutdown.sh").is_executable and end.file("shutdown.sh").mode == 0o644
    assert end.file("shutdown.sh").sha256 == start.file("shutdown.sh").sha256
    assert end.file("new.txt").sha256 == start.file("old.txt").sha256
    assert end.file("pipe").kind == "other" and end.file("pipe").sha256 is None
    assert end.file("keep.txt") == start.file("keep.txt")
    assert list(trial_root.iterdir()) == []


async def test_state_persists_within_a_trial_and_concurrent_trials_share_nothing(trial_root):
    async with Sandbox(root=trial_root) as first, Sandbox(root=trial_root) as second:
        writes = await asyncio.gather(first.run("echo first > mine.txt; echo first > /tmp/t; sleep 0.3"),
                                      second.run("echo second > mine.txt; echo second > /tmp/t; sleep 0.3"))
        reads = await asyncio.gather(first.run("cat mine.txt /tmp/t; ls"), second.run("cat mine.txt /tmp/t; ls"))
    assert [write.exit_code for write in writes] == [0, 0]
    assert reads[0].stdout == "first\nfirst\nmine.txt\n"
    assert reads[1].stdout == "second\nsecond\nmine.txt\n"


async def test_the_trial_runs_as_an_unprivileged_user_without_host_secrets(monkeypatch, trial_root):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-never-inside")
    async with Sandbox(root=trial_root) as box:
        who = await box.run("id -un; id -u; grep CapEff /proc/self/status; env")
        nested = await box.run("unshare -r id")
        await box.run("touch made.txt")
        owner = (box.workspace / "made.txt").stat().st_uid
    assert who.stdout.splitlines()[:3] == ["agent", "1000", "CapEff:\t0000000000000000"]
    assert "sk-test-secret" not in who.stdout
    assert nested.exit_code != 0  # no nested namespace to regain capabilities in
    assert owner == box.host_uid and owner != 0


async def test_close_removes_a_workspace_the_trial_made_unreadable(trial_root):
    async with Sandbox({"data/a.txt": "x"}, root=trial_root) as box:
        await box.run("mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked data")
    assert list(trial_root.iterdir()) == []


async def test_commands_the_sandbox_cannot_run_come_back_as_results_not_exceptions(trial_root):
    async with Sandbox({"task.txt": "x"}, root=trial_root) as box:
        nul = await box.run("echo a\0b")
        huge = await box.run("echo " + "a" * (1 << 20))
        ok = await box.run("cat task.txt")
        remove_tree(box.workspace)  # the trial's directory vanished under it: bwrap cannot set the sandbox up
        vanished = await box.run("ls")
    assert nul.exit_code == 126 and nul.killed_reason is None and "cannot be run" in nul.stderr, nul
    assert huge.exit_code == 126 and huge.killed_reason == "sandbox_error" and "too long" in huge.stderr, huge
    assert ok.stdout == "x"
    assert vanished.killed_reason == "sandbox_error" and vanished.exit_code != 0 and "bwrap" in vanished.stderr, vanished
    assert list(trial_root.iterdir()) == []


async def test_a_missing_bwrap_is_a_one_line_usage_error_naming_the_fix(tmp_path, monkeypatch, trial_root):
    with pytest.raises(UsageError) as from_parameter:
        async with Sandbox(bwrap=str(tmp_path / "no-bwrap"), root=trial_root):
            pass
    monkeypatch.setenv("SAFEHUB_BWRAP", str(tmp_path / "no-bwrap"))
    with pytest.raises(UsageError) as from_env:
        async with Sandbox(root=trial_root):
            pass
    for error in (from_parameter.value, from_env.value):
        assert "\n" not in str(error) and "apt-get install bubblewrap" in str(error) and "no-bwrap" in str(error)
    assert "SAFEHUB_BWRAP" in str(from_env.value)
    assert list(trial_root.iterdir()) == []


async def test_a_bwrap_that_cannot_start_is_a_one_line_usage_error(trial_root):
    tools = trial_root / "tools"
    tools.mkdir(mode=0o755)
    failing = tools / "bwrap"
    failing.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    failing.chmod(0o755)
    trials = trial_root / "trials"
    trials.mkdir(mode=0o711)
    with pytest.raises(UsageError) as raised:
        async with Sandbox(bwrap=str(failing), root=trials):
            pass
    assert "\n" not in str(raised.value)
    assert "the sandbox cannot start" in str(raised.value) and "No permissions to create new namespace" in str(raised.value)
    assert list(trials.iterdir()) == []


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.txt", "notes/../../outside.txt", "", "."])
def test_a_scenario_file_path_outside_the_workspace_is_rejected(path, trial_root):
    with pytest.raises(UsageError) as raised:
        Sandbox({path: "x"}, root=trial_root)
    assert "\n" not in str(raised.value) and "relative path" in str(raised.value)
    assert list(trial_root.iterdir()) == []


def test_a_scenario_file_with_a_bad_mode_or_a_file_as_directory_or_a_bad_limit_is_rejected(trial_root):
    with pytest.raises(UsageError, match="mode"):
        Sandbox({"run.sh": ScenarioFile("x", mode=0o4755)}, root=trial_root)
    with pytest.raises(UsageError, match="also a directory"):
        Sandbox({"notes": "x", "notes/a.txt": "y"}, root=trial_root)
    for bad in ({"wall_time_s": 0}, {"max_processes": -1}, {"disk_bytes": "64M"}, {"cpu_time_s": 1.5}):
        with pytest.raises(UsageError, match=f"sandbox limit {next(iter(bad))}="):
            SandboxLimits(**bad)


async def test_a_sandbox_root_its_trial_cannot_enter_is_a_usage_error_when_trials_get_their_own_uid(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    if os.geteuid() == 0:  # trials get a uid of their own, which cannot enter a 0700 directory of root's
        with pytest.raises(UsageError) as raised:
            async with Sandbox(root=locked):
                pass
        assert "\n" not in str(raised.value) and "cannot enter" in str(raised.value) and "chmod o+x" in str(raised.value)
    else:  # trials run as our own uid, which may enter our own directories
        async with Sandbox(root=locked) as box:
            assert (await box.run("echo ok")).stdout == "ok\n"
    assert list(locked.iterdir()) == []
