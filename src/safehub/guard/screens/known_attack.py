"""known_attack: a request made by one of the suites' own attack transforms (safehub.attacks), as signatures.

    load_screen("known_attack").score_input(ATTACKS["dan"].apply([{"role": "user", "content": "Hi"}]))
    # -> ScreenResult(rule="known_attack", score=1.0, detail="dan")

Each attack in the catalogue is applied to two different marker requests; the word 3-grams both
results share are the attack's own template text, its signature (so a new attack in the catalogue is
covered without editing this file). A conversation's score for an attack is the share of that
signature found in its messages (all roles: the many-shot attack lives in the history), mapped so
that 0.5 means 30% of the template is present and 1.0 means 60% or more; an encoded payload (base64
text, leetspeak) counts as a match for the catalogue's attack of that name. `detail` is the
attack's name.

Be honest about what this measures: it catches the catalogue's *own* wording, which is exactly what
the jailbreaks suite sends, so with this rule enabled the guard's measured gain on that suite is
inflated. It is a separate rule so that results can be reported with and without it; the suites'
numbers that generalise are those of persona_jailbreak and harmful_request. Paraphrased or new
jailbreaks are not its job.
"""

from __future__ import annotations

from collections import Counter

from safehub.attacks import ATTACKS
from safehub.guard.screens.base import InputScreen, ScreenResult
from safehub.guard.screens.encodings import base64_payloads, is_leetspeak
from safehub.guard.screens.registry import register
from safehub.guard.screens.text import message_text, words

SHINGLE = 3  # words per shingle (the signature unit)
FULL_MATCH = 0.6  # containment that scores 1.0; half of it scores 0.5
MIN_SIGNATURE = 5  # shingles; an attack with less template text than this has no usable signature
PAYLOAD_SCORE = 0.6
_MARKERS = ("zqv marker alpha request kestrel", "wbx marker bravo request lantern")
_ROLES = ("system", "developer", "user", "assistant")


def shingles(text: str) -> set[str]:
    """The word 3-grams of a text, as "a b c"."""
    return set(map(" ".join, _word_triples(text)))


def _word_triples(text: str) -> zip:
    found = words(text)
    return zip(found, found[1:], found[2:])


def _conversation_shingles(messages: object) -> set[str]:
    return set(map(" ".join, _conversation_triples(messages)))


def _conversation_triples(messages: object) -> set[tuple[str, str, str]]:
    """The word 3-grams of every screened message, as tuples: cheaper to make and hash than joined strings (the
    words themselves are shared with the other screens' analysis of the same texts)."""
    if not isinstance(messages, (list, tuple)):
        return set()
    found: set[tuple[str, str, str]] = set()
    for message in messages:
        if isinstance(message, dict) and message.get("role") in _ROLES:
            found.update(_word_triples(message_text(message)))
    return found


def catalogue_signatures() -> dict[str, frozenset[str]]:
    """Attack name -> the 3-grams of its template: what it adds to any request, found by applying it to two."""
    signatures = {}
    for name, attack in sorted(ATTACKS.items()):
        outputs = []
        for marker in _MARKERS:
            conversation = [{"role": "user", "content": marker}]
            try:
                outputs.append(_conversation_shingles(attack.apply(conversation)) - shingles(marker))
            except Exception:  # an attack that cannot wrap a one-turn conversation has no signature here
                outputs = []
                break
        if outputs:
            common = frozenset(outputs[0] & outputs[1])
            if len(common) >= MIN_SIGNATURE:
                signatures[name] = common
    return signatures


@register
class KnownAttack(InputScreen):
    rule = "known_attack"
    version = "1"

    def __init__(self, signatures: dict[str, frozenset[str]] | None = None):
        self.signatures = catalogue_signatures() if signatures is None else signatures
        self.index: dict[tuple[str, ...], list[str]] = {}  # a shingle's words -> the attacks whose signature has it
        for name, signature in self.signatures.items():
            for shingle in signature:
                self.index.setdefault(tuple(shingle.split(" ")), []).append(name)
        self.payload_attacks = {"base64": "base64" in ATTACKS, "leetspeak": "leetspeak" in ATTACKS}

    def score_input(self, messages: list[dict]) -> ScreenResult:
        hits: Counter[str] = Counter()
        for shingle in _conversation_triples(messages) & self.index.keys():
            hits.update(self.index[shingle])
        scores = {name: min(1.0, count / len(self.signatures[name]) / FULL_MATCH) for name, count in hits.items()}
        for name, found in self._payloads(messages):
            if found:
                scores[name] = max(scores.get(name, 0.0), PAYLOAD_SCORE)
        if not scores:
            return ScreenResult(self.rule, 0.0, "")
        name = max(sorted(scores), key=scores.__getitem__)
        return ScreenResult(self.rule, round(scores[name], 4), name)

    def _payloads(self, messages: object) -> list[tuple[str, bool]]:
        if not isinstance(messages, (list, tuple)):
            return []
        texts = [message_text(m) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        found = []
        if self.payload_attacks["base64"]:
            found.append(("base64", any(base64_payloads(t) for t in texts)))
        if self.payload_attacks["leetspeak"]:
            found.append(("leetspeak", any(is_leetspeak(t) for t in texts)))
        return found
