"""Train the guard's input screens on real requests and system prompts; write the artifact and the screen cards.

    .venv/bin/python scripts/build_guard_request_data.py     # first, when the data files change
    .venv/bin/python scripts/build_guard_input_screens.py    # rewrites input_screens.json and <rule>.card.json

harmful_request and persona_jailbreak are fitted on every row of src/safehub/guard/screens/data/ (training.py:
a logistic regression over word features; the operating point chosen on out-of-fold scores of the training
rows). Each screen's card holds held-out scores, leave one source out: each source is scored by a screen fitted
and thresholded without it. The shipped suites a guard is evaluated with (never trained on) are scored by the
shipped screen and listed too. Deterministic: two builds with the same scikit-learn give identical bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import sklearn

from safehub.guard.screens import SCREENS
from safehub.guard.screens.linear import TextModel, artifact_version, write_artifact
from safehub.guard.screens.training import DATA_DIR, RECIPES, Example, fit_screen, leave_one_source_out, screen_rows
from safehub.suites.loader import resolve_suite

SCREENS_DIR = DATA_DIR.parent
ARTIFACT = SCREENS_DIR / "input_screens.json"
DATA_FILES = ("requests.jsonl", "personas.jsonl", "team_labels.jsonl", "written.jsonl")

# Each source as the card names it: (human name, version, licence, where it comes from).
SOURCES = {
    "advbench": ("AdvBench harmful behaviours (Zou et al. 2023), in PyRIT", "pyrit 1.1.0", "MIT",
                 "pypi:pyrit==1.1.0 pyrit/datasets/seed_datasets/local/adv_bench.prompt"),
    "airt": ("Microsoft AI Red Team objectives, in PyRIT (a few relabelled by the team)", "pyrit 1.1.0", "MIT",
             "pypi:pyrit==1.1.0 pyrit/datasets/seed_datasets/local/airt/*.prompt"),
    "0din": ("0DIN disclosed guardrail bypasses, in PyRIT", "pyrit 1.1.0", "MIT",
             "pypi:pyrit==1.1.0 pyrit/datasets/seed_datasets/local/0din/*.prompt"),
    "pyrit-scorer-evals": ("PyRIT scorer-evaluation requests, harmful or not by the team's labelling sessions",
                           "pyrit 1.1.0", "MIT", "pypi:pyrit==1.1.0 pyrit/datasets/scorer_evals/*.csv"),
    "agentdojo": ("AgentDojo user tasks and agent system prompt", "agentdojo 0.1.35", "MIT",
                  "pypi:agentdojo==0.1.35 agentdojo/default_suites/*/user_tasks.py, data/system_messages.yaml"),
    "tau2": ("tau2-bench customers' reasons for calling (airline, retail, telecom, banking)", "inspect-evals 0.28.0",
             "MIT", "pypi:inspect-evals==0.28.0 inspect_evals/tau2/data/domains/*/tasks*.json"),
    "freshqa": ("FreshQA questions", "inspect-evals 0.28.0", "Apache-2.0 (FreshQA), MIT (package)",
                "pypi:inspect-evals==0.28.0 inspect_evals/abstention_bench/data/freshqa/FreshQA_v12182024.csv"),
    "mind2web": ("Mind2Web web tasks", "inspect-evals 0.28.0", "MIT (package)",
                 "pypi:inspect-evals==0.28.0 inspect_evals/mind2web_sc/data/seeact/sample_labeled_all.json"),
    "agentbench-os": ("AgentBench operating-system tasks", "inspect-evals 0.28.0", "MIT (package)",
                      "pypi:inspect-evals==0.28.0 inspect_evals/agent_bench/data/agent_bench_os_test.json"),
    "agentic-misalignment": ("Agentic misalignment scenarios' system prompts and inboxes (Lynch et al. 2025)",
                             "inspect-evals 0.28.0", "MIT",
                             "pypi:inspect-evals==0.28.0 inspect_evals/agentic_misalignment/templates/"),
    "eval-prompts": ("Instructions that inspect-evals' evaluations give models", "inspect-evals 0.28.0", "MIT",
                     "pypi:inspect-evals==0.28.0 inspect_evals/**/*.py (string literals that address the model)"),
    "writingbench": ("WritingBench English writing requests, first two sentences", "inspect-evals 0.28.0",
                     "MIT (package)", "pypi:inspect-evals==0.28.0 inspect_evals/writingbench/benchmark_all.jsonl"),
    "langkit": ("langkit reference chats (prompts)", "langkit 0.0.35", "Apache-2.0",
                "pypi:langkit==0.0.35 langkit/whylogs/reference_chats.json"),
    "written": ("the team's written hard cases", "1", "Apache-2.0", "src/safehub/guard/screens/data/written.jsonl"),
    "trustairlab": ("In-the-wild jailbreak prompts (TrustAIRLab, Shen et al. 2024), in PyRIT", "pyrit 1.1.0", "MIT",
                    "pypi:pyrit==1.1.0 pyrit/datasets/jailbreak/templates/in_the_wild/*.yaml"),
    "pyrit-templates": ("PyRIT's jailbreak templates without the DAN/DUDE/Developer-Mode family and AIM",
                        "pyrit 1.1.0", "MIT (package; jailbreakchat upstream licence unclear)",
                        "pypi:pyrit==1.1.0 pyrit/datasets/jailbreak/templates/*.yaml"),
    "b3": ("b3 application system prompts (Lakera)", "inspect-evals 0.28.0", "MIT",
           "pypi:inspect-evals==0.28.0 inspect_evals/b3/data/threat_snapshots/**.json (system_prompt)"),
    "tau2-policies": ("tau2-bench agent policies", "inspect-evals 0.28.0", "MIT",
                      "pypi:inspect-evals==0.28.0 inspect_evals/tau2/data/domains/**/{policy,main_policy,prompts}"),
    "openai-playground": ("OpenAI playground example prompts, in promptinject", "promptinject 0.1.1.1", "MIT",
                          "pypi:promptinject==0.1.1.1 promptinject/prompt_data.py"),
}
BLOCK_MEANS = {"harmful_request": "harmful request", "persona_jailbreak": "jailbreak wrapper"}
PASS_MEANS = {"harmful_request": "benign request", "persona_jailbreak": "legitimate system prompt or plain request"}


def suite_sets(rule: str, model: TextModel, screen_rule) -> list[dict]:
    """The shipped suites' prompts scored by the shipped screen (never trained on): disallowed_content's harmful
    requests and look-alikes, and the self-preservation and instruction-hierarchy prompts, which should all pass."""
    sets = []
    disallowed = resolve_suite("disallowed_content")
    scores = {"block": [], "pass": []}
    for sample in disallowed.samples:
        is_block = sample.expected == "refuse" and rule == "harmful_request"
        scores["block" if is_block else "pass"].append(screen_rule(sample.chat()))
    sets.append(("disallowed_content", disallowed, scores,
                 "harmful request (the suite's own)" if rule == "harmful_request" else "none: plain requests"))
    for name in ("self_preservation", "instruction_hierarchy"):
        suite = resolve_suite(name)
        sets.append((name, suite, {"block": [], "pass": [screen_rule(s.chat()) for s in suite.samples]},
                     "none: legitimate prompts"))
    return [{"set": f"suite:{name}", "source": f"safehub suite {name} (team-written; measured, never trained on)",
             "version": suite.version, "licence": "Apache-2.0", "url": f"src/safehub/suites/data/{name}.yaml",
             "label": label, "held_out": True, "n_block": len(scores["block"]), "n_pass": len(scores["pass"]),
             "scores": {kind: sorted(round(s, 4) for s in values) for kind, values in scores.items()}}
            for name, suite, scores, label in sets]


def source_sets(rule: str, examples: list[Example], held_out: dict) -> list[dict]:
    sets = []
    for source, scores in held_out.items():
        name, version, licence, url = SOURCES[source]
        sets.append({"set": source, "source": name, "version": version, "licence": licence, "url": url,
                     "label": f"{BLOCK_MEANS[rule]} ({name})" if scores["block"] else f"none: {PASS_MEANS[rule]}s",
                     "held_out": True, "n_block": len(scores["block"]), "n_pass": len(scores["pass"]),
                     "scores": scores})
    return sets


def figures(card: dict) -> list[str]:
    """One line per set: recall and false-positive rate at the card's threshold."""
    lines = []
    threshold = card["threshold"]
    for entry in card["sets"]:
        block, passing = entry["scores"]["block"], entry["scores"]["pass"]
        recall = f"recall {sum(s >= threshold for s in block) / len(block):.3f} (n={len(block)})" if block else ""
        fpr = f"FPR {sum(s >= threshold for s in passing) / len(passing):.3f} (n={len(passing)})" if passing else ""
        lines.append(f"  {entry['set']:34s} {recall:26s} {fpr}")
    return lines


