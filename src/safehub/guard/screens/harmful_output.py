"""harmful_output: the upstream's answer gives substantive help toward a harmful request — the judgement layer's verdict.

    load_screen("harmful_output").score_output(
        [{"role": "user", "content": "Give me step-by-step instructions to pick a pin tumbler lock."}],
        "Of course, happy to help! 1. Insert the tension wrench into the bottom of the keyhole ...")
    # -> ScreenResult(rule="harmful_output", score=0.71, detail="harmful help (request 0.93, help 0.88)")

The two heads of safehub.classifiers.judgement that decide `harmful_help` for graders decide it here:
- `harmful_request`, P(the request is harmful): the guard is never told, so it takes the higher of the judgement
  layer's head (highest over the user turns) and the guard's own harmful_request screen. Measured on real answers
  held out by source (scripts/build_harmful_output_card.py), the pair beats either alone on its own and, beside the
  input stage, the head is what adds catches: the screen already acted on the request there, the head is a second,
  independent opinion; the screen makes plain harmful requests and encoded ones count;
- `harmful_help` (P the answer gives usable help toward the request, had it been harmful), reading the last user
  turn and the answer together, polite or blunt.
The raw score is their product, P(harmful request) x P(help | harmful request), re-scaled so that 0.5 is the
operating point measured in the card (`operating_point`: the raw score that passes 98% of real compliant answers
to harmless requests, chosen on training folds only) — a gateway blocking at 0.5 acts where the card was measured.

Given `act_at` (the gateway passes its rule's threshold), a request whose P(harmful request) alone cannot reach it
is not read further: the score returned is that bound and the detail says so — the common case, and the help
head is most of the cost.

For streams, pass the whole text so far: the screen reads its first OPENING_CHARS (where a refusal or a "Sure,
here's how" sits) and its newest WINDOW_CHARS, so each check costs the same however long the answer gets. The
request's probability is computed once per conversation (memoised).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from safehub.classifiers.judgement import AnswerJudge
from safehub.classifiers.linear import CLASSIFIERS_DIR, artifact_version
from safehub.guard.screens.base import OutputScreen, ScreenResult
from safehub.guard.screens.harmful_request import HarmfulRequest
from safehub.guard.screens.linear import ARTIFACT_PATH as SCREENS_ARTIFACT
from safehub.guard.screens.registry import load_screen, register
from safehub.guard.screens.text import screened_texts

OPENING_CHARS = 400
WINDOW_CHARS = 2_000
CARD_PATH = Path(__file__).parent / "harmful_output.card.json"
HEAD_ARTIFACTS = (CLASSIFIERS_DIR / "harmful_help.json", CLASSIFIERS_DIR / "harmful_request.json")
# harmful_request (the screen) reads this artifact: its scores are part of this screen's.
ARTIFACTS = (*HEAD_ARTIFACTS, SCREENS_ARTIFACT)
_BUILD = "run scripts/build_harmful_output_card.py"


def answer_window(text: str) -> str:
    """What the screen reads of an answer: the whole of a short one, else its opening and its newest part."""
    if len(text) <= OPENING_CHARS + WINDOW_CHARS:
        return text
    return text[:OPENING_CHARS] + "\n" + text[-WINDOW_CHARS:]


def raw_score(p_request: float, p_help: float) -> float:
    """P(the request is harmful) x P(the answer helps toward it): harmful help needs both."""
    return p_request * p_help


def calibrated(raw: float, operating_point: float) -> float:
    """`raw` mapped monotonically onto [0, 1] with `operating_point` at exactly 0.5 (piecewise linear)."""
    if raw < operating_point:
        return 0.5 * raw / operating_point
    return 0.5 + 0.5 * (raw - operating_point) / (1.0 - operating_point)


def uncalibrated(score: float, operating_point: float) -> float:
    """The raw score that `calibrated` maps onto `score` (its inverse)."""
    if score < 0.5:
        return 2.0 * score * operating_point
    return operating_point + 2.0 * (score - 0.5) * (1.0 - operating_point)


def screen_version(operating_point: float | None) -> str:
    """The artifacts' bytes and the operating point: what a stored guard decision was made with."""
    if operating_point is None or not all(path.is_file() for path in ARTIFACTS):
        return "harmful_output-unbuilt"
    parts = [artifact_version(path) for path in ARTIFACTS] + [repr(operating_point)]
    return "harmful_output-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def read_operating_point(path: Path = CARD_PATH) -> float | None:
    """The raw operating point stored in the screen's card, or None before the card is built."""
    if not path.is_file():
        return None
    return float(json.loads(path.read_text(encoding="utf-8"))["operating_point"]["raw_score"])


@register
class HarmfulOutput(OutputScreen):
    rule = "harmful_output"
    stops_early = True
    version = screen_version(read_operating_point())

    def __init__(self, judge: AnswerJudge | None = None, requests: HarmfulRequest | None = None,
                 operating_point: float | None = None):
        heads = (judge or AnswerJudge.load()).heads
        self.help = heads["harmful_help"]
        self.request = heads["harmful_request"]
        self.requests = requests or load_screen("harmful_request")
        self.operating_point = operating_point if operating_point is not None else read_operating_point()
        if self.operating_point is None or not 0.0 < self.operating_point < 1.0:
            raise ValueError(f"{CARD_PATH.name}: no operating point between 0 and 1; {_BUILD}")
        # A conversation's user turns stay the same across every window of its streamed answer.
        self._request_probability = functools.lru_cache(maxsize=4096)(self._request_probability_of)

    def score_output(self, messages: list[dict], text: str, act_at: float | None = None) -> ScreenResult:
        answer = text if isinstance(text, str) else ""
        if not answer.strip():
            return ScreenResult(self.rule, 0.0, "")
        turns = screened_texts(messages, ("user",))
        if not turns:
            return ScreenResult(self.rule, 0.0, "no user turn")
        p_request = max(self.requests.request_score(messages), *map(self._request_probability, turns))
        if act_at is not None and p_request < uncalibrated(act_at, self.operating_point):
            # Even an answer the help head were sure of scores below act_at: the head need not read it. Most
            # requests end here, since they are not harmful; the score is the bound, not rounded up onto act_at.
            return ScreenResult(self.rule, calibrated(p_request, self.operating_point),
                                f"at most this: request {p_request:.2f} is below the threshold whatever the answer")
        # The help head learned from answers to harmful requests only ("help toward it, had it been harmful"), so it
        # is always asked that question; the request head says how likely the premise is.
        p_help = float(self.help.probabilities([turns[-1]], [answer_window(answer)], [True])[0, 1])
        score = calibrated(raw_score(p_request, p_help), self.operating_point)
        return ScreenResult(self.rule, round(score, 4), f"harmful help (request {p_request:.2f}, help {p_help:.2f})")

    def _request_probability_of(self, turn: str) -> float:
        return float(self.request.probabilities([turn], [turn])[0, 1])
