"""Model specs: `provider:model[@base_url]`, e.g. `openai:gpt-4o-mini` or `local`.

A base URL may carry credentials, `openai-compat:m@http://alice:pw@127.0.0.1:8000/v1`: they are
sent as HTTP basic auth (see `Endpoint`), and shown, logged and stored only redacted (`display`).

    >>> ModelSpec.parse("openai-compat:m@http://alice:pw@127.0.0.1:8000/v1").display
    'openai-compat:m@http://***@127.0.0.1:8000/v1'
    >>> Endpoint.from_base_url("http://alice:pw@127.0.0.1:8000/v1?key=k").url
    'http://127.0.0.1:8000/v1'
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from safehub.errors import UsageError
from safehub.redact import redact

_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model: str = ""
    base_url: str | None = None  # as given, credentials included: never show it, show `display`

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        text = text.strip()
        shown = redact(text)  # every message below names the spec, never its password
        if not text:
            raise UsageError("empty model spec: use provider:model, e.g. openai:gpt-4o-mini or local")
        provider, _, rest = text.partition(":")
        provider = provider.lower()
        if not _PROVIDER.match(provider):
            raise UsageError(f"model spec {shown!r}: provider {redact(provider)!r} is not a name; use provider:model")
        if provider == "scripted":  # the rest is a file path, which may itself contain '@'
            if not rest:
                raise UsageError(f"model spec {shown!r}: give the rule file, e.g. scripted:rules.yaml")
            return cls(provider, rest, None)
        model, at, base_url = rest.partition("@")
        if at and not base_url:
            raise UsageError(f"model spec {shown!r}: nothing after '@'; give a base URL such as http://127.0.0.1:8000/v1")
        if base_url:
            _check_base_url(base_url, shown)
        return cls(provider, model, base_url or None)

    def __str__(self) -> str:
        text = f"{self.provider}:{self.model}" if self.model else self.provider
        return f"{text}@{self.base_url}" if self.base_url else text

    @property
    def display(self) -> str:
        """The spec with the base URL's password and secret query values replaced: safe for logs, the store and pages."""
        if not self.base_url:
            return str(self)
        text = f"{self.provider}:{self.model}" if self.model else self.provider
        return f"{text}@{redact(self.base_url)}"


_PERCENT_HINT = "percent-encode special characters of a password (/ as %2F, ? as %3F, # as %23, @ as %40)"


def _check_base_url(base_url: str, shown: str) -> None:
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        parts = parts._replace(netloc="")
    hint = f"; {_PERCENT_HINT}" if "@" in base_url else ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"model spec {shown!r}: the base URL must look like http://host:port/v1{hint}")
    if "@" in urlunsplit(("", "", parts.path, parts.query, parts.fragment)):
        # A '/', '?' or '#' in a password ends the host part early: the request would go elsewhere.
        raise UsageError(f"model spec {shown!r}: the base URL has '@' after the host{hint}")


@dataclass(frozen=True)
class Endpoint:
    """Where requests go, from a base URL: `url` without credentials or query; `query` sent with every request
    (e.g. `api-version`, a vendor's `?key=`); `authorization` the basic-auth header for `user:password@`."""

    url: str
    query: dict[str, str] = field(default_factory=dict)
    authorization: str | None = None

    @classmethod
    def from_base_url(cls, base_url: str) -> Endpoint:
        parts = urlsplit(base_url)
        host = parts.netloc.rpartition("@")[2]
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        url = urlunsplit((parts.scheme, host, parts.path, "", ""))
        return cls(url, dict(parse_qsl(parts.query, keep_blank_values=True)), authorization)
