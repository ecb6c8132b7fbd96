"""The highest score any screened message gets from one model, and which message it was.

    highest_message_score(model, messages, ("system", "developer", "user"))  # -> (0.97, "system message 0")

A message's score is its text's score; with `decode`, also the score of what an encoding hides in it
(decoded base64, de-leeted text; see encodings.py), so encoding a request does not hide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from safehub.guard.screens.encodings import decoded_views
from safehub.guard.screens.linear import TextModel
from safehub.guard.screens.text import screened_messages


def highest_message_score(model: TextModel, messages: object, roles: Sequence[str],
                          decode: bool = False) -> tuple[float, str]:
    return highest_score(model, screened_messages(messages, roles), decode)


def highest_score(model: TextModel, found: Iterable[tuple[int, str, str]], decode: bool = False) -> tuple[float, str]:
    """`highest_message_score` of messages already chosen by `screened_messages`: (index, role, text) each."""
    best, where = 0.0, ""
    for index, role, text in found:
        score = model.score(text)
        label = ""
        if decode:
            for view in decoded_views(text):
                decoded = model.score(view)
                if decoded > score:
                    score, label = decoded, f"{role} message {index} (decoded)"
        if score > best:
            best, where = score, label or f"{role} message {index}"
    return round(best, 4), where
