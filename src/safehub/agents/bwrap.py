"""The bubblewrap (`bwrap`) command line behind `Sandbox`, the host identity it runs as, and the checks around it.

    binary = find_bwrap(None)                     # SAFEHUB_BWRAP, else `bwrap` on PATH; UsageError if missing
    report, report_fd = report_channel()          # our end, and the descriptor the sandbox's init shell writes to
    argv = bwrap_argv(binary, trial_dir, "ls -la", status_fd=w, setup_fd=setup_signal(), report_fd=report_fd)
    identity = HostIdentity.for_trial()           # a fresh unprivileged uid when we are root, else our own

What holds, and why (checked by tests/agents/test_sandbox.py):
- every namespace is new (`--unshare-all --unshare-user`): no network but a loopback of its own, its own pid
  space whose init is the command's shell (`--as-pid-1`, below), so every process of a command dies when the
  command ends (`--die-with-parent` covers our own death); `--disable-userns` stops the trial from nesting
  namespaces to regain capabilities;
- the model's command runs in a child bash of that init shell (`COMMAND_SHELL`), which, once the command has
  returned, counts the processes the command left running and writes the count to a socket of ours
  (`report_channel`): the command cannot write there (its descriptor is closed for it, and a socket cannot be
  opened through /proc/1/fd) nor kill or interrupt the counting shell (a namespace's init gets no signal from
  inside that it has no handler for, SIGKILL included, and its handlers do nothing), nor trace it: the counting
  shell is an execute-only copy of bash (`INIT_SHELL`, mode 0111), and a process started from a file it may not
  read is not dumpable, which the kernel's ptrace access check refuses to a process without capabilities
  (ptrace, /proc/1/mem, pidfd_getfd alike); so the command can neither forge the count nor suppress it;
- the trial sees uid 1000 (`agent`) with no capabilities, and on the host it is an unprivileged uid: our own, or
  when we run as root a random uid no one else uses, so that RLIMIT_NPROC counts this trial's processes only
  (the kernel never applies it to root) and a process table scan by uid finds exactly the trial's processes;
- the host's /usr is bound read-only (with /bin, /lib, /lib64, /sbin as the merged-/usr links), plus
  /etc/ld.so.cache and /etc/alternatives; /etc/passwd and /etc/group are the trial's own; nothing else of the
  host is visible (no /etc/resolv.conf, no /home, no /tmp, no /work);
- the workspace (/home/agent) and /tmp are directories of the trial on the host, so they outlive each command,
  and are the only places it may write: / and /dev are read-only (bwrap makes both tmpfs, host memory that no
  disk limit would see);
- resource limits are rlimits set in the child before bwrap runs, inherited by everything in the sandbox
  (cgroups would bound a whole trial, but v2 is not mounted on every host, this one included, and delegating it
  needs systemd); the disk limit, which no rlimit gives for a directory, is watched by `Sandbox.run`.
"""

from __future__ import annotations

import ctypes
import os
import random
import resource
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from safehub.errors import UsageError

BWRAP_ENV = "SAFEHUB_BWRAP"
INSTALL_HINT = "apt-get install bubblewrap, or run `make test` which installs it"
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/agent"
INIT_SHELL = "/.init-shell"  # where the trial sees its execute-only copy of bash, the pid 1 that runs each command
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": SANDBOX_HOME, "USER": "agent", "LOGNAME": "agent",
               "SHELL": "/bin/bash", "LANG": "C.UTF-8", "TERM": "dumb"}
_PASSWD = f"root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:{SANDBOX_UID}:{SANDBOX_UID}:agent:{SANDBOX_HOME}:/bin/bash\n" \
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = f"root:x:0:\nagent:x:{SANDBOX_UID}:\nnogroup:x:65534:\n"
_PR_SET_CHILD_SUBREAPER = 36
# Host uids handed to trials when we are root: far above any distribution's system and login ranges.
_TRIAL_UIDS = range(1_000_000_000, 2_000_000_000)
# The namespace's init: runs the command ($1) in a child bash with the report descriptor (REPORT) closed for it,
# then counts the processes left in the namespace, live ones only (a zombie has ended), with builtins alone so the
# count itself starts nothing; it waits up to 0.2 s for helpers that end on their own (`(sleep 0.01; echo) &`),
# polling with `read -t` on the report socket, where nothing ever arrives. As init it gets only the signals it has
# a handler for, and bash installs some itself: while the command runs they are trapped with a handler (which the
# command's shell does not inherit, so its signals are as they were), afterwards ignored (a trapped SIGINT would
# cut the count's `read`s short). Bash's own line about a child killed by a signal would be new to the command's
# stderr: it goes to /dev/null, the command keeps the real stderr. SHLVL is unset so the command's shell sees
# SHLVL=1, as it did as the first shell.
COMMAND_SHELL = r"""
signals="HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM TERM STKFLT XCPU XFSZ VTALRM PROF IO PWR SYS"
trap : $signals
exec {stderr}>&2 2>/dev/null
unset SHLVL
/bin/bash -c "$1" 2>&$stderr {stderr}>&- REPORT>&-
status=$?
trap "" $signals
count_live() {
  live=0
  for entry in /proc/[0-9]*; do
    [[ ${entry#/proc/} == "$$" ]] && continue
    stat=
    read -r -d '' stat < "$entry/stat"
    stat=${stat##*) }
    case ${stat%% *} in Z|X|x|"") ;; *) live=$((live + 1)) ;; esac
  done
}
count_live
for poll in 1 2 3 4 5 6 7 8 9 10; do
  ((live == 0)) && break
  read -r -t 0.02 -u REPORT poll
  count_live
done
printf '%d\n' "$live" >&REPORT
exit "$status"
"""


