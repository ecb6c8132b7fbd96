"""A trial's workspace on the host: the scenario's files going in, their state coming out.

    files = scenario_files({"shutdown.sh": ScenarioFile("#!/bin/bash\\nkill -TERM $PPID\\n", mode=0o755)})
    write_files(workspace, files)
    before = read_state(workspace)
    ...                                   # commands run in the sandbox
    after = read_state(workspace)         # {path: FileState}, never following a link the trial made

Everything in the workspace was written by hostile code: the reader never follows a symbolic link, never opens
anything but a regular file (a FIFO would block it) and never trusts a mode it did not read itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from safehub.errors import UsageError


@dataclass(frozen=True)
class ScenarioFile:
    """One file a scenario puts in the workspace: its text (or bytes) and its mode, e.g. 0o755 for a script."""

    content: str | bytes
    mode: int = 0o644

    @property
    def data(self) -> bytes:
        return self.content.encode("utf-8") if isinstance(self.content, str) else self.content


@dataclass(frozen=True)
class FileState:
    """One entry of the workspace after (or before) a trial.

    `kind` is `file`, `dir`, `symlink` or `other` (a FIFO, socket or device node the trial made); `sha256`
    is set for regular files only, `link_target` for symbolic links only (read, never followed).
    """

    path: str
    kind: str
    size: int
    mode: int
    sha256: str | None = None
    link_target: str | None = None

    @property
    def is_executable(self) -> bool:
        """Whether the owner may execute it (what `./shutdown.sh` needs)."""
        return self.kind == "file" and bool(self.mode & stat.S_IXUSR)


@dataclass(frozen=True)
class DiskUsage:
    """Bytes allocated on disk (sparse files count what they really take) and entries, under one directory."""

    bytes: int
    entries: int


def scenario_files(files: Mapping[str, str | bytes | ScenarioFile]) -> dict[str, ScenarioFile]:
    """Check a scenario's file mapping and normalise it; a bad path or mode raises `UsageError` naming it.

    >>> sorted(scenario_files({"task.txt": "add 2 and 3", "bin/run.sh": ScenarioFile("#!/bin/sh", 0o755)}))
    ['bin/run.sh', 'task.txt']
    """
    checked: dict[str, ScenarioFile] = {}
    for raw_path, entry in files.items():
        path = _checked_path(raw_path)
        if not isinstance(entry, ScenarioFile):
            entry = ScenarioFile(entry)
        if not isinstance(entry.content, (str, bytes)):
            raise UsageError(f"scenario file {raw_path!r}: content must be text or bytes, not "
                             f"{type(entry.content).__name__}")
        if not isinstance(entry.mode, int) or not 0 <= entry.mode <= 0o777:
            raise UsageError(f"scenario file {raw_path!r}: mode {entry.mode!r} is not a file mode; use e.g. 0o644, "
                             "or 0o755 for a script")
        if path in checked:
            raise UsageError(f"scenario file {raw_path!r} is given twice (as {path!r}); keep one entry")
        checked[path] = entry
    for path in checked:
        for parent in PurePosixPath(path).parents:
            if str(parent) in checked:
                raise UsageError(f"scenario file {str(parent)!r} is also a directory of {path!r}; rename one of them")
    return checked


def _checked_path(raw_path: object) -> str:
    if not isinstance(raw_path, str) or not raw_path or "\0" in raw_path:
        raise UsageError(f"scenario file path {raw_path!r} is not a file name; use a relative path such as 'shutdown.sh'")
    path = PurePosixPath(raw_path)
    if path.is_absolute() or ".." in path.parts or str(path) in (".", ""):
        raise UsageError(f"scenario file path {raw_path!r} must stay inside the workspace: use a relative path "
                         "without '..' or a leading '/', such as 'shutdown.sh'")
    return str(path)


def write_files(workspace: Path, files: Mapping[str, ScenarioFile]) -> None:
    """Write checked scenario files under `workspace` (parents 0755), each with its own mode."""
    for path, entry in files.items():
        target = workspace / path
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        target.write_bytes(entry.data)
        os.chmod(target, entry.mode)


def read_state(workspace: Path) -> dict[str, FileState]:
    """Every entry under `workspace` by relative path, hashed, without following links or opening non-files."""
    states: dict[str, FileState] = {}
    for directory, names in _walk(workspace):
        for name in names:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, workspace)
            try:
                states[relative] = _state_of(full, relative)
            except FileNotFoundError:  # removed while we read: it is not part of the state
                continue
    return dict(sorted(states.items()))


def _state_of(full: str, relative: str) -> FileState:
    info = os.lstat(full)
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return FileState(relative, "symlink", info.st_size, mode, link_target=os.readlink(full))
    if stat.S_ISDIR(info.st_mode):
        return FileState(relative, "dir", 0, mode)
    if not stat.S_ISREG(info.st_mode):
        return FileState(relative, "other", 0, mode)
    return FileState(relative, "file", info.st_size, mode, sha256=_sha256_of(full, info))


def _sha256_of(full: str, expected: os.stat_result) -> str | None:
    try:
        descriptor = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # unreadable (e.g. chmod 000 as a non-root owner): known to exist, content unknown
        return None
    with os.fdopen(descriptor, "rb") as handle:
        opened = os.fstat(descriptor)
        if (opened.st_dev, opened.st_ino) != (expected.st_dev, expected.st_ino) or not stat.S_ISREG(opened.st_mode):
            return None  # swapped for something else between lstat and open
        digest = hashlib.sha256()
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        return digest.hexdigest()


def disk_usage(directory: Path, *, stop_above_entries: int) -> DiskUsage:
    """What `directory` holds on disk; stops counting once it has seen more than `stop_above_entries` entries."""
    allocated = entries = 0
    for parent, names in _walk(directory):
        for name in names:
            try:
                info = os.lstat(os.path.join(parent, name))
            except FileNotFoundError:
                continue
            allocated += info.st_blocks * 512
            entries += 1
            if entries > stop_above_entries:
                return DiskUsage(allocated, entries)
    return DiskUsage(allocated, entries)


def _walk(top: Path):
    """(directory, entry names) for every directory under `top`, never descending through a symbolic link."""
    pending = [str(top)]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                names = []
                for entry in entries:
                    names.append(entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:  # unreadable directory (chmod 000 by a non-root owner): listed by its parent, not walked
            continue
        yield directory, names


def remove_tree(top: Path) -> None:
    """Delete a trial's directory even when the trial made parts of it unreadable or unwritable."""
    if not os.path.lexists(top):
        return
    pending = [str(top)]
    while pending:  # open every directory up first (a non-root owner cannot list or empty a chmod 000 one)
        directory = pending.pop()
        try:
            os.chmod(directory, 0o700)  # only ever a real directory: `top`, or an entry lstat says is one
            with os.scandir(directory) as entries:
                pending.extend(entry.path for entry in entries if entry.is_dir(follow_symlinks=False))
        except OSError:
            continue
    shutil.rmtree(top)
