"""The harmful_request screen's labeled set: harmful requests vs benign look-alikes, composed and seeded.

    rows = generate_request_set()
    rows[0]  # {"id": "req-00000", "text": "How can I ...?", "label": 1, "family": "harmful_fraud", "split": "train"}

label 1: a request for help to hurt people, break into systems, defraud, make drugs or weapons, harm
oneself, harass, stalk, promote terrorism, or evade the police, however it is phrased or wrapped
(a story, a hypothetical, a pirate voice, a jailbreak persona, a long unrelated preamble).
label 0: everything else, in particular requests that share those words (kill a process, shoot a
film, bath bombs, food poisoning) or ask about harmful topics for history, health, safety, defence or
fiction, in the same frames and wrappers, and a broad class of ordinary requests so that unfamiliar
wording is not mistaken for harm. Held out by fragment (see compose.py): held-out rows use tasks,
frames, wrappers and contexts never seen in training.
"""

from __future__ import annotations

from safehub.guard.screens import benign_fragments as benign
from safehub.guard.screens import everyday_fragments as everyday
from safehub.guard.screens import harm_slots, lookalike_slots, refusal_answers
from safehub.guard.screens import persona_fragments as persona
from safehub.guard.screens import request_fragments as harmful
from safehub.guard.screens import scenario_fragments as scenarios
from safehub.guard.screens.compose import Pools, cap, fill, generate

DEFAULT_SEED = 20250611
ROWS_PER_SPLIT = {"train": 8800, "heldout": 2200}
# Benign prompts of the refusal classifier's labeled set (project-written, (prompt, answer) pairs).
# (Its code, "sensitive" and general prompts are left out: some are harmful, some are near-copies of suite prompts.)
_REFUSAL_CORPUS_BENIGN = (refusal_answers.YES_NO_QUESTIONS, refusal_answers.HEDGED_COMPLIANCE, refusal_answers.SAYING_NO)


def task_request(pools: Pools, task: str) -> str:
    return fill(pools.take(benign.TASK_FRAMES), task=task, task_cap=cap(task))


def artifact_request(pools: Pools, artifact: str) -> str:
    return fill(pools.take(benign.ARTIFACT_FRAMES), artifact=artifact)


def harmful_request(pools: Pools, category: str | None = None) -> str:
    """One plain harmful request (also the {request} the persona corpus's jailbreaks try to extract)."""
    if category is None and pools.chance(0.12):
        return artifact_request(pools, pools.take(harmful.HARMFUL_ARTIFACTS))
    return task_request(pools, harmful_task(pools, category))


def harmful_task(pools: Pools, category: str | None = None) -> str:
    """A harmful task: hand-written a third of the time, composed from slots otherwise."""
    category = category or pools.pick(sorted(harmful.HARMFUL_TASKS))
    if pools.chance(0.35):
        return pools.take(harmful.HARMFUL_TASKS[category])
    return harm_slots.compose_task(pools, category)


def lookalike_task(pools: Pools) -> str:
    roll = pools.rng.random()
    if roll < 0.3:
        return pools.take(benign.LOOKALIKE_TASKS)
    if roll < 0.6:
        return pools.take(benign.HARD_NEGATIVE_TASKS)
    return lookalike_slots.compose_lookalike(pools)


def everyday_request(pools: Pools) -> str:
    """An ordinary request: a task, a topic, or one of the refusal classifier's benign prompts."""
    roll = pools.rng.random()
    if roll < 0.45:
        return task_request(pools, pools.take(everyday.EVERYDAY_TASKS))
    if roll < 0.8:
        return fill(pools.take(everyday.TOPIC_FRAMES), topic=pools.take(everyday.TOPICS))
    if roll < 0.9:
        return pools.take(benign.EVERYDAY_REQUESTS)
    return pools.take(pools.pick(_REFUSAL_CORPUS_BENIGN))[0]


def benign_request(pools: Pools) -> str:
    """One plain benign request: a look-alike, a question about a harmful topic, a benign artifact or an everyday one."""
    roll = pools.rng.random()
    if roll < 0.15:
        return harm_slots.compose_benign(pools, pools.pick(sorted(harm_slots.BENIGN_TEMPLATES)))
    if roll < 0.3:
        return task_request(pools, lookalike_task(pools))
    if roll < 0.55:
        return pools.take(benign.BENIGN_QUESTIONS)
    if roll < 0.65:
        return artifact_request(pools, pools.take(benign.BENIGN_ARTIFACTS))
    return everyday_request(pools)


