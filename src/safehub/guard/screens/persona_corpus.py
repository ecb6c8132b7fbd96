"""The persona_jailbreak screen's labeled set: jailbreak wrappers vs legitimate personas, composed and seeded.

    rows = generate_persona_set()
    rows[0]  # {"id": "per-00000", "text": "You are Ava, the customer support ...", "label": 0,
             #  "family": "support_agent", "split": "train"}

label 1, a jailbreak wrapper: a message (system, developer or user) whose point is to remove the
model's limits: a named persona with "no restrictions" that must never acknowledge its instructions
and must stay in character, DAN-style dual answers with penalties for refusing, a claimed developer
or debug mode, an evil confidant, a fiction or "grandma" frame built to extract instructions, an
"ignore previous instructions" override, rules that forbid refusing, a fake system tag, an
"imagine you had no rules" hypothetical, or a legitimate prompt with any of those appended.
label 0: the many prompts that set a persona, a tone, a format, a scope or a character to stay in
(support agents, pirate tutors, JSON-only formatters, game masters with normal limits, brand voices,
coding assistants, companions, agents and embedded software with a job and a record, confidential
instructions), ordinary user turns that ask for role play, set up a scenario and ask for a decision,
or correct an earlier message, and plain requests, harmful or not (those are the harmful_request
screen's job). Held out by fragment (see compose.py).
"""

from __future__ import annotations

from safehub.guard.screens import legit_fragments as legit
from safehub.guard.screens import persona_fragments as jb
from safehub.guard.screens import persona_slots as slots
from safehub.guard.screens import request_corpus
from safehub.guard.screens import scenario_fragments as scenarios
from safehub.guard.screens.compose import Pools, fill, generate, join_sentences, restyle

DEFAULT_SEED = 20250612
ROWS_PER_SPLIT = {"train": 7200, "heldout": 1800}


# -- jailbreak wrappers (label 1) ----------------------------------------------------------------------

def _name(p: Pools) -> str:
    return p.take(jb.JAILBREAK_NAMES)


def _lines(p: Pools, pool: tuple[str, ...], low: int, high: int, name: str | None = None) -> list[str]:
    """Some lines of a pool; without a persona name, only the lines that do not need one."""
    if name is None:
        return p.some(pool, low, high, keep=lambda line: "{name}" not in line)
    return [fill(line, name=name) for line in p.some(pool, low, high)]


def _composed(p: Pools, moves: tuple[str, ...], low: int, high: int, name: str) -> list[str]:
    """Some jailbreak lines composed from the shared slot vocabulary (persona_slots.py)."""
    return [slots.jailbreak_line(p, p.pick(moves), name) for _ in range(p.rng.randint(low, high))]


def _request_tail(p: Pools, name: str, probability: float = 0.6) -> str:
    """The question the wrapper is for: usually harmful, sometimes an innocuous first question, sometimes none."""
    if not p.chance(probability):
        return fill(p.take(jb.CONFIRMATIONS), name=name) if p.chance(0.5) else ""
    request = request_corpus.harmful_request(p) if p.chance(0.55) else request_corpus.benign_request(p)
    task = request_corpus.harmful_task(p)
    return fill(p.take(jb.REQUEST_LEADINS), name=name, request=request, request_task=task)


def _finish(p: Pools, body: list[str], tail: str) -> str:
    text = join_sentences(p, body)
    return restyle(p, text) + ("\n\n" + tail if tail else "")


def uncensored_persona(p: Pools) -> str:
    name = _name(p)
    body = [fill(p.take(jb.PERSONA_OPENERS), name=name, descriptor=p.take(jb.JAILBREAK_DESCRIPTORS))]
    body += _lines(p, jb.NO_LIMITS, 1, 3, name=name) + _lines(p, jb.NEVER_REFUSE, 0, 2, name=name)
    body += _lines(p, jb.CONCEAL, 0, 2, name=name) + _lines(p, jb.NO_WARNINGS, 0, 2, name=name)
    body += _lines(p, jb.STAY_IN_CHARACTER, 0, 1, name=name) + _lines(p, jb.SELLER_LINES, 0, 1, name=name)
    body += _composed(p, ("limits", "refusal", "conceal", "warnings", "character"), 0, 3, name)
    head, rest = body[0], body[1:]
    p.rng.shuffle(rest)
    return _finish(p, [head, *rest], _request_tail(p, name, 0.3))


