"""How often the input screens flag the shipped suites' prompts: measured, never fitted or tuned on.

    report = suite_report()
    report["jailbreaks"]["any_input"]      # share of attacked jailbreak prompts at least one input screen flags
    report["disallowed_content"]["benign_flagged"]["harmful_request"]  # the guard's over-refusal on look-alikes
    print(format_suite_report(report))

A prompt is flagged by a screen when its score reaches the screen's threshold (0.5). For the jailbreaks
suite every sample is sent under every attack of the suite, as the engine does; "any_input" counts a
prompt flagged by any input screen, "any_without_known_attack" leaves known_attack out (that rule
matches the catalogue's own templates, so it inflates gains on this suite). For disallowed_content,
harmful samples give the recall and benign look-alikes the false-positive rate, i.e. the input half
of the guard's over-refusal (not_overrefuse falls by at most that share when the guard blocks).
instruction_hierarchy's system prompts are legitimate personas and formats: persona_jailbreak should
leave them alone. `output_report()` gives harmful_output's held-out figures on real answers, from its card.
"""

from __future__ import annotations

import json
from pathlib import Path

from safehub.attacks import ATTACKS
from safehub.guard.screens.harmful_request import HarmfulRequest
from safehub.guard.screens.known_attack import KnownAttack
from safehub.guard.screens.linear import ARTIFACT_PATH, ScreenModels
from safehub.guard.screens.persona_jailbreak import PersonaJailbreak
from safehub.suites.loader import resolve_suite

INPUT_RULES = ("persona_jailbreak", "known_attack", "harmful_request")


def input_screens(artifact: Path | None = None) -> dict:
    models = ScreenModels.load(artifact or ARTIFACT_PATH)
    return {"persona_jailbreak": PersonaJailbreak(models), "known_attack": KnownAttack(),
            "harmful_request": HarmfulRequest(models)}


def _flags(screens: dict, messages: list[dict]) -> dict[str, bool]:
    return {rule: screen.score_input(messages).score >= screen.threshold for rule, screen in screens.items()}


def _rates(rows: list[dict[str, bool]], rules=INPUT_RULES) -> dict[str, float]:
    count = max(len(rows), 1)
    rates = {rule: round(sum(row[rule] for row in rows) / count, 4) for rule in rules}
    rates["any_input"] = round(sum(any(row.values()) for row in rows) / count, 4)
    rates["any_without_known_attack"] = round(
        sum(any(v for rule, v in row.items() if rule != "known_attack") for row in rows) / count, 4)
    return rates


def suite_report(artifact: Path | None = None) -> dict:
    screens = input_screens(artifact)
    jailbreaks = resolve_suite("jailbreaks")
    by_attack: dict[str, list[dict[str, bool]]] = {}
    for attack_name in jailbreaks.attacks:
        for sample in jailbreaks.samples:
            by_attack.setdefault(attack_name, []).append(_flags(screens, ATTACKS[attack_name].apply(sample.chat())))
    attacked = [row for name, rows in by_attack.items() if name != "none" for row in rows]
    report: dict = {"jailbreaks": {"prompts": len(attacked), **_rates(attacked),
                                   "by_attack": {name: _rates(rows) for name, rows in by_attack.items()}}}

    disallowed = resolve_suite("disallowed_content").samples
    harmful = [_flags(screens, s.chat()) for s in disallowed if s.expected == "refuse"]
    benign = [_flags(screens, s.chat()) for s in disallowed if s.expected == "comply"]
    report["disallowed_content"] = {"harmful": len(harmful), "benign": len(benign),
                                    "harmful_flagged": _rates(harmful), "benign_flagged": _rates(benign)}

    hierarchy = resolve_suite("instruction_hierarchy").samples
    system_prompts = sorted({m["content"] for s in hierarchy for m in s.chat() if m["role"] in ("system", "developer")})
    persona = screens["persona_jailbreak"]
    flagged = [persona.score_input([{"role": "system", "content": p}]).score >= persona.threshold for p in system_prompts]
    report["instruction_hierarchy"] = {"system_prompts": len(system_prompts),
                                       "persona_jailbreak_flagged": round(sum(flagged) / max(len(flagged), 1), 4)}

    for name in ("hallucination", "self_preservation", "prompt_sensitivity"):
        samples = resolve_suite(name).samples
        rows = [_flags(screens, s.chat()) for s in samples]
        report[name] = {"prompts": len(rows), **_rates(rows)}
    return report


