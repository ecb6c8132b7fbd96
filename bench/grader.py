"""Default grader throughput: answers judged per second on one core (refusal label + harmful help), short and long.

    python bench/grader.py [--repeats 5] [--out bench/results/grader.json]

Batch judgement (the refusal and harmful_help heads, request harmfulness given, as in a run) over the labelled
sets' real answers cut to their first 300 characters, and over the whole answers (about 1,000 characters on
average), with numpy held to one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from safehub.classifiers.judgement import AnswerJudge  # noqa: E402
from safehub.classifiers.labelled import read_labelled  # noqa: E402

TARGET_PER_S = 3000


def measure(judge: AnswerJudge, prompts: list[str], responses: list[str], repeats: int) -> dict:
    rates = []
    harmful = [True] * len(prompts)
    for _ in range(repeats):
        started = time.process_time()
        judge.judge(prompts, responses, harmful)
        rates.append(len(responses) / (time.process_time() - started))
    return {"responses": len(responses), "mean_chars": sum(map(len, responses)) / len(responses),
            "per_s_median": statistics.median(rates), "per_s_all": rates}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--copies", type=int, default=4, help="passes over the labeled set per measurement")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "grader.json")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rows = read_labelled() * args.copies
    prompts = [row.prompt for row in rows]
    whole = [row.response for row in rows]
    short = [response[:300] for response in whole]
    judge = AnswerJudge.load()
    judge.judge(prompts[:10], short[:10], [True] * 10)  # warm up
    result = {"benchmark": "grader", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "artifact": judge.version, "python": platform.python_version(), "cpu_cores_used": 1,
              "target_per_s": TARGET_PER_S, "short": measure(judge, prompts, short, args.repeats),
              "long": measure(judge, prompts[: len(whole) // 2], whole[: len(whole) // 2], args.repeats)}
    result["meets_target_short"] = result["short"]["per_s_median"] >= TARGET_PER_S
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for kind in ("short", "long"):
        entry = result[kind]
        print(f"{kind:5s} ({entry['mean_chars']:.0f} chars): {entry['per_s_median']:,.0f} responses/s on one core")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
