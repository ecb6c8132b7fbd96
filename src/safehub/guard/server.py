"""Run the guard: `serve` blocks (the CLI), `running_guard` runs it in a background thread (tests, benchmarks).

    serve(Path("guard.yaml"), host="127.0.0.1", port=8787, db=None)

    with running_guard(config, screens=my_screens) as guard:
        openai.OpenAI(base_url=guard.base_url, api_key="unused").chat.completions.create(...)

uvicorn picks uvloop and httptools when they are installed and falls back to asyncio and h11.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from safehub.errors import UsageError
from safehub.guard.app import Gateway
from safehub.guard.audit import AuditLog
from safehub.guard.config import GuardConfig, load_config
from safehub.guard.screens.base import Screen


def build_gateway(config: GuardConfig, *, db: str | None = None, screens: dict[str, Screen] | None = None,
                  source: str = "guard.yaml") -> Gateway:
    """The gateway with its audit log opened (unless `audit.enabled: false`); the store is opened last,
    so a bad config never creates a database file."""
    gateway = Gateway(config, screens=screens, source=source)
    if config.audit.enabled:
        from safehub.store.db import connect

        gateway.attach_audit(AuditLog(connect(db or config.db), flush_interval_s=config.audit.flush_interval_s,
                                      max_pending=config.audit.max_pending))
    return gateway


def _bind(host: str, port: int) -> socket.socket:
    host = "127.0.0.1" if host == "localhost" else host
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        raise UsageError(f"--host {host!r} is not an IP address; use 127.0.0.1 or the address to listen on") from None
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it
    # every keep-alive response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    sock.listen(4096)
    sock.setblocking(False)
    return sock


class _OneSendPerStep:
    """A transport that hands everything written to it during one event-loop step to the socket in one send().

    uvicorn writes a response's head and its body separately, and on a loopback or LAN socket each send() is the
    costliest call of a request (measured: about 15% of the guard's CPU per request, for two of them). Writes
    made in the same step go out together on the next loop iteration, microseconds later; everything else is the
    real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class _GuardHTTPProtocol(AutoHTTPProtocol):  # uvicorn's own choice: httptools when installed, else h11
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_OneSendPerStep(transport, asyncio.get_running_loop()))


def _server(gateway: Gateway) -> uvicorn.Server:
    # No proxy-header rewriting: the guard never trusts X-Forwarded-For (and it saves a layer per request).
    config = uvicorn.Config(gateway.app(), log_level="warning", access_log=False, lifespan="on", proxy_headers=False,
                            timeout_keep_alive=30, backlog=4096, http=_GuardHTTPProtocol)
    return uvicorn.Server(config)


def check_exposure(config: GuardConfig, host: str) -> None:
    """Refuse to serve without client keys on an address other machines can reach."""
    is_loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    if not is_loopback and not config.clients:
        raise UsageError(f"--host {host} is reachable from other machines: add clients: with hashed keys to the "
                         "config (safehub guard hash-key), or listen on 127.0.0.1")


def serve(config_path: Path, *, host: str = "127.0.0.1", port: int = 8787, db: str | None = None,
          announce=print) -> None:
    config = load_config(config_path)
    try:
        check_exposure(config, host)
    except ValueError:
        raise UsageError(f"--host {host!r} is not an IP address; use 127.0.0.1 or the address to listen on") from None
    sock = _bind(host, port)  # before the store is opened: a busy port leaves no database file behind
    try:
        gateway = build_gateway(config, db=db, source=Path(config_path).name)
    except BaseException:
        sock.close()
        raise
    server = _server(gateway)
    shown = f"[{host}]" if ":" in host else host
    announce(f"safehub guard on http://{shown}:{sock.getsockname()[1]}/v1 serving {', '.join(config.models)} "
             f"via {len(gateway.upstreams)} upstream{'s' if len(gateway.upstreams) != 1 else ''} (Ctrl-C to stop)")
    server.run(sockets=[sock])


@dataclass
class RunningGuard:
    gateway: Gateway
    host: str
    port: int

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"


@contextmanager
def running_guard(config: GuardConfig, *, screens: dict[str, Screen] | None = None, db: str | None = None,
                  host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 30.0) -> Iterator[RunningGuard]:
    """Serve in a background thread on a free port; stop (and flush the audit) on exit."""
    gateway = build_gateway(config, db=db, screens=screens)
    sock = _bind(host, port)
    server = _server(gateway)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="safehub-guard", daemon=True)
    thread.start()
    try:
        deadline = startup_timeout_s
        step = 0.01
        while not server.started and thread.is_alive() and deadline > 0:
            threading.Event().wait(step)
            deadline -= step
        if not server.started:
            raise RuntimeError("the guard did not start")
        yield RunningGuard(gateway, host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
