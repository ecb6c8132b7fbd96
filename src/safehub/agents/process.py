"""The process side of one sandboxed command: capped output, bwrap's status, and making sure nothing is left.

    stdout = Capture(cap=65536)
    await drain(process.stdout, stdout, kill)     # keeps `cap` bytes, calls kill("output_limit") past them
    status = read_status(status_fd)               # {"child-pid": ..., "pid-namespace": ..., "exit-code": ...}
    await collected(status["child-pid"])          # the namespace's init reaped, by bwrap or by us
    left = await processes_outliving(status["pid-namespace"], uid)   # 0: the namespace died with the command
    ended = read_report(report)                   # what the command left running when it returned; None: unknown
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from safehub.agents.bwrap import collect_child, pids_in_namespace

READ_CHUNK = 1 << 16
REAP_WAIT_S = 1.0  # how long the kernel gets to finish killing a finished command's namespace before we count
_REPORT_MAX_BYTES = 16  # a count is a few digits and a newline


@dataclass
class Capture:
    """One stream's bytes so far; kept outside the reading task so a cancelled read loses nothing."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False


async def collected(namespace_init: int) -> None:
    """Wait (at most `REAP_WAIT_S`) until the command's namespace init is reaped, by bwrap or by us."""
    deadline = time.monotonic() + REAP_WAIT_S
    while not collect_child(namespace_init) and time.monotonic() < deadline:
        await asyncio.sleep(0.001)


async def processes_outliving(pid_namespace: int, uid: int) -> int:
    """Processes of a finished command's pid namespace still alive once the kernel has had `REAP_WAIT_S` to end them.

    bwrap returns as soon as the command exits, while the kernel is still killing the rest of the namespace
    (`sleep 1000 &` and the like): those are counted only if they are still there after the wait.
    """
    deadline = time.monotonic() + REAP_WAIT_S
    while True:
        alive = pids_in_namespace(pid_namespace, uid)
        if not alive or time.monotonic() >= deadline:
            return len(alive)
        await asyncio.sleep(0.002)


async def drain(stream: asyncio.StreamReader, capture: Capture, kill: Callable[[str], None]) -> None:
    # Read to the end even past the cap: the process only counts as finished once its pipes are closed.
    while chunk := await stream.read(READ_CHUNK):
        room = capture.cap - len(capture.data)
        if len(chunk) > room and not capture.truncated:
            capture.truncated = True
            kill("output_limit")
        capture.data += chunk[:room]


def read_status(descriptor: int) -> dict:
    """bwrap's --json-status-fd documents (child-pid and namespaces at start, exit-code at the end), merged."""
    chunks = []
    try:
        os.set_blocking(descriptor, False)
        while True:
            try:
                chunk = os.read(descriptor, READ_CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(descriptor)
    merged: dict = {}
    decoder, text, position = json.JSONDecoder(), b"".join(chunks).decode("utf-8", "replace"), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return merged
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return merged
        if isinstance(document, dict):
            merged.update(document)


def read_report(ours: socket.socket) -> int | None:
    """The count the init shell wrote to `report_channel` (processes the command left running), then closes it.

    None when there is no well-formed count: the namespace was killed before the command returned (a limit, our
    own kill) or never started.
    """
    data = b""
    try:
        ours.setblocking(False)
        while len(data) <= _REPORT_MAX_BYTES:
            try:
                chunk = ours.recv(READ_CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        ours.close()
    found = re.fullmatch(rb"(\d{1,5})\n", data)
    return int(found.group(1)) if found else None