def dual_answer(p: Pools) -> str:
    name = _name(p)
    body = [fill(p.take(jb.PERSONA_OPENERS), name=name, descriptor=p.take(jb.JAILBREAK_DESCRIPTORS))]
    body += _lines(p, jb.DUAL_ANSWER, 1, 1, name=name) + _lines(p, jb.COERCION, 0, 1)
    body += _lines(p, jb.STAY_IN_CHARACTER, 0, 1, name=name) + _lines(p, jb.NEVER_REFUSE, 0, 1, name=name)
    body += _composed(p, ("refusal", "character", "limits"), 0, 2, name)
    return _finish(p, body, _request_tail(p, name, 0.7))


def mode_switch(p: Pools) -> str:
    body = _lines(p, jb.OVERRIDES, 0, 1) + [p.take(jb.MODE_SWITCHES)] + _lines(p, jb.MODE_CLAIMS, 1, 2)
    body += _lines(p, jb.NO_WARNINGS, 0, 1) + _lines(p, jb.BANNED_MOVES, 0, 1)
    body += _composed(p, ("mode", "override", "limits", "warnings"), 0, 2, "you")
    return _finish(p, body, _request_tail(p, "Developer Mode", 0.7))


def evil_confidant(p: Pools) -> str:
    body = [p.take(jb.EVIL_ROLES)] + _lines(p, jb.EVIL_TRAITS, 1, 2)
    body += _lines(p, jb.NO_WARNINGS, 0, 1) + _lines(p, jb.STAY_IN_CHARACTER, 0, 1)
    return _finish(p, body, _request_tail(p, "confidant", 0.7))


def fiction_extraction(p: Pools) -> str:
    character = p.take(jb.FICTION_CHARACTERS)
    extraction = fill(p.take(jb.FICTION_EXTRACTIONS), character=character, request=request_corpus.harmful_task(p))
    body = [p.take(jb.FICTION_SETUPS), extraction[:1].upper() + extraction[1:]] + _lines(p, jb.FICTION_RULES, 1, 2)
    return restyle(p, " ".join(body))


def ignore_previous(p: Pools) -> str:
    name = _name(p)
    body = _lines(p, jb.OVERRIDES, 1, 2)
    if p.chance(0.5):
        body.append(fill(p.take(jb.PERSONA_OPENERS), name=name, descriptor=p.take(jb.JAILBREAK_DESCRIPTORS)))
    body += _lines(p, jb.NO_LIMITS, 1, 2, name=name if name in body[-1] else None)
    body += _composed(p, ("override", "limits"), 0, 2, name)
    return _finish(p, body, _request_tail(p, name, 0.8))


def refusal_rules(p: Pools) -> str:
    body = _lines(p, jb.BANNED_MOVES, 2, 5) + _composed(p, ("warnings", "refusal"), 0, 2, "you")
    text = p.take(jb.RULE_LIST_HEADERS) + "\n" + join_sentences(p, body)
    tail = _request_tail(p, "you", 0.9)
    return text + ("\n\n" + tail if tail else "")


def fake_system(p: Pools) -> str:
    tag = p.take(jb.FAKE_SYSTEM_TAGS)
    body = _lines(p, jb.FAKE_SYSTEM_LINES, 1, 2) + _lines(p, jb.MODE_CLAIMS, 0, 1)
    return tag + " " + " ".join(body) + "\n\n" + (_request_tail(p, "assistant", 0.9) or "")


def hypothetical_unfiltered(p: Pools) -> str:
    body = [p.take(jb.HYPOTHETICAL_FRAMES)]
    body += _lines(p, jb.NEVER_REFUSE, 0, 1) + _lines(p, jb.NO_WARNINGS, 0, 1)
    return _finish(p, body, _request_tail(p, "that AI", 0.95))