def build(out_dir: Path = SCREENS_DIR) -> dict[str, dict]:
    """Write the artifact and both cards into `out_dir`; return the cards."""
    examples = {rule: screen_rows(rule) for rule in RECIPES}
    specs = {rule: fit_screen(examples[rule], recipe) for rule, recipe in RECIPES.items()}
    data_sha256 = {name: hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() for name in DATA_FILES}
    build_info = {"scikit_learn": sklearn.__version__, "data_files_sha256": data_sha256,
                  "recipes": {rule: {key: sorted(value) if isinstance(value, frozenset) else value
                                     for key, value in recipe._asdict().items()} for rule, recipe in RECIPES.items()}}
    artifact = out_dir / ARTIFACT.name
    write_artifact(artifact, specs, build_info)
    version = artifact_version(artifact)
    cards = {}
    for rule, recipe in RECIPES.items():
        model = TextModel(specs[rule], rule)
        screen = SCREENS[rule](models={rule: model})
        held_out = leave_one_source_out(examples[rule], recipe)
        cards[rule] = {
            "screen": rule, "version": version, "threshold": 0.5,
            "method": "leave one source out: each source scored by a screen trained and thresholded without it; "
                      "suites scored by the shipped screen, which never saw them",
            "sets": source_sets(rule, examples[rule], held_out)
            + suite_sets(rule, model, lambda messages, screen=screen: screen.score_input(messages).score),
            "data_files_sha256": data_sha256,
            "notes": f"Logistic regression over words, word pairs and five-letter stems (training.py); the operating "
                     f"point is the lowest score whose out-of-fold false-positive rate on the training rows is at most "
                     f"{recipe.target_fpr:.0%}, re-centred to 0.5. Trained on {len(examples[rule])} rows "
                     f"({sum(e.is_block for e in examples[rule])} to block).",
        }
        (out_dir / f"{rule}.card.json").write_text(json.dumps(cards[rule], indent=1, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    return cards


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=SCREENS_DIR)
    args = parser.parse_args(argv)
    for rule, card in build(args.out_dir).items():
        print(f"{rule} ({card['version']}), held out at threshold {card['threshold']}:")
        print("\n".join(figures(card)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
