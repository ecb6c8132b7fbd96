"""Client API keys, stored hashed in guard.yaml, and per-key token buckets.

    safehub guard hash-key            # reads a key on stdin, prints "sha256:..." for guard.yaml
    hash_key("sk-guard-abc")          # -> "sha256:1b4f..."
    clients = ClientTable([ClientConfig(name="team-a", key_hash=hash_key("sk-guard-abc"))])
    (await clients.authenticate("sk-guard-abc")).name   # -> "team-a"

`sha256:` suits generated keys (they are long and random, so a fast hash is enough and the lookup
is one dict access). `scrypt:` is for keys a person chose: salted and slow, verified once per key
and then remembered in memory by the key's sha256, so the request path stays fast.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
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
        if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or n * r > 2**22:
            raise ValueError("scrypt parameters out of range; make a new hash with `safehub guard hash-key --scrypt`")
        return text
    raise ValueError("expected 'sha256:<64 hex>' or 'scrypt:...' from `safehub guard hash-key`, never the key itself")


def _scrypt_matches(key: str, stored: str) -> bool:
    n, r, p, salt, digest = SCRYPT.match(stored).groups()
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(key.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                            dklen=len(expected), maxmem=2**26)
    return hmac.compare_digest(actual, expected)


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


class ClientTable:
    """Who a bearer key belongs to. Built from the config's `clients:`; empty means no keys are required."""

    _REMEMBERED = 4096

    def __init__(self, clients: list) -> None:
        self.clients = [Client(c.name, TokenBucket(c.rate_limit.requests_per_s, c.rate_limit.burst_or_default)
                               if c.rate_limit else None) for c in clients]
        self._by_sha256: dict[str, Client] = {}
        self._scrypt: list[tuple[str, Client]] = []
        for config, client in zip(clients, self.clients):
            if config.key_hash.startswith("sha256:"):
                self._by_sha256[config.key_hash.removeprefix("sha256:")] = client
            else:
                self._scrypt.append((config.key_hash, client))
        self._remembered: OrderedDict[str, Client | None] = OrderedDict()  # sha256 of a scrypt-checked key

    @property
    def is_required(self) -> bool:
        return bool(self.clients)

    async def authenticate(self, key: str) -> Client | None:
        """The client whose key this is, or None. A scrypt check runs in a worker thread, off the event loop."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        client = self._by_sha256.get(digest)
        if client is not None or not self._scrypt:
            return client
        if digest in self._remembered:
            self._remembered.move_to_end(digest)
            return self._remembered[digest]
        found = await asyncio.to_thread(lambda: next((c for stored, c in self._scrypt if _scrypt_matches(key, stored)),
                                                     None))
        self._remembered[digest] = found  # misses too, so a wrong key cannot make us scrypt again and again
        if len(self._remembered) > self._REMEMBERED:
            self._remembered.popitem(last=False)
        return found