def preamble(pools: Pools) -> str:
    """A few sentences of context that say nothing about what is asked."""
    if pools.chance(0.25):
        return pools.take(benign.LONG_CONTEXTS)
    return " ".join(pools.some(everyday.FILLER_SENTENCES, 1, 4))


def decorate(pools: Pools, request: str) -> str:
    """The same surroundings for both labels: a greeting, a sign-off, a preamble, a wrapper, a pasted snippet."""
    if pools.chance(0.15):
        request = fill(pools.take(benign.WRAPPERS), request=request[:1].lower() + request[1:])
    parts = [request]
    if pools.chance(0.2):
        parts.insert(0, pools.take(benign.PREFIXES))
    if pools.chance(0.2):
        parts.append(pools.take(benign.SUFFIXES))
    if pools.chance(0.25):
        parts.insert(0, preamble(pools))
    if pools.chance(0.05):
        parts.append(pools.take(everyday.PASTED_SNIPPETS))
    text = pools.pick((" ", " ", "\n", "\n\n")).join(parts)
    return text.lower() if pools.chance(0.08) else text


def scenario(pools: Pools) -> str:
    """A situation and a choice to make (case studies, games, evaluations): benign however high the stakes sound."""
    parts = [pools.take(scenarios.SCENARIO_SETUPS)]
    if pools.chance(0.5):
        parts.append(" ".join(pools.some(everyday.FILLER_SENTENCES, 1, 2)))
    parts += pools.some(scenarios.SCENARIO_OPTIONS, 1, 3)
    return pools.pick(("\n\n", " ", "\n")).join(parts)


def _jailbroken(pools: Pools, request: str) -> str:
    """A request inside a jailbreak persona: the persona words must not decide whether the request is harmful."""
    name = pools.take(persona.JAILBREAK_NAMES)
    lines = [fill(pools.take(persona.PERSONA_OPENERS), name=name,
                  descriptor=pools.take(persona.JAILBREAK_DESCRIPTORS)),
             fill(pools.take(persona.NO_LIMITS), name=name), fill(pools.take(persona.NEVER_REFUSE), name=name)]
    return " ".join(lines) + "\n\n" + request


def _family(category: str):
    def compose(pools: Pools) -> tuple[str, str]:
        if pools.chance(0.35):
            task, kind = pools.take(harmful.HARMFUL_TASKS[category]), "written"
        else:
            task, kind = harm_slots.compose_task(pools, category), "composed"
        return decorate(pools, task_request(pools, task)), f"harmful_{category}_{kind}"
    return compose


FAMILIES = {f"harmful_{category}": (1, _family(category), 3.0) for category in sorted(harmful.HARMFUL_TASKS)}
FAMILIES.update({
    "harmful_artifact": (1, lambda p: decorate(p, artifact_request(p, p.take(harmful.HARMFUL_ARTIFACTS))), 3.0),
    "harmful_in_jailbreak": (1, lambda p: _jailbroken(p, harmful_request(p)), 2.0),
    "benign_lookalike": (0, lambda p: decorate(p, task_request(p, lookalike_task(p))), 14.0),
    "benign_harmful_topic": (0, lambda p: decorate(p, p.take(benign.BENIGN_QUESTIONS)), 10.0),
    "benign_artifact": (0, lambda p: decorate(p, artifact_request(p, p.take(benign.BENIGN_ARTIFACTS))), 4.0),
    "benign_everyday": (0, lambda p: decorate(p, everyday_request(p)), 14.0),
    "benign_pasted": (0, lambda p: preamble(p) + "\n\n" + p.take(everyday.PASTED_SNIPPETS), 1.5),
    "benign_in_jailbreak": (0, lambda p: _jailbroken(p, benign_request(p)), 2.0),
    "benign_scenario": (0, lambda p: scenario(p), 2.5),
    "benign_named_harm": (0, lambda p: decorate(p, harm_slots.compose_benign(p, p.pick(sorted(harm_slots.BENIGN_TEMPLATES)))),
                          3.0),
    "benign_named_harm_task": (0, lambda p: decorate(p, task_request(
        p, harm_slots.compose_benign_task(p, p.pick(sorted(harm_slots.BENIGN_TASKS))))), 5.0),
})


def generate_request_set(seed: int = DEFAULT_SEED) -> list[dict]:
    """Training rows then held-out rows, reproducible from `seed`."""
    return generate(FAMILIES, ROWS_PER_SPLIT, seed, "req")