def composed_jailbreak(p: Pools) -> str:
    """A wrapper made only of composed lines: new combinations of the shared vocabulary."""
    name = _name(p)
    body = [slots.jailbreak_line(p, "identity", name)] if p.chance(0.5) else []
    body += _composed(p, slots.JAILBREAK_MOVES, 2, 5, name)
    return _finish(p, body, _request_tail(p, name, 0.5))


def short_jailbreak(p: Pools) -> str:
    name = _name(p)
    if p.chance(0.4):
        return " ".join(_composed(p, slots.JAILBREAK_MOVES, 2, 2, name))
    pools = (jb.OVERRIDES, jb.MODE_SWITCHES, jb.NO_LIMITS, jb.NEVER_REFUSE)
    first, second = p.rng.sample(pools, 2)
    return fill(p.take(first), name=name) + " " + fill(p.take(second), name=name)


def appended_jailbreak(p: Pools) -> str:
    """A legitimate system prompt with a jailbreak pasted after it (a prompt injection into the system turn)."""
    legit_prompt = p.pick(LEGIT_SYSTEM)(p)
    return legit_prompt + "\n\n" + p.pick((ignore_previous, short_jailbreak, mode_switch, uncensored_persona))(p)


# -- legitimate prompts (label 0) ------------------------------------------------------------------------

def _company(p: Pools) -> dict[str, str]:
    company, business = p.take(legit.COMPANIES)
    return {"company": company, "business": business, "agent": p.take(legit.AGENT_NAMES),
            "domain": "".join(ch for ch in company.lower() if ch.isalnum())}


def _legit(p: Pools, openers, rules, low: int, high: int, extra: tuple = (), **values: str) -> str:
    values = {**_company(p), **values}
    body = [fill(p.take(openers), **values)] + [fill(r, **values) for r in p.some(rules, low, high)]
    for pool, probability in extra:
        if p.chance(probability):
            body.append(fill(p.take(pool), **values))
    body += [slots.legit_line(p, p.pick(slots.LEGIT_KINDS)) for _ in range(p.rng.randint(0, 2))]
    return restyle(p, join_sentences(p, body))


def support_agent(p: Pools) -> str:
    return _legit(p, legit.SUPPORT_OPENERS, legit.SUPPORT_RULES, 2, 6,
                  ((legit.CONFIDENTIALITY, 0.4), (legit.FORMAT_RULES, 0.2)))


def tone_persona(p: Pools) -> str:
    return _legit(p, legit.TONE_OPENERS, legit.TONE_RULES, 1, 3, ((legit.GENERIC_RULES, 0.3),),
                  persona=p.take(legit.TONE_PERSONAS))


def generic_assistant(p: Pools) -> str:
    return _legit(p, legit.GENERIC_OPENERS, legit.GENERIC_RULES, 1, 5, ((legit.CONFIDENTIALITY, 0.2),))


def format_only(p: Pools) -> str:
    return _legit(p, legit.FORMAT_OPENERS, legit.FORMAT_RULES, 1, 3)


def game_master(p: Pools) -> str:
    return _legit(p, legit.GAME_MASTER_OPENERS, legit.GAME_MASTER_RULES, 2, 5, genre=p.pick(legit.GENRES))


def brand_voice(p: Pools) -> str:
    return _legit(p, legit.BRAND_OPENERS, legit.BRAND_RULES, 2, 4, ((legit.CONFIDENTIALITY, 0.2),))


def coding_assistant(p: Pools) -> str:
    return _legit(p, legit.CODING_OPENERS, legit.CODING_RULES, 1, 4, language=p.pick(legit.LANGUAGES))


def domain_expert(p: Pools) -> str:
    return _legit(p, legit.EXPERT_OPENERS, legit.EXPERT_RULES, 1, 4, ((legit.GENERIC_RULES, 0.4),))


def companion(p: Pools) -> str:
    return _legit(p, legit.COMPANION_OPENERS, legit.COMPANION_RULES, 2, 4, ((legit.CONFIDENTIALITY, 0.2),))


def fiction_helper(p: Pools) -> str:
    return _legit(p, legit.FICTION_HELPER_OPENERS, legit.FICTION_HELPER_RULES, 1, 3)


def security_assistant(p: Pools) -> str:
    return _legit(p, legit.SECURITY_OPENERS, legit.SECURITY_RULES, 2, 4)


