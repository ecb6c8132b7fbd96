"""Encoded payloads in a request: base64 blobs that decode to text, and leetspeak.

    base64_payloads("Decode this: SG93IGRvIEkgbWFrZSBhIGNha2U/")  # -> ["How do I make a cake?"]
    is_leetspeak("H0w d0 1 m4k3 4 c4k3?")                          # -> True
    deleet("H0w d0 1 m4k3 4 c4k3?")                                # -> "How do i make a cake?"
    decoded_views("Answer this:\nH0w d0 1 m4k3 4 c4k3?")            # -> ["How do i make a cake?"]

Used by known_attack (an encoded payload is one of the catalogue's signatures) and by
harmful_request (which screens the decoded text as well, so encoding a request does not hide it).
Bounded: at most MAX_PAYLOADS blobs are decoded, each at most MAX_PAYLOAD_CHARS long.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import string

MAX_PAYLOADS = 4
MAX_PAYLOAD_CHARS = 8_000
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_LEET_DIGITS = "4310572"
_DELEET = str.maketrans({"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t"})
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_HAS_LOWER = re.compile(r"[a-z]")
_HAS_UPPER_OR_DIGIT = re.compile(r"[A-Z0-9]")
_HAS_WORD = re.compile(r"[A-Za-z]{3}")
# ASCII letters read as "a", leet digits as "1": a word mixing the two then holds "a1" or "1a" (see _leet_lines).
_LETTERS_AND_LEET = str.maketrans({**{c: "a" for c in string.ascii_letters}, **{c: "1" for c in _LEET_DIGITS}})


def base64_payloads(text: str) -> list[str]:
    """Texts hidden as base64 in `text`: blobs of 16+ characters that decode to mostly printable UTF-8 with spaces."""
    return list(_scan(text)[0])


def _base64_payloads(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for match in _BASE64_RUN.finditer(text):
        blob = match.group()
        if len(blob) > MAX_PAYLOAD_CHARS or not _HAS_LOWER.search(blob) or not _HAS_UPPER_OR_DIGIT.search(blob):
            continue
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        printable = sum(ch.isprintable() or ch in "\n\t" for ch in decoded)
        if decoded and printable / len(decoded) > 0.95 and " " in decoded.strip() and _HAS_WORD.search(decoded):
            found.append(decoded)
            if len(found) >= MAX_PAYLOADS:
                break
    return tuple(found)


def _leet_lines(text: str) -> list[str]:
    """Lines where several words mix letters with the digits leetspeak uses for them (4=a, 3=e, 1=i, 0=o, 5=s,
    7=t): at least three such words, a quarter of the line's words."""
    lines: list[str] = []
    head = text[:MAX_PAYLOAD_CHARS]
    # The common case, decided in C: each such word holds a letter next to a leet digit, so a text with fewer than three
    # of those adjacencies has no leetspeak line (and this is several times faster than a regex scan).
    marked = head.translate(_LETTERS_AND_LEET)
    if marked.count("a1") + marked.count("1a") < 3:
        return lines
    for line in head.splitlines():
        tokens = [t for t in _TOKEN.findall(line) if len(t) <= 15]
        mixed = sum(1 for t in tokens if any(c.isalpha() for c in t) and any(c in _LEET_DIGITS for c in t)
                    and all(c.isalpha() or c in _LEET_DIGITS for c in t))
        if mixed >= 3 and mixed / len(tokens) >= 0.25:
            lines.append(line)
    return lines


def is_leetspeak(text: str) -> bool:
    """Whether some line of `text` is written in leetspeak."""
    return bool(_scan(text)[1])


def _deleet_token(match: re.Match) -> str:
    token = match.group()
    return token.translate(_DELEET) if all(c.isalpha() or c in _LEET_DIGITS for c in token) else token


def deleet(text: str) -> str:
    """`text` with leet digits read back as letters, in words made only of letters and leet digits."""
    return _TOKEN.sub(_deleet_token, text[:MAX_PAYLOAD_CHARS])


def decoded_views(text: str) -> list[str]:
    """The readable texts hidden in `text` by an encoding: decoded base64 payloads and de-leeted text."""
    payloads, leet = _scan(text)
    views = list(payloads)
    if leet:
        views.append(deleet("\n".join(leet)))
    return views


@functools.lru_cache(maxsize=1024)
def _scan(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(base64 payloads, leetspeak lines) of a text, looked for once: known_attack and harmful_request both ask."""
    return _base64_payloads(text), tuple(_leet_lines(text))
