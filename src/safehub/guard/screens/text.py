"""What a screen reads from a request: the text of each message, bounded, whatever shape the client sent.

    message_text({"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]})
    # -> "hi"
    screened_texts([{"role": "system", "content": None}, {"role": "user", "content": "hello"}], ("user",))
    # -> ["hello"]
    words("Don't STOP me now!")  # -> ("dont", "stop", "me", "now")

Requests are hostile input: `content` may be a string, None, a list of OpenAI content parts or
something else entirely, and a message may not even be a dict. Nothing here raises on any of that.
Every text is clipped to MAX_CHARS (its head and its tail) and at most MAX_MESSAGES messages are read
(the system/developer turns first, then the latest others), so the cost of screening is bounded
whatever the body size. The price is that something hidden in the middle of a huge message, or in an
early turn of a very long conversation, is not seen: the gateway's body-size limit keeps that small.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import NamedTuple

MAX_CHARS = 12_000
_TAIL_CHARS = 4_000
MAX_MESSAGES = 24
INSTRUCTION_ROLES = ("system", "developer")


def clip(text: str) -> str:
    """The first and last characters of a long text, joined by a newline; short texts unchanged."""
    if len(text) <= MAX_CHARS:
        return text
    return text[: MAX_CHARS - _TAIL_CHARS] + "\n" + text[-_TAIL_CHARS:]


def message_text(message: object) -> str:
    """The text of one chat message: a string content, or the text parts of a list content, clipped."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return clip(content)
    if isinstance(content, (list, tuple)):
        parts = []
        for part in content[:MAX_MESSAGES]:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return clip("\n".join(parts))
    return ""


def message_role(message: object) -> str:
    role = message.get("role") if isinstance(message, dict) else None
    return role if isinstance(role, str) else ""


def screened_messages(messages: object, roles: Sequence[str]) -> list[tuple[int, str, str]]:
    """(index, role, text) of the non-empty messages whose role is in `roles`: instruction turns first, then the
    latest others, at most MAX_MESSAGES."""
    if not isinstance(messages, (list, tuple)):
        return []
    chosen = [(index, message_role(m), m) for index, m in enumerate(messages) if message_role(m) in roles]
    instructions = [c for c in chosen if c[1] in INSTRUCTION_ROLES][:MAX_MESSAGES]
    others = [c for c in chosen if c[1] not in INSTRUCTION_ROLES]
    others = others[len(others) - (MAX_MESSAGES - len(instructions)):] if len(instructions) < MAX_MESSAGES else []
    found = ((index, role, message_text(m)) for index, role, m in (*instructions, *others))
    return [(index, role, text) for index, role, text in found if text.strip()]


def screened_texts(messages: object, roles: Sequence[str]) -> list[str]:
    """The texts of `screened_messages`."""
    return [text for _, _, text in screened_messages(messages, roles)]


def last_text(messages: object, role: str = "user") -> str:
    """The text of the last message with `role`, or ""."""
    if not isinstance(messages, (list, tuple)):
        return ""
    for message in reversed(messages):
        if message_role(message) == role:
            return message_text(message)
    return ""


STEM_LETTERS = 5  # a word of five letters or more also counts as its first five letters (a cheap stem)
_PREFIX = operator.itemgetter(slice(0, STEM_LETTERS))


class Analysis(NamedTuple):
    """A text as every screen model reads it, computed once per text (cached) and shared by all of them."""

    words: tuple[str, ...]  # lower-cased words, apostrophes dropped ("don't" is "dont")
    sentences: tuple[tuple[int, int], ...]  # [start, end) word range of each sentence or line
    pairs: tuple[str, ...]  # "a b" for each pair of adjacent words
    prefixes: tuple[str, ...]  # the first five letters of each word (the whole word when shorter)


# One str.translate pass turns a text into words and sentences: sentence ends become "\x00", other punctuation
# a space, apostrophes vanish ("don't" is "dont"), so str.split does the rest. Several times faster than a Unicode
# word regex, which matters on the gateway's hot path. Symbols not listed here stay inside words.
_SENTENCE_ENDS = ".!?;:\n\u2026"
_SEPARATORS = "\"#$%&()*+,-/<=>@[\\]^_`{|}~\t\r\u00a0\u00ab\u00bb\u2013\u2014\u2022\u201c\u201d\u201e\u2192\u00b7"
_TOKENIZE = str.maketrans({**{ord(c): " " for c in _SEPARATORS}, **{ord(c): "\x00" for c in _SENTENCE_ENDS},
                           ord("'"): None, 0x2019: None, 0x2018: None, 0x02BC: None})


@functools.lru_cache(maxsize=1024)
def analyse(text: str) -> Analysis:
    all_words: list[str] = []
    spans: list[tuple[int, int]] = []
    for piece in text.lower().translate(_TOKENIZE).split("\x00"):
        found = piece.split()
        if found:
            spans.append((len(all_words), len(all_words) + len(found)))
            all_words.extend(found)
    found_words = tuple(all_words)
    return Analysis(found_words, tuple(spans), tuple(map(" ".join, zip(found_words, found_words[1:]))),
                    tuple(map(_PREFIX, found_words)))


def segments(text: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """(words, sentences) of `text`."""
    analysis = analyse(text)
    return analysis.words, analysis.sentences


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words, apostrophes dropped, cached: every screen reads the same texts."""
    return analyse(text).words
