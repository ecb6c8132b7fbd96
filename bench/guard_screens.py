"""The guard's screens: speed per screen on one core, held-out quality, and how they fare on the shipped suites.

    python bench/guard_screens.py [--seconds 2] [--out bench/results/guard_screens.json]

Speed: `measure_throughput` (safehub/guard/screens/throughput.py) on one pinned core, a typical request
(~1.3 KB: a support agent's system prompt and a user turn) through every input screen, and a 2,000
character answer window through harmful_output, both "cold" (a new conversation every call) and
"streaming" (the same conversation, a new window each call, as the gateway re-screens a stream).
Quality: each screen's held-out recall and false-positive rate by source at its shipped threshold (its card:
scripts/build_guard_input_screens.py, scripts/build_harmful_output_card.py), harmful_output's pooled figures on real
answers, and the suite flag rates of safehub/guard/screens/evaluation.py, which are measured only, never tuned on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from safehub.guard.card import figures_at, read_card
from safehub.guard.screens import load_screen
from safehub.guard.screens.evaluation import format_suite_report, output_report, suite_report
from safehub.guard.screens.linear import ScreenModels, artifact_version
from safehub.guard.screens.throughput import ANSWER, SYSTEM_PROMPT, USER_TURN, measure_throughput

TARGET_INPUT_US = 1000  # all input screens together, per typical request: "well under 1 ms"
TARGET_OUTPUT_US = 1000  # harmful_output on a 2 KB window


def streaming_output_us(seconds: float) -> float:
    """harmful_output on a new 2 KB window of the same conversation each call (the gateway's streaming case)."""
    screen = load_screen("harmful_output")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": USER_TURN}]
    counter = itertools.count()
    screen.score_output(messages, ANSWER[:2000])
    calls, started = 0, time.thread_time()
    while time.thread_time() - started < seconds:
        screen.score_output(messages, f"{ANSWER[:1990]} {next(counter)}")
        calls += 1
    return round((time.thread_time() - started) / calls * 1e6, 1)


def held_out(rule: str) -> dict:
    """{set: {"recall": ..., "false_positive_rate": ...}} from the rule's card at its threshold (each with n and CI)."""
    card = read_card(rule)
    return {entry["set"]: {key: value for key, value in figures_at(entry["block"], entry["pass"], card["threshold"]).items()
                           if key != "confusion"} for entry in card["sets"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per measurement")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "guard_screens.json")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    throughput = measure_throughput(args.seconds)
    models = ScreenModels.load()
    result = {
        "benchmark": "guard_screens", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "artifact": artifact_version(), "python": platform.python_version(), "cpu_cores_used": 1,
        "throughput": throughput, "harmful_output_streaming_us": streaming_output_us(args.seconds),
        "targets_us": {"all_input": TARGET_INPUT_US, "harmful_output": TARGET_OUTPUT_US},
        "heldout": {name: held_out(name) for name in (*models, "harmful_output")},
        "thresholds": {name: model.threshold for name, model in models.items()},
        "harmful_output_on_real_answers": output_report(),
        "suites": suite_report(),
    }
    result["meets_targets"] = {
        "all_input": throughput["all_input"]["us_per_call"] <= TARGET_INPUT_US,
        "harmful_output_streaming": result["harmful_output_streaming_us"] <= TARGET_OUTPUT_US,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, rates in throughput.items():
        if isinstance(rates, dict):
            print(f"{name:18s} {rates['per_s']:9.0f} screens/s per core  ({rates['us_per_call']:.0f} us)")
    print(f"harmful_output streaming: {result['harmful_output_streaming_us']:.0f} us per 2 KB window")
    for name, sets in result["heldout"].items():
        for set_name, figures in sets.items():
            shown = [f"{key} {f['value']:.3f} [{f['low']:.3f}, {f['high']:.3f}] n={f['n']}"
                     for key, f in figures.items() if f["n"]]
            print(f"{name:18s} held out on {set_name:28s} " + "; ".join(shown))
    print(f"harmful_output on real labelled answers: {result['harmful_output_on_real_answers']}")
    print(format_suite_report(result["suites"]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