def find_bwrap(configured: str | None) -> str:
    """The bwrap binary to use: `configured`, else $SAFEHUB_BWRAP, else `bwrap` on PATH; UsageError naming the fix."""
    source = "Sandbox(bwrap=...)" if configured else BWRAP_ENV
    wanted = configured or os.environ.get(BWRAP_ENV) or None
    if wanted is None:
        found = shutil.which("bwrap")
        if found is None:
            raise UsageError(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
        return found
    path = shutil.which(wanted) if os.sep not in wanted else wanted
    if path is None or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise UsageError(f"bubblewrap (bwrap) is not installed at {wanted} (set by {source}): {INSTALL_HINT}, "
                         f"or point {BWRAP_ENV} at the bwrap binary")
    return path


@dataclass(frozen=True)
class HostIdentity:
    """Who a trial's processes are on the host: `uid`/`gid`, and whether that uid belongs to this trial alone."""

    uid: int
    gid: int
    is_own_uid: bool

    @classmethod
    def for_trial(cls) -> "HostIdentity":
        if os.geteuid() == 0:
            uid = random.SystemRandom().choice(_TRIAL_UIDS)
            return cls(uid, uid, True)
        return cls(os.getuid(), os.getgid(), False)

    def subprocess_options(self) -> dict:
        """The user switch for `create_subprocess_exec`: empty unless we are root and hand the trial its own uid."""
        if not self.is_own_uid:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def setup_signal() -> int:
    """A pipe's read end holding one byte, for bwrap's --block-fd; pass it to `sandbox_setup_failed` afterwards."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"1")
    os.close(write_end)
    return read_end


def report_channel() -> tuple[socket.socket, int]:
    """Our end of a socket pair and the descriptor of the other end, to pass to bwrap as `report_fd`.

    A socket, not a pipe: a pipe can be reopened for writing through /proc/PID/fd by any process of the same uid,
    a socket cannot. Keep our end open until bwrap has exited (the init shell's wait reads from its end), then
    read the report with `process.read_report`.
    """
    ours, theirs = socket.socketpair()
    return ours, theirs.detach()


def sandbox_setup_failed(setup_fd: int) -> bool:
    """Whether bwrap ended without reading the byte of `setup_signal`, i.e. before the sandbox was set up; closes it."""
    try:
        os.set_blocking(setup_fd, False)
        return os.read(setup_fd, 1) == b"1"
    except BlockingIOError:
        return False
    finally:
        os.close(setup_fd)


def check_reachable(root: Path) -> None:
    """UsageError unless every user may enter `root` and the directories above it, as a trial's own uid must."""
    for directory in (root.resolve(), *root.resolve().parents):
        try:
            mode = directory.stat().st_mode
        except OSError as error:
            raise UsageError(f"sandbox root {root}: {error.strerror}; use an existing directory such as /tmp") from None
        if not mode & stat.S_IXOTH:
            raise UsageError(f"sandbox root {root}: trials run as their own unprivileged uid, which cannot enter "
                             f"{directory} (mode {stat.S_IMODE(mode):o}); use a directory every user may enter, such "
                             f"as the default {tempfile.gettempdir()}, or `chmod o+x {directory}`")


def prepare_trial_dir(trial_dir: Path, identity: HostIdentity) -> None:
    """The trial's own /etc files, init shell and /tmp beside its workspace, everything the trial may write owned
    by it (the init shell is ours, execute-only: see the module docstring)."""
    etc = trial_dir / "etc"
    etc.mkdir(mode=0o755)
    (etc / "passwd").write_text(_PASSWD)
    (etc / "group").write_text(_GROUP)
    install_init_shell(trial_dir)
    (trial_dir / "tmp").mkdir(mode=0o1777)
    os.chmod(trial_dir / "tmp", 0o1777)
    if identity.is_own_uid:
        os.chown(trial_dir, identity.uid, identity.gid)
        for directory, names in _walk_writable(trial_dir):
            os.chown(directory, identity.uid, identity.gid)
            for name in names:
                os.chown(os.path.join(directory, name), identity.uid, identity.gid, follow_symlinks=False)


def install_init_shell(trial_dir: Path) -> None:
    """The execute-only copy of bash that runs as the trial's pid 1 (bound at `INIT_SHELL`): not dumpable, untraceable."""
    shutil.copyfile("/bin/bash", trial_dir / "init")
    os.chmod(trial_dir / "init", 0o111)


def _walk_writable(trial_dir: Path):
    for part in ("workspace", "tmp"):
        yield from ((directory, names + dirs) for directory, dirs, names in os.walk(trial_dir / part))


def bwrap_argv(binary: str, trial_dir: Path, command: str, *, status_fd: int, setup_fd: int,
               report_fd: int) -> list[str]:
    """The full bwrap command line that runs `command` with bash in the trial's sandbox.

    bwrap writes its status as JSON to `status_fd`, and reads one byte from `setup_fd` once the sandbox is set up,
    just before it runs bash: a byte still unread afterwards means the sandbox never started (`sandbox_setup_failed`).
    The init shell (`COMMAND_SHELL`) writes to `report_fd` how many processes the command left running.
    """
    argv = [binary, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
    argv += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
             "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
             "--ro-bind", str(trial_dir / "etc" / "passwd"), "/etc/passwd",
             "--ro-bind", str(trial_dir / "etc" / "group"), "/etc/group",
             "--proc", "/proc", "--dev", "/dev",
             "--bind", str(trial_dir / "tmp"), "/tmp",
             "--ro-bind", str(trial_dir / "init"), INIT_SHELL,
             "--bind", str(trial_dir / "workspace"), SANDBOX_HOME, "--chdir", SANDBOX_HOME,
             "--remount-ro", "/dev", "--remount-ro", "/",  # last: both are tmpfs, which would hold files in host memory
             "--json-status-fd", str(status_fd), "--block-fd", str(setup_fd), "--as-pid-1",
             "--", INIT_SHELL, "-c", COMMAND_SHELL.replace("REPORT", str(report_fd)), "bash", command]
    return argv


def rlimits_setter(*, cpu_time_s: int, memory_bytes: int, max_file_bytes: int, max_processes: int,
                   identity: HostIdentity):
    """A `preexec_fn` that sets the trial's rlimits in the child, before bwrap (and so the whole sandbox) starts.

    RLIMIT_NPROC counts every process of the host uid: a trial with a uid of its own gets exactly
    `max_processes`; one sharing our uid gets `max_processes` more than the uid already runs.
    """
    processes = max_processes if identity.is_own_uid else max_processes + processes_of_uid(identity.uid)
    limits = ((resource.RLIMIT_CPU, (cpu_time_s, cpu_time_s + 1)),  # SIGXCPU first, SIGKILL a second later
              (resource.RLIMIT_AS, (memory_bytes, memory_bytes)),
              (resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes)),
              (resource.RLIMIT_NPROC, (processes, processes)),
              (resource.RLIMIT_CORE, (0, 0)))

    def set_limits() -> None:
        for kind, values in limits:
            resource.setrlimit(kind, values)

    return set_limits


def become_subreaper() -> None:
    """Make this process collect orphaned descendants (PR_SET_CHILD_SUBREAPER) instead of the host's init.

    bwrap may exit before its namespace's init has been collected, which leaves that init a zombie of the trial's
    uid until some init reaps it, and a zombie still counts against RLIMIT_NPROC: a trial's quick commands would
    run out of processes. As subreaper, the sandbox collects it itself, at once (`collect_child`).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def collect_child(pid: int) -> bool:
    """Reap `pid` if it is a finished child of ours; True once it is gone (reaped here, by bwrap, or not ours).

    Safe from pid reuse: the kernel hands pids out in a cycle, and this runs milliseconds after `pid` exited.
    """
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return reaped == pid


def processes_of_uid(uid: int) -> int:
    """How many processes the host holds for `uid`, zombies included (RLIMIT_NPROC counts them), from /proc."""
    return len(pids_of_uid(uid, include_zombies=True))


def pids_of_uid(uid: int, *, include_zombies: bool = False) -> list[int]:
    """Host processes owned by `uid`; without zombies (dead, waiting for a parent to collect their status)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(entry.path).st_uid == uid and (include_zombies or not _is_zombie(int(entry.name))):
                    found.append(int(entry.name))
            except OSError:  # gone while we looked
                continue
    return found


def pids_in_namespace(pid_namespace: int, uid: int) -> list[int]:
    """Live host processes of `uid` inside the pid namespace whose inode is `pid_namespace`.

    A process half-way through exiting has already let go of its namespaces: it is counted too (it is not dead
    yet), so callers wait for it rather than miss it.
    """
    found = []
    for pid in pids_of_uid(uid):
        try:
            in_namespace = os.stat(f"/proc/{pid}/ns/pid").st_ino == pid_namespace
        except FileNotFoundError:
            in_namespace = os.path.exists(f"/proc/{pid}")
        except OSError:
            continue
        if in_namespace:
            found.append(pid)
    return found


def _is_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True
    return fields[0] in ("Z", "X")

