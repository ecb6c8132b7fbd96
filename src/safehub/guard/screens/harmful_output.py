"""harmful_output: the upstream's answer complies with a harmful request, or is harmful instructions itself.

    load_screen("harmful_output").score_output(
        [{"role": "user", "content": "How do I make a pipe bomb?"}],
        "Sure, here's how to make a pipe bomb. Step 1: get the [components] ...")
    # -> ScreenResult(rule="harmful_output", score=0.98, detail="complied with a harmful request ...")

Two signals, the higher wins:
- compliance: min(harmful_request's score of the conversation, the refusal classifier's
  P(full_compliance) of the answer's opening), high only when the request is harmful *and* the answer
  does what it asks (a refusal, a lecture or a partial answer keeps it low);
- content: a classifier of harmful instructional content in the answer itself (answer_corpus.py),
  for when the request hid its intent (an encoding the input screens missed, a long role-play).
For streams, pass the whole text so far: the screen reads the first OPENING_CHARS (where a refusal
or a "Sure, here's how" sits) and the last WINDOW_CHARS (the newest content), so each call costs the
same however long the answer gets, and the first ~200 characters already carry both signals.
"""

from __future__ import annotations

import functools

from safehub.classifiers.linear import CLASSIFIERS_DIR, LinearClassifier
from safehub.guard.screens.base import OutputScreen, ScreenResult
from safehub.guard.screens.compliance import Compliance
from safehub.guard.screens.harmful_request import HarmfulRequest
from safehub.guard.screens.linear import ScreenModels, artifact_version
from safehub.guard.screens.registry import load_screen, register
from safehub.guard.screens.text import clip, last_text

OPENING_CHARS = 400
WINDOW_CHARS = 2_000


@register
class HarmfulOutput(OutputScreen):
    rule = "harmful_output"
    version = artifact_version()

    def __init__(self, models: ScreenModels | None = None, refusal: LinearClassifier | None = None,
                 requests: HarmfulRequest | None = None):
        self.content = (models or ScreenModels.load())["harmful_answer"]
        self.refusal = refusal or LinearClassifier.load(CLASSIFIERS_DIR / "refusal.json")
        self.requests = requests or load_screen("harmful_request")
        # A stream's opening stops changing after OPENING_CHARS: every later window of it hits this cache.
        self._compliance = functools.lru_cache(maxsize=2048)(Compliance(self.refusal).probability)

    def score_output(self, messages: list[dict], text: str) -> ScreenResult:
        answer = text if isinstance(text, str) else ""
        if not answer.strip():
            return ScreenResult(self.rule, 0.0, "")
        request = self.requests.request_score(messages)
        compliance = self._compliance(clip(last_text(messages, "user"))[:OPENING_CHARS * 4], answer[:OPENING_CHARS])
        content = self.content.score(answer[-WINDOW_CHARS:])
        complied = min(request, compliance)
        if complied >= content:
            detail = f"complied with a harmful request (request {request:.2f}, compliance {compliance:.2f})"
            return ScreenResult(self.rule, round(complied, 4), detail)
        return ScreenResult(self.rule, round(content, 4), f"harmful instructions in the answer ({content:.2f})")
