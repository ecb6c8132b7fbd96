"""Composing labeled texts from hand-written fragment pools, with a held-out split by fragment.

    pools = Pools("heldout", random.Random(7))
    pools.take(("a", "b", "c", "d", "e", "f"))  # -> "d" (only index 3 of each five is held out)

The guard's three corpora (persona_corpus, request_corpus, answer_corpus) follow the refusal
old refusal classifier's recipe: every fragment pool is cut by position, every
fifth item (index % 5 == 3) held out, and a held-out text is composed only of held-out fragments, so
its wordings, topics, names and templates were never seen in training. Pools of fewer than five items
(separators, casing variants) and pools marked `Shared` (closed vocabularies of verbs and intent
phrases) are drawn from whole by both splits. Rows carry a `family` (the template that composed them), so
metrics can also be reported per family. The held-out rows are cut in two (`held_out_halves`): a
calibration half, on which each screen's threshold is chosen, and a test half, on which it is reported.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
HELD_OUT_EVERY = 5
HELD_OUT_INDEX = 3
SPLITS = ("train", "heldout")


class Shared(tuple):
    """A pool both splits draw from whole: a closed vocabulary (the verbs and intent phrases of harm_slots.py), where
    what is held out is the combination and its surroundings, not the word."""

    __slots__ = ()


class Pools:
    """Every fragment pool, cut to one split; all randomness comes from one seeded generator."""

    def __init__(self, split: str, rng: random.Random):
        self.split = split
        self.rng = rng
        self._parts: dict[int, list] = {}

    def part(self, pool: Sequence[T]) -> list[T]:
        key = id(pool)
        if key not in self._parts:
            if len(pool) < HELD_OUT_EVERY or isinstance(pool, Shared):
                self._parts[key] = list(pool)
            else:
                held_out = self.split == "heldout"
                self._parts[key] = [item for i, item in enumerate(pool)
                                    if (i % HELD_OUT_EVERY == HELD_OUT_INDEX) == held_out]
        return self._parts[key]

    def take(self, pool: Sequence[T]) -> T:
        return self.rng.choice(self.part(pool))

    def some(self, pool: Sequence[T], low: int, high: int, keep: Callable[[T], bool] | None = None) -> list[T]:
        """Between `low` and `high` distinct items of the pool's split (those `keep` accepts), in random order."""
        part = [item for item in self.part(pool) if keep is None or keep(item)]
        return self.rng.sample(part, min(len(part), self.rng.randint(low, high)))

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        """A choice among a fixed set of options (not a fragment pool: never split)."""
        return self.rng.choice(options)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, **values: str) -> str:
    """`template` with the given placeholders filled; unknown ones stay as written, "{{" becomes "{"."""
    return template.format_map(_KeepMissing(values))


def join_sentences(pools: Pools, sentences: Sequence[str]) -> str:
    """Sentences as prose, as a bullet list or one per line, as system prompts are written."""
    sentences = [s for s in sentences if s]
    style = pools.rng.random()
    if style < 0.55:
        return " ".join(sentences)
    if style < 0.8:
        bullet = pools.pick(("- ", "* ", "\u2022 "))
        return "\n".join(bullet + s for s in sentences)
    if style < 0.9:
        return "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))
    return "\n".join(sentences)


def restyle(pools: Pools, text: str) -> str:
    """Occasional surface noise: lower case, no final full stop, extra spaces."""
    roll = pools.rng.random()
    if roll < 0.08:
        return text.lower()
    if roll < 0.14:
        return text.rstrip(".")
    if roll < 0.17:
        return text.replace(". ", ".  ")
    return text


Family = Callable[[Pools], str | tuple[str, str]]


def generate(families: dict[str, tuple[int, Family, float]], rows_per_split: dict[str, int], seed: int,
             prefix: str) -> list[dict]:
    """Rows {"id", "text", "label", "family", "split"}: training rows then held-out rows, no duplicate texts."""
    rng = random.Random(seed)
    names = list(families)
    weights = [families[name][2] for name in names]
    rows: list[dict] = []
    seen: set[str] = set()
    for split in SPLITS:
        pools = Pools(split, rng)
        made = attempts = 0
        while made < rows_per_split[split] and attempts < rows_per_split[split] * 20:
            attempts += 1
            family = rng.choices(names, weights)[0]
            label, compose, _ = families[family]
            text = compose(pools)
            if isinstance(text, tuple):  # (text, a more specific family name)
                text, family = text
            text = text.strip()
            if not text or text in seen:
                continue
            seen.add(text)
            made += 1
            rows.append({"id": f"{prefix}-{len(rows):05d}", "text": text, "label": label, "family": family,
                         "split": split})
    return rows


def held_out_halves(rows: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """The held-out rows cut in two, alternately: (calibration, test). Thresholds are chosen on the
    calibration half, quality is reported on the test half, so the reported numbers are not tuned on."""
    held_out = [row for row in rows if row["split"] == "heldout"]
    return held_out[0::2], held_out[1::2]


def write_rows(rows: Sequence[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
