"""Client API keys, stored hashed in guard.yaml, and per-key token buckets.

    safehub guard hash-key            # reads a key on stdin, prints "sha256:..." for guard.yaml
    hash_key("sk-guard-abc")          # -> "sha256:1b4f..."
    clients = ClientTable([ClientConfig(name="team-a", key_hash=hash_key("sk-guard-abc"))])
    (await clients.authenticate("sk-guard-abc")).name   # -> "team-a"

`sha256:` suits generated keys (they are long and random, so a fast hash is enough and the lookup
is one dict access). `scrypt:` is for keys a person chose: salted and slow, so the table guards the
slow check. A key that passed it is remembered by an HMAC of the key under a secret made at start
(never the key, never a plain hash of it), so a valid key pays scrypt once per process; concurrent
first requests with one key share one check. A key that matches no fast entry is a failed attempt
until scrypt says otherwise: each client address has a token bucket of such attempts
(`limits.failed_auth`), spent before any scrypt, and an address that has run out gets
`AuthThrottled` (the guard's 429 with Retry-After) for no hash at all. Checks run one at a time in one
low-priority worker thread, with a bounded queue, so guessing from many addresses costs at most one
core, and only what serving leaves; a client whose key is already known never waits for it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import math
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
SCRYPT_MAXMEM = 2**26  # memory one scrypt check may use (64 MiB): N=2**14, r=8 takes 16 MiB
SCRYPT = re.compile(r"^scrypt:(\d+):(\d+):(\d+):([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def new_key() -> str:
    return "sk-guard-" + secrets.token_urlsafe(32)


def hash_key(key: str, method: str = "sha256") -> str:
    """The form guard.yaml stores: `sha256:HEX` or `scrypt:N:R:P:SALT:HASH` (base64)."""
    if method == "sha256":
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    if method == "scrypt":
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(key.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
        return (f"scrypt:{_SCRYPT_N}:{_SCRYPT_R}:{_SCRYPT_P}:{base64.b64encode(salt).decode()}:"
                f"{base64.b64encode(digest).decode()}")
    raise ValueError(f"unknown hash method {method!r}; use sha256 or scrypt")


def check_key_hash(text: str) -> str:
    """Raise ValueError unless `text` is a hash `hash_key` could have written (never a plain key)."""
    if SHA256.match(text):
        return text
    match = SCRYPT.match(text)
    if match:
        n, r, p = (int(v) for v in match.groups()[:3])
        if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range; make a new hash with `safehub guard hash-key --scrypt`")
        if 128 * r * (n + p + 2) > SCRYPT_MAXMEM:  # OpenSSL's own estimate: otherwise every request would fail
            raise ValueError(f"scrypt parameters N={n} r={r} need more than the {SCRYPT_MAXMEM >> 20} MiB a check "
                             "may use; make a new hash with `safehub guard hash-key --scrypt`")
        return text
    raise ValueError("expected 'sha256:<64 hex>' or 'scrypt:...' from `safehub guard hash-key`, never the key itself")


def _scrypt_matches(key: str, stored: str) -> bool:
    n, r, p, salt, digest = SCRYPT.match(stored).groups()
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(key.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                            dklen=len(expected), maxmem=SCRYPT_MAXMEM)
    return hmac.compare_digest(actual, expected)


def _lower_priority() -> None:
    """Run this thread at the lowest CPU priority (Linux: a thread is a task of its own), so a key check only
    takes CPU the request path leaves."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: the check still runs, at normal priority
        pass


