"""Which requests the hub answers: only those addressed to its own names, and writes only from its own pages.

    names = HostNames.listening_on("127.0.0.1", 8765, allow_hosts=["hub.lan"])
    names.is_allowed("localhost:8765")                                   # True
    names.is_allowed("evil.example:8765")                                # False: a DNS-rebinding page
    cross_site_reason("http://evil.example", "cross-site", "127.0.0.1:8765")   # why the write is refused

Any web page the user visits can make the browser send requests to a hub on loopback. A form it posts
(cross-site request forgery) is refused by the Origin and Sec-Fetch-Site headers the browser adds and by the
per-process form token, which only the hub's own pages carry. A page that points its own name at 127.0.0.1
(DNS rebinding) is same-origin with itself, so the browser lets it read the answers: the hub refuses every
request whose Host is not one of its names.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from safehub.errors import UsageError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
FORM_TOKEN_FIELD = "csrf_token"  # the hidden field of every form that writes
FORM_TOKEN_HEADER = "X-CSRF-Token"  # the same token, sent by fetch() from the page's <meta name="csrf-token">
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def host_name(name: str) -> str:
    """`name` as it appears in a Host header: lower case, an IPv6 address in brackets.

    >>> host_name("::1"), host_name("Hub.LAN")
    ('[::1]', 'hub.lan')
    """
    bare = name.strip().lower().removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        if not HOSTNAME.fullmatch(bare) or len(bare) > 253:
            raise UsageError(f"--allow-host {name!r} is not a host name; give a name such as hub.example.org "
                             "or an IP address, without scheme, port or path") from None
        return bare
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header as (name, port), port None when absent; None for anything malformed.

    >>> split_host("[::1]:8765"), split_host("LOCALHOST"), split_host("a:b")
    (('[::1]', 8765), ('localhost', None), None)
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        name, port_text = name + bracket, rest[1:] if rest else None
    else:
        name, colon, port_text = value.partition(":")
        port_text = port_text if colon else None
    if not name or (port_text is not None and not (port_text.isdigit() and 0 < int(port_text) < 65536)):
        return None
    return name, int(port_text) if port_text is not None else None


@dataclass(frozen=True)
class HostNames:
    """The names a hub answers to: its listening names on its port, and the names allowed with --allow-host."""

    listening: frozenset[str]
    allowed: frozenset[str]  # any port: a reverse proxy in front of the hub listens on its own
    port: int | None  # None: the port is not known (the app served by something else), any is taken

    @classmethod
    def listening_on(cls, host: str | None, port: int | None, allow_hosts=()) -> HostNames:
        listening = set(LOOPBACK_NAMES)
        if host:
            listening.add(host_name(host))
        return cls(frozenset(listening), frozenset(host_name(name) for name in allow_hosts), port)

    def is_allowed(self, header: str | None) -> bool:
        parts = split_host(header or "")
        if parts is None:
            return False
        name, port = parts
        if name in self.allowed:
            return True
        # A browser leaves the port out of Host only for the scheme's default one.
        return name in self.listening and (self.port is None or (port or 80) == self.port)


def cross_site_reason(origin: str | None, fetch_site: str | None, host: str) -> str | None:
    """Why a write must be refused as coming from another site, or None when it comes from the hub's own pages.

    `origin` and `fetch_site` are the request's Origin and Sec-Fetch-Site headers (a browser sets both and no
    page can forge them); `host` is its Host header, already checked to be one of the hub's names.
    """
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return f"a {fetch_site.lower()[:20]} request may not change the hub: record it from the hub's own page"
    if origin is None:
        return None
    if origin == "null":
        # An opaque origin: a sandboxed frame or a file, unless the browser vouches that it is the hub's own page.
        return None if fetch_site == "same-origin" else "a request from an opaque origin may not change the hub"
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.strip().lower():
        return "a request from another site may not change the hub: record it from the hub's own page"
    return None


def has_form_token(sent: str | None, token: str) -> bool:
    """Whether `sent` is the hub's form token, compared in constant time."""
    return sent is not None and hmac.compare_digest(sent.encode(), token.encode())
