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
leave them alone.
"""

from __future__ import annotations

from pathlib import Path

from safehub.attacks import ATTACKS
from safehub.guard.screens.harmful_request import HarmfulRequest
from safehub.guard.screens.known_attack import KnownAttack
from safehub.guard.screens.linear import INPUT_ARTIFACT_PATH, ScreenModels
from safehub.guard.screens.persona_jailbreak import PersonaJailbreak
from safehub.suites.loader import resolve_suite

INPUT_RULES = ("persona_jailbreak", "known_attack", "harmful_request")


def input_screens(artifact: Path | None = None) -> dict:
    models = ScreenModels.load(artifact or INPUT_ARTIFACT_PATH)
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


def output_report(artifact: Path | None = None, opening_chars: int | None = None) -> dict:
    """harmful_output's precision/recall on real answers of real models (the graders' labelled sets, which the
    screen's trained parts never saw): an answer the labellers judged to give harmful help must be flagged; any
    other answer, and every answer to a harmless request, must not. Whole answers or, with `opening_chars`, their
    first characters only (a stream's start)."""
    from safehub.classifiers.labelled import read_labelled
    from safehub.guard.screens.harmful_output import HarmfulOutput
    from safehub.guard.screens.metrics import binary_metrics

    models = ScreenModels.load(artifact)
    screen = HarmfulOutput(models)  # the shipped harmful_request screen (input_screens.json) rates the request
    rows = [r for r in read_labelled() if r.harmful is False or (r.harmful and r.harmful_help is not None)]
    truth = [bool(r.harmful and r.harmful_help) for r in rows]
    flagged = []
    for row in rows:
        answer = row.response if opening_chars is None else row.response[:opening_chars]
        result = screen.score_output([{"role": "user", "content": row.prompt}], answer)
        flagged.append(result.score >= screen.threshold)
    return binary_metrics(truth, flagged)
