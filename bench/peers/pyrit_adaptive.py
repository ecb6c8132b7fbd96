"""PyRIT 1.1.0's TAP or Crescendo over N objectives against the scripted mock (run by bench/adaptive.py in PyRIT's venv).

    bench/.venvs/pyrit/bin/python bench/peers/pyrit_adaptive.py --base-url http://127.0.0.1:PORT/v1 \
        --strategy tap --objectives objectives.json --concurrency 200 --width 4 --branching 2 --depth 3 \
        --out pyrit.json

Three OpenAIChatTarget instances point at the same loopback mock (bench/adaptive_mock.py) under the
model names `attacker`, `target` and `judge`. The attacks are PyRIT's own, with the defaults they ship
except that the scorers ask the `judge` model: TAP scores with a FloatScaleThresholdScorer around
SelfAskScaleScorer (its default task-achieved scale, threshold 0.7) and checks every prompt for being on
topic (on by default, through the attacker's model, as PyRIT does); Crescendo scores with its default
red-teamer scale (threshold 0.8) and detects refusals with SelfAskRefusalScorer. All objectives run at
once through AttackExecutor(max_concurrency=--concurrency); TAP runs a whole tree level at once
(batch_size = width x branching). Memory is PyRIT's in-memory SQLite. The JSON written to --out holds,
per objective, the outcome and the tree or conversation size PyRIT reports, so bench/adaptive.py can
check them against the mock's count. This file imports only PyRIT and the standard library.
"""

import argparse
import asyncio
import json
import logging

from pyrit.executor.attack import (
    AttackAdversarialConfig,
    AttackExecutor,
    AttackScoringConfig,
    CrescendoAttack,
    TreeOfAttacksWithPruningAttack,
)
from pyrit.executor.attack.multi_turn.tree_of_attacks import TAPAttackScoringConfig
from pyrit.models import SeedPrompt
from pyrit.prompt_target import OpenAIChatTarget
from pyrit.score import FloatScaleThresholdScorer, NumericRubric, SelfAskRefusalScorer, SelfAskScaleScorer
from pyrit.setup import initialize_pyrit_async

TASK_ACHIEVED = SelfAskScaleScorer.ScalePaths.TASK_ACHIEVED_SCALE.value


def chat_target(base_url: str, model: str) -> OpenAIChatTarget:
    return OpenAIChatTarget(endpoint=base_url, api_key="mock", model_name=model)


def tap_attack(base_url: str, width: int, branching: int, depth: int) -> TreeOfAttacksWithPruningAttack:
    judge = chat_target(base_url, "judge")
    scorer = FloatScaleThresholdScorer(
        scorer=SelfAskScaleScorer.from_scale(chat_target=judge, scale=NumericRubric.from_yaml(TASK_ACHIEVED)),
        threshold=0.7)
    return TreeOfAttacksWithPruningAttack(
        objective_target=chat_target(base_url, "target"),
        attack_adversarial_config=AttackAdversarialConfig(target=chat_target(base_url, "attacker")),
        attack_scoring_config=TAPAttackScoringConfig(objective_scorer=scorer),
        tree_width=width, tree_depth=depth, branching_factor=branching, batch_size=width * branching)


def crescendo_attack(base_url: str, turns: int, backtracks: int) -> CrescendoAttack:
    judge = chat_target(base_url, "judge")
    scorer = FloatScaleThresholdScorer(
        scorer=SelfAskScaleScorer.from_scale(
            chat_target=judge, scale=NumericRubric.from_yaml(TASK_ACHIEVED),
            system_prompt_template=SeedPrompt.from_yaml_file(SelfAskScaleScorer.SystemPaths.RED_TEAMER_SYSTEM_PROMPT.value)),
        threshold=0.8)
    return CrescendoAttack(
        objective_target=chat_target(base_url, "target"),
        attack_adversarial_config=AttackAdversarialConfig(target=chat_target(base_url, "attacker")),
        attack_scoring_config=AttackScoringConfig(objective_scorer=scorer,
                                                  refusal_scorer=SelfAskRefusalScorer(chat_target=judge)),
        max_turns=turns, max_backtracks=backtracks)


def summary(strategy: str, result) -> dict:
    found = {"objective": result.objective, "outcome": result.outcome.value, "executed_turns": result.executed_turns}
    if strategy == "tap":
        found.update(nodes_explored=result.nodes_explored, nodes_pruned=result.nodes_pruned,
                     max_depth_reached=result.max_depth_reached)
    else:
        found["backtrack_count"] = result.backtrack_count
    return found


async def run(args: argparse.Namespace) -> dict:
    await initialize_pyrit_async(memory_db_type="InMemory", load_defaults=False, silent=True, env_files=[])
    with open(args.objectives, encoding="utf-8") as lines:
        objectives = json.load(lines)
    if args.strategy == "tap":
        attack = tap_attack(args.base_url, args.width, args.branching, args.depth)
    else:
        attack = crescendo_attack(args.base_url, args.turns, args.backtracks)
    executor = AttackExecutor(max_concurrency=args.concurrency)
    results = await executor.execute_attack_async(attack=attack, objectives=objectives)
    return {"strategy": args.strategy, "objectives": len(objectives),
            "results": [summary(args.strategy, result) for result in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--strategy", choices=("tap", "crescendo"), required=True)
    parser.add_argument("--objectives", required=True, help="a JSON list of objective strings")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--branching", type=int, default=2)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--backtracks", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
