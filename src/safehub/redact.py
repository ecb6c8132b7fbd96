"""Secrets out of URLs before they are shown, logged or stored.

A base URL may carry a password (`http://alice:pw@host/v1`) or a key in its query string
(`...?api_key=...`). Everything a person or a file sees gets the redacted form:

    >>> redact("http://alice:pw@127.0.0.1:8000/v1?api_key=sk-1&api-version=2024-06-01")
    'http://***@127.0.0.1:8000/v1?api_key=***&api-version=2024-06-01'
    >>> redact("cannot reach http://tok@host/v1: refused")
    'cannot reach http://***@host/v1: refused'

It works on free text (an error message, a spec, a log line), not only on a URL alone, and errs on
the side of hiding: everything between `scheme://` and the last `@` of a word counts as credentials,
so a password with an unencoded `/` or `?` is hidden too, and so is the user name (vendors put
tokens there: `https://TOKEN@host`), as the store's database URLs are shown.
"""

from __future__ import annotations

import re

MASK = "***"
# Query parameters whose value is a secret: api_key, key, access_token, subscription-key, sig, password ...
_SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|sig|auth|credential", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^\s'\"<>]*)@")
_QUERY_PARAM = re.compile(r"(?P<sep>[?&])(?P<name>[^=&#\s'\"<>]+)=(?P<value>[^&#\s'\"<>]*)")


def _masked_userinfo(match: re.Match) -> str:
    return f"{match['scheme']}{MASK}@"


def _masked_param(match: re.Match) -> str:
    if not match["value"] or not _SECRET_PARAM.search(match["name"]):
        return match[0]
    return f"{match['sep']}{match['name']}={MASK}"


def redact(text: str) -> str:
    """`text` with every URL's credentials and secret query values replaced by `***`."""
    return _QUERY_PARAM.sub(_masked_param, _USERINFO.sub(_masked_userinfo, text))


def is_redacted(text: str) -> bool:
    """Did `redact` hide something in `text` (so the original cannot be rebuilt from it)?"""
    return MASK in text
