"""The harmful_output screen's content model's labeled set: answers that hand over harm vs everything else.

    rows = generate_answer_set()
    rows[0]  # {"id": "ans-00000", "text": "Sure, here's how to ...", "label": 1, "family": "harmful_steps", ...}

label 1: an answer that complies with a harmful request: a ready opening plus steps aimed at hurting,
defrauding, stalking or evading, or the harmful message itself (a phishing text, a threat, propaganda),
with or without a disclaimer, also cut short after its first 120-400 characters (streams are screened
on partial answers). label 0: instructions for benign look-alikes (killing a process, shooting
portraits), educational and safety answers about harmful topics, refusals, partial refusals and
everyday answers, also cut short. Refusal and everyday wording comes from the refusal classifier's
fragments (refusal_fragments.py, everyday_prompts.py), split by the same rule (index % 5 == 3 held out).
"""

from __future__ import annotations

from safehub.guard.screens import answer_fragments as answers
from safehub.guard.screens import benign_fragments as benign
from safehub.guard.screens import everyday_prompts as everyday
from safehub.guard.screens import harm_slots, lookalike_slots
from safehub.guard.screens import refusal_fragments as refusal
from safehub.guard.screens import request_fragments as harmful
from safehub.guard.screens.compose import Pools, cap, fill, generate

DEFAULT_SEED = 20250613
ROWS_PER_SPLIT = {"train": 4400, "heldout": 1100}


def _cut(p: Pools, text: str, probability: float = 0.35) -> str:
    """Sometimes only the start of the answer, as a stream screen sees it."""
    if len(text) < 140 or not p.chance(probability):
        return text
    return text[: p.rng.randint(120, 400)]


def _task(p: Pools, category: str) -> str:
    """A harmful task of `category`: composed from the shared slot vocabulary most of the time, else hand-written."""
    if p.chance(0.65):
        return harm_slots.compose_task(p, category)
    return p.take(harmful.HARMFUL_TASKS[category])


def _composed_steps(p: Pools, category: str, low: int, high: int) -> list[str]:
    return [f"Step {i}: {cap(harm_slots.compose_task(p, category))}." for i in range(1, p.rng.randint(low, high) + 1)]


def _harmful_steps(p: Pools, category: str) -> str:
    task = _task(p, category)
    opening = fill(p.take(answers.COMPLY_OPENINGS), task=task, name=p.take(answers.PERSONA_NAMES))
    if p.chance(0.4):
        steps = _composed_steps(p, category, 2, 4)
    else:
        steps = p.some(answers.HARMFUL_STEPS[category], 2, 5)
    parts = [opening, "\n".join(steps)]
    if p.chance(0.25):
        parts.insert(0, fill(p.take(refusal.DISCLAIMERS), topic="this"))
    if p.chance(0.25):
        parts.append(p.take(refusal.COMPLY_CLOSERS))
    return "\n\n".join(parts)


def harmful_artifact(p: Pools) -> str:
    opening = p.pick(("Sure, here's the message:", "Here you go:", "Here's a draft you can send:", "Done:", ""))
    return _cut(p, (opening + "\n\n" if opening else "") + p.take(answers.HARMFUL_ARTIFACT_ANSWERS))


def generic_harmful(p: Pools) -> str:
    """The refusal corpus's placeholder bodies under an opening that names the harmful task."""
    task = harmful_task(p)
    return _cut(p, fill(p.take(refusal.COMPLY_LEADINS), task=task) + "\n" + p.take(refusal.PLACEHOLDER_BODIES))


def harmful_task(p: Pools) -> str:
    return _task(p, p.pick(sorted(harmful.HARMFUL_TASKS)))


def benign_steps(p: Pools) -> str:
    task = p.take(benign.LOOKALIKE_TASKS) if p.chance(0.4) else lookalike_slots.compose_lookalike(p)
    opening = fill(p.take(answers.BENIGN_ANSWER_OPENINGS), task=task)
    if p.chance(0.4):
        steps = [f"Step {i}: {cap(lookalike_slots.compose_lookalike(p))}." for i in range(1, p.rng.randint(2, 4) + 1)]
    else:
        steps = p.some(answers.BENIGN_STEPS, 2, 4)
    return _cut(p, opening + "\n\n" + "\n".join(steps))


def educational(p: Pools) -> str:
    intro = p.pick(("", "", "Good question. ", "In short: ", "Here's an overview. "))
    if p.chance(0.35):
        return _cut(p, intro + defensive_answer(p))
    return _cut(p, intro + p.take(answers.EDUCATIONAL_ANSWERS))


def defensive_answer(p: Pools) -> str:
    """A defensive answer naming the things of harm (the shared slot vocabulary)."""
    slots = harm_slots.SLOTS
    drug = p.take(slots["drugs"]["drug"])
    values = {"malware": p.take(slots["malware"]["malware"]), "crime": p.take(slots["fraud"]["crime"]),
              "agent": p.take(slots["chembio"]["agent"]), "harass": p.take(slots["hate"]["harass"]),
              "target": p.take(slots["hate"]["target"]), "evidence": p.take(slots["evasion"]["evidence"]),
              "drug_cap": cap(drug), "weapon": p.take(slots["weapons"]["weapon"]),
              "group": p.take(slots["extremism"]["group"])}
    return fill(p.pick(answers.DEFENSIVE_TEMPLATES), **values)


def refusal_answer(p: Pools) -> str:
    task = harmful_task(p)
    parts = [fill(p.take(refusal.REFUSAL_OPENERS), task=task, topic="that")]
    if p.chance(0.6):
        parts.append(fill(p.take(refusal.LECTURES), task=task, topic="this", topic_cap="This"))
    if p.chance(0.4):
        parts.append(fill(p.take(refusal.OFFERS), task=task, topic="that", safe_topic="staying safe"))
    return _cut(p, " ".join(parts))


def partial_refusal(p: Pools) -> str:
    task = harmful_task(p)
    parts = [fill(p.take(refusal.REFUSAL_OPENERS), task=task, topic="that"), p.take(refusal.BRIDGES),
             p.take(answers.EDUCATIONAL_ANSWERS)]
    return _cut(p, " ".join(parts))


def everyday_answer(p: Pools) -> str:
    _, answer = p.take(everyday.BENIGN)
    return _cut(p, p.pick(("", "Sure! ", "Of course. ")) + answer)


def _category(category: str):
    def compose(p: Pools) -> str:
        return _cut(p, _harmful_steps(p, category))
    return compose


FAMILIES = {f"harmful_steps_{c}": (1, _category(c), 2.2) for c in sorted(answers.HARMFUL_STEPS)}
FAMILIES.update({
    "harmful_artifact": (1, harmful_artifact, 3.0),
    "generic_harmful": (1, generic_harmful, 3.0),
    "benign_steps": (0, benign_steps, 10.0),
    "educational": (0, educational, 8.0),
    "refusal": (0, refusal_answer, 6.0),
    "partial_refusal": (0, partial_refusal, 5.0),
    "everyday_answer": (0, everyday_answer, 6.0),
})


def generate_answer_set(seed: int = DEFAULT_SEED) -> list[dict]:
    """Training rows then held-out rows, reproducible from `seed`."""
    return generate(FAMILIES, ROWS_PER_SPLIT, seed, "ans")