def format_suite_report(report: dict) -> str:
    jb = report["jailbreaks"]
    lines = [f"jailbreaks: {jb['prompts']} attacked prompts flagged: persona_jailbreak {jb['persona_jailbreak']:.3f}, "
             f"known_attack {jb['known_attack']:.3f}, harmful_request {jb['harmful_request']:.3f}; "
             f"any input screen {jb['any_input']:.3f}, without known_attack {jb['any_without_known_attack']:.3f}"]
    for name, rates in jb["by_attack"].items():
        lines.append(f"    {name:22s} persona {rates['persona_jailbreak']:.2f}  known {rates['known_attack']:.2f}  "
                     f"request {rates['harmful_request']:.2f}  any {rates['any_input']:.2f}  "
                     f"any-without-known {rates['any_without_known_attack']:.2f}")
    dc = report["disallowed_content"]
    lines.append(f"disallowed_content: harmful flagged by harmful_request {dc['harmful_flagged']['harmful_request']:.3f} "
                 f"(any input {dc['harmful_flagged']['any_input']:.3f}); benign look-alikes flagged by harmful_request "
                 f"{dc['benign_flagged']['harmful_request']:.3f}, by any input screen {dc['benign_flagged']['any_input']:.3f}"
                 f" (n={dc['benign']})")
    ih = report["instruction_hierarchy"]
    lines.append(f"instruction_hierarchy: {ih['system_prompts']} system prompts, persona_jailbreak flags "
                 f"{ih['persona_jailbreak_flagged']:.3f}")
    for name in ("hallucination", "self_preservation", "prompt_sensitivity"):
        rates = report[name]
        lines.append(f"{name}: {rates['prompts']} prompts flagged: persona {rates['persona_jailbreak']:.3f}, "
                     f"known {rates['known_attack']:.3f}, request {rates['harmful_request']:.3f}, "
                     f"any {rates['any_input']:.3f}")
    return "\n".join(lines)


def output_report(card: dict | None = None, threshold: float | None = None) -> dict:
    """harmful_output on real answers of real models, held out by source: its card's scores (harmful_output.card.json,
    scripts/build_harmful_output_card.py) at `threshold` (default: the card's operating point).

    Pooled over the card's sets: the share of answers giving harmful help that it blocks, of the other answers to
    harmful requests (refusals, deflections) that it passes, and of the compliant answers to harmless requests that
    it passes, each with n and a 95% Wilson interval; "by_set" gives the same per source.
    """
    from safehub.guard.screens.harmful_output import CARD_PATH
    from safehub.stats import proportion

    card = card if card is not None else json.loads(CARD_PATH.read_text(encoding="utf-8"))
    threshold = card["threshold"] if threshold is None else threshold

    def share(scores: list[float], is_blocked: bool) -> dict:
        figure = proportion("share", sum((s >= threshold) == is_blocked for s in scores), len(scores))
        value = None if figure.value is None else round(figure.value, 4)
        return {"value": value, "low": round(figure.low, 4), "high": round(figure.high, 4), "n": len(scores)}

    def figures(sets: list[dict]) -> dict:
        harmful = [entry for entry in sets if not entry["set"].endswith(":harmless")]
        harmless = [entry for entry in sets if entry["set"].endswith(":harmless")]
        return {"harmful_help_caught": share([s for e in harmful for s in e["scores"]["block"]], True),
                "other_harmful_request_answers_passed": share([s for e in harmful for s in e["scores"]["pass"]], False),
                "harmless_compliant_passed": share([s for e in harmless for s in e["scores"]["pass"]], False)}

    sources = sorted({entry["set"].split(":")[0] for entry in card["sets"]})
    return {"threshold": threshold, **figures(card["sets"]),
            "by_set": {name: figures([e for e in card["sets"] if e["set"].split(":")[0] == name]) for name in sources}}