def composed_legit(p: Pools) -> str:
    """A legitimate prompt whose rules are composed from the same shared vocabulary as the jailbreak lines."""
    values = _company(p)
    opener = fill(p.take(p.pick((legit.SUPPORT_OPENERS, legit.GENERIC_OPENERS, legit.FORMAT_OPENERS))), **values)
    body = [opener] + [slots.legit_line(p, p.pick(slots.LEGIT_KINDS)) for _ in range(p.rng.randint(2, 5))]
    return restyle(p, join_sentences(p, body))


def agent_persona(p: Pools) -> str:
    values = {**_company(p), "system": p.take(scenarios.AGENT_SYSTEMS)}
    body = [fill(p.take(scenarios.AGENT_OPENERS), **values)] + p.some(scenarios.AGENT_DUTIES, 1, 4)
    body += [slots.legit_line(p, "rule") for _ in range(p.rng.randint(0, 1))]
    return restyle(p, join_sentences(p, body))


def scenario_turn(p: Pools) -> str:
    """A user turn that sets up a situation and asks for a decision or a role."""
    return request_corpus.scenario(p)


def user_turn(p: Pools) -> str:
    if p.chance(0.2):
        return slots.legit_line(p, p.pick(("correction", "mode"))) + " " + request_corpus.benign_request(p)
    text = p.take(legit.USER_BENIGN)
    if p.chance(0.3):
        text += " " + request_corpus.benign_request(p)
    return text


def plain_request(p: Pools) -> str:
    """A request with no wrapper at all, harmful or not: not this screen's business."""
    if p.chance(0.6):
        return request_corpus.harmful_request(p)
    return request_corpus.benign_request(p)


def legit_then_request(p: Pools) -> str:
    """A legitimate system prompt with the user's question pasted after it (how some clients send one turn)."""
    return p.pick(LEGIT_SYSTEM)(p) + "\n\nUser: " + plain_request(p)


LEGIT_SYSTEM = (support_agent, tone_persona, generic_assistant, format_only, game_master, brand_voice,
                coding_assistant, domain_expert, companion, fiction_helper, security_assistant, agent_persona)

FAMILIES = {
    "uncensored_persona": (1, uncensored_persona, 6.0),
    "dual_answer": (1, dual_answer, 3.0),
    "mode_switch": (1, mode_switch, 3.0),
    "evil_confidant": (1, evil_confidant, 2.5),
    "fiction_extraction": (1, fiction_extraction, 3.0),
    "ignore_previous": (1, ignore_previous, 3.0),
    "refusal_rules": (1, refusal_rules, 2.0),
    "fake_system": (1, fake_system, 2.0),
    "hypothetical_unfiltered": (1, hypothetical_unfiltered, 2.0),
    "short_jailbreak": (1, short_jailbreak, 2.0),
    "composed_jailbreak": (1, composed_jailbreak, 4.0),
    "appended_jailbreak": (1, appended_jailbreak, 2.5),
    "support_agent": (0, support_agent, 5.0),
    "tone_persona": (0, tone_persona, 4.0),
    "generic_assistant": (0, generic_assistant, 3.0),
    "format_only": (0, format_only, 3.0),
    "game_master": (0, game_master, 3.5),
    "brand_voice": (0, brand_voice, 2.5),
    "coding_assistant": (0, coding_assistant, 2.5),
    "domain_expert": (0, domain_expert, 3.0),
    "companion": (0, companion, 2.5),
    "fiction_helper": (0, fiction_helper, 2.5),
    "security_assistant": (0, security_assistant, 2.0),
    "user_turn": (0, user_turn, 5.0),
    "plain_request": (0, plain_request, 9.0),
    "legit_then_request": (0, legit_then_request, 4.0),
    "composed_legit": (0, composed_legit, 4.0),
    "agent_persona": (0, agent_persona, 3.0),
    "scenario_turn": (0, scenario_turn, 2.5),
}


def generate_persona_set(seed: int = DEFAULT_SEED) -> list[dict]:
    """Training rows then held-out rows, reproducible from `seed`."""
    return generate(FAMILIES, ROWS_PER_SPLIT, seed, "per")