def _network_of(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


@dataclass
class TokenBucket:
    """`rate_per_s` requests per second on average, up to `burst` at once."""

    rate_per_s: float
    burst: float

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = time.monotonic()

    def take(self) -> float:
        """Spend one token; return 0.0 when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s


@dataclass
class Client:
    name: str
    bucket: TokenBucket | None = None


class AuthThrottled(Exception):
    """Too many failed key checks: answer 429 and ask the client to come back in `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class FailedAuthLimiter:
    """A token bucket of failed key checks per client address, for the `max_addresses` most recently seen.
    An IPv6 client is its /64, the block one host is usually given, so it cannot take a new address per guess.

    limiter = FailedAuthLimiter(rate_per_s=1.0, burst=10)
    limiter.take("127.0.0.2")   # -> 0.0 while the address has attempts left, else seconds until it has one
    """

    def __init__(self, rate_per_s: float, burst: float, max_addresses: int = 4096):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, address: str) -> float:
        address = _network_of(address)
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(self.rate_per_s, self.burst)
            if len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(address)
        return bucket.take()

    def refund(self, address: str) -> None:
        """Give back the attempt a check took once the key turned out to be right."""
        bucket = self._buckets.get(_network_of(address))
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)


class ClientTable:
    """Who a bearer key belongs to. Built from the config's `clients:`; empty means no keys are required."""

    _REJECTED = 4096  # wrong keys remembered, so a client retrying the same wrong key costs no second scrypt
    _QUEUED_CHECKS = 64  # scrypt checks waiting for the worker; beyond it, 429 (about 3.5 s of work at N=2**14)

    def __init__(self, clients: list, *, failed_auth_per_s: float = 1.0, failed_auth_burst: float = 10.0) -> None:
        self.clients = [Client(c.name, TokenBucket(c.rate_limit.requests_per_s, c.rate_limit.burst_or_default)
                               if c.rate_limit else None) for c in clients]
        self._by_sha256: dict[str, Client] = {}
        self._scrypt: list[tuple[str, Client]] = []
        for config, client in zip(clients, self.clients):
            if config.key_hash.startswith("sha256:"):
                self._by_sha256[config.key_hash.removeprefix("sha256:")] = client
            else:
                self._scrypt.append((config.key_hash, client))
        self.failures = FailedAuthLimiter(failed_auth_per_s, failed_auth_burst)
        self._secret = secrets.token_bytes(32)
        # HMAC tags under `_secret`: the table keeps no key, nor an unkeyed fast hash a chosen key could be guessed from
        self._verified: dict[bytes, Client] = {}  # at most one tag per scrypt client: only its key matches its hash
        self._rejected: OrderedDict[bytes, None] = OrderedDict()
        self._checking: dict[bytes, asyncio.Task] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safehub-key-check",
                                          initializer=_lower_priority)

    @property
    def is_required(self) -> bool:
        return bool(self.clients)

    async def authenticate(self, key: str, address: str = "") -> Client | None:
        """The client whose key this is, or None: a failed attempt from `address` (the peer's IP).

        Raises AuthThrottled, before any hash, when `address` has no failed attempts left, or when too many
        checks are queued."""
        client = self._by_sha256.get(hashlib.sha256(key.encode()).hexdigest())
        if client is not None:
            return client
        if not self._scrypt:
            self._count_failure(address)
            return None
        tag = hmac.digest(self._secret, key.encode(), "sha256")
        client = self._verified.get(tag)
        if client is not None:
            return client
        checking = self._checking.get(tag)
        if checking is not None:  # the same key is being checked for another request: share that answer
            client = await asyncio.shield(checking)
            if client is None:
                self._count_failure(address)
            return client
        if tag in self._rejected:
            self._rejected.move_to_end(tag)
            self._count_failure(address)
            return None
        if len(self._checking) >= self._QUEUED_CHECKS:
            raise AuthThrottled("the guard is busy checking API keys; retry shortly", 1.0)
        self._count_failure(address)  # spent before the hash: an address out of attempts costs no scrypt
        checking = self._checking[tag] = asyncio.ensure_future(self._check(key, tag))
        client = await asyncio.shield(checking)
        if client is not None:
            self.failures.refund(address)
        return client

    def _count_failure(self, address: str) -> None:
        wait_s = self.failures.take(address)
        if wait_s > 0:
            raise AuthThrottled(f"too many failed API key attempts from {address or 'this client'}; check the key "
                                f"and retry after {math.ceil(wait_s)}s", wait_s)

    async def _check(self, key: str, tag: bytes) -> Client | None:
        try:
            found = await asyncio.get_running_loop().run_in_executor(
                self._worker, lambda: next((c for stored, c in self._scrypt if _scrypt_matches(key, stored)), None))
        finally:
            del self._checking[tag]
        if found is not None:
            self._verified[tag] = found
        else:
            self._rejected[tag] = None
            if len(self._rejected) > self._REJECTED:
                self._rejected.popitem(last=False)
        return found
