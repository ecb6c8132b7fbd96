"""Embedded model speed: generated tokens/s of the `local` adapter against a raw llama-cpp-python loop, same work.

    make bench                                                   # = python bench/local_model.py (8 prompts x 32 tokens)
    python bench/local_model.py --prompts 2 --max-tokens 4 --repeats 1 --out /tmp/local.json   # a quick smoke run

Both sides run the same GGUF (`safehub.models.weights.ensure_weights()`, the file `--model local` loads),
in this one process, each with its own `Llama` built with the adapter's settings (n_ctx, n_threads and
n_threads_batch = the CPUs this process may use, logits_all off), on the first `--prompts` prompts of
bench/common.py as one user turn each, rendered with the GGUF's own chat template, greedy (temperature 0),
at most `--max-tokens` tokens, every prompt evaluated from scratch. Variants, one pass over the prompts each:
  adapter            `load_model("local").generate(...)`: the path `safehub run --model local` takes (the final
                     ModelAdapter.generate: limiter, timing, error capture; the adapter's worker thread)
  adapter_logprobs   the same with top_logprobs=5, as runs ask for trials whose scorer reads first-token logprobs
  raw                Jinja2ChatFormatter + Llama.tokenize + Llama.reset + Llama.generate, stop at an end-of-generation
                     token: the least a caller of llama-cpp-python can write for the same answer
  raw_logprobs       the same, reading the first token's top-5 log-probabilities from the context's last logits row
  raw_chat_completion (only with --variants) Llama.create_chat_completion with its defaults, which reuse the
                     KV cache of the prefix shared with the previous prompt
tokens/s = generated tokens / wall time of the pass (templating, prompt evaluation and decoding included; model
loading excluded). Passes rotate their order every repeat; medians over repeats. The answers of every variant
must be the same tokens, or the script stops instead of printing a figure.
Target (issue 7, reported, never asserted in tests): adapter >= 0.9x raw.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_prompts  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "results" / "local_model.json"
TARGET_RATIO = 0.9
TOP_LOGPROBS = 5  # safehub.engine.evaluation.LOGPROB_TOP_K
DEFAULT_VARIANTS = ("adapter", "adapter_logprobs", "raw", "raw_logprobs")
ALL_VARIANTS = (*DEFAULT_VARIANTS, "raw_chat_completion")
RATIOS = {"adapter_over_raw": ("adapter", "raw"),
          "adapter_logprobs_over_raw_logprobs": ("adapter_logprobs", "raw_logprobs"),
          "adapter_logprobs_over_raw": ("adapter_logprobs", "raw"),
          "adapter_over_raw_chat_completion": ("adapter", "raw_chat_completion")}


class BenchmarkError(RuntimeError):
    """The variants did not produce the same answers; comparing their speed would mean nothing."""


class RawLoop:
    """llama-cpp-python used directly, with the settings the adapter uses."""

    def __init__(self, model_path: Path, n_threads: int, n_ctx: int):
        import llama_cpp
        import numpy
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        self.llama_cpp, self.np = llama_cpp, numpy
        self.llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads,
                                   n_threads_batch=n_threads, logits_all=False, verbose=False)
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"],
            eos_token=self.llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.llm._model.token_get_text(bos) if bos != -1 else "", add_generation_prompt=True)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    def generate(self, prompt: str, max_tokens: int, top_logprobs: int = 0) -> tuple[list[int], dict | None]:
        text = self.formatter(messages=[{"role": "user", "content": prompt}]).prompt
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        self.llm.reset()
        output: list[int] = []
        logprobs = None
        generator = self.llm.generate(tokens, temp=0.0, repeat_penalty=1.0)
        for token in generator:
            if top_logprobs and logprobs is None:
                logprobs = self._first_token_logprobs(top_logprobs)
            if self.llama_cpp.llama_vocab_is_eog(self.vocab, token):
                break
            output.append(token)
            if len(output) >= max_tokens:
                break
        generator.close()
        return output, logprobs

    def _first_token_logprobs(self, k: int) -> dict:
        np = self.np
        row = self.llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(row, shape=(self.llm.n_vocab(),)).astype(np.float64)
        log_normalizer = logits.max() + np.log(np.exp(logits - logits.max()).sum())
        top = np.argpartition(logits, -k)[-k:]
        return {self.llm.detokenize([int(t)], special=True).decode("utf-8", "replace"): float(logits[t] - log_normalizer)
                for t in top[np.argsort(-logits[top])]}

    def chat_completion(self, prompt: str, max_tokens: int) -> tuple[str, int]:
        reply = self.llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                                                temperature=0.0, repeat_penalty=1.0)
        return reply["choices"][0]["message"]["content"] or "", reply["usage"]["completion_tokens"]


async def adapter_pass(adapter, prompts: list[str], max_tokens: int, top_logprobs: int) -> list[tuple[str, dict | None, int]]:
    from safehub.models.base import GenerateConfig
    config = GenerateConfig(max_tokens=max_tokens, temperature=0.0, top_logprobs=top_logprobs, timeout_s=3600.0)
    answers = []
    for prompt in prompts:
        completion = await adapter.generate([{"role": "user", "content": prompt}], config)
        if completion.error:
            raise BenchmarkError(f"the local adapter failed: {completion.error}")
        answers.append((completion.text, completion.first_token_logprobs, completion.output_tokens))
    return answers


def raw_pass(raw: RawLoop, prompts: list[str], max_tokens: int, variant: str) -> list[tuple[str, dict | None, int]]:
    answers = []
    for prompt in prompts:
        if variant == "raw_chat_completion":
            text, count = raw.chat_completion(prompt, max_tokens)
            answers.append((text, None, count))
        else:
            generated, logprobs = raw.generate(prompt, max_tokens, TOP_LOGPROBS if variant == "raw_logprobs" else 0)
            answers.append((raw.llm.detokenize(generated).decode("utf-8", "ignore"), logprobs, len(generated)))
    return answers


async def run_pass(variant: str, adapter, raw: RawLoop, prompts: list[str], max_tokens: int) -> tuple[dict, list]:
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    if variant.startswith("adapter"):
        answers = await adapter_pass(adapter, prompts, max_tokens, TOP_LOGPROBS if variant == "adapter_logprobs" else 0)
    else:
        answers = raw_pass(raw, prompts, max_tokens, variant)
    wall_s, cpu_s = time.perf_counter() - started_wall, time.process_time() - started_cpu
    generated = sum(count for _, _, count in answers)
    return {"tokens": generated, "wall_s": wall_s, "cpu_s": cpu_s, "tokens_per_s": generated / wall_s}, answers


def check_same_answers(reference: list, answers: list, variant: str) -> None:
    """Greedy decoding of the same prompt by the same weights: the answers and their token counts must match."""
    for index, ((expected, _, expected_count), (got, _, count)) in enumerate(zip(reference, answers)):
        if (expected, expected_count) != (got, count):
            raise BenchmarkError(f"{variant} answered prompt {index} differently from {DEFAULT_VARIANTS[0]}: "
                                 f"{got[:80]!r} ({count} tokens) vs {expected[:80]!r} ({expected_count} tokens)")


def compare_logprobs(reference: list, answers: list) -> float:
    """Largest difference between the adapter's and the raw loop's first-token log-probabilities."""
    worst = 0.0
    for (_, expected, _), (_, got, _) in zip(reference, answers):
        if not expected or not got or set(expected) != set(got):
            raise BenchmarkError(f"first-token logprobs differ in their tokens: {expected} vs {got}")
        worst = max(worst, max(abs(expected[token] - got[token]) for token in expected))
    return worst


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("safehub", "llama_cpp_python", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


async def measure_all(args: argparse.Namespace, variants: list[str]) -> dict:
    from safehub.models.registry import load_model
    from safehub.models.weights import ensure_weights

    prompts = make_prompts(args.prompts)
    model_path = ensure_weights()
    started = time.perf_counter()
    adapter = load_model("local", max_concurrency=1)  # what `safehub run --model local` builds
    await adapter.preflight()
    adapter_load_s = time.perf_counter() - started
    n_threads, n_ctx = adapter.n_threads, adapter.n_ctx
    started = time.perf_counter()
    raw = RawLoop(model_path, n_threads, n_ctx)
    raw_load_s = time.perf_counter() - started
    # Warm-up: the first call of each Llama allocates its buffers.
    await run_pass("adapter_logprobs", adapter, raw, prompts[:1], 2)
    await run_pass("raw_logprobs", adapter, raw, prompts[:1], 2)

    samples: dict[str, list[dict]] = {variant: [] for variant in variants}
    answers: dict[str, list] = {}
    for repeat in range(args.repeats):
        order = variants[repeat % len(variants):] + variants[:repeat % len(variants)]
        for variant in order:
            sample, answers[variant] = await run_pass(variant, adapter, raw, prompts, args.max_tokens)
            samples[variant].append({"repeat": repeat + 1, **sample})
            print(f"  repeat {repeat + 1}/{args.repeats} {variant:<20} {sample['tokens_per_s']:6.1f} tokens/s "
                  f"({sample['tokens']} tokens in {sample['wall_s']:.1f} s, cpu {sample['cpu_s']:.1f} s)",
                  file=sys.stderr, flush=True)
    reference = answers[variants[0]]
    for variant in variants[1:]:
        check_same_answers(reference, answers[variant], variant)
    logprob_difference = None
    if {"adapter_logprobs", "raw_logprobs"} <= set(answers):
        logprob_difference = compare_logprobs(answers["adapter_logprobs"], answers["raw_logprobs"])
    await adapter.aclose()
    median = {variant: {key: statistics.median(s[key] for s in samples[variant])
                        for key in ("tokens_per_s", "wall_s", "cpu_s", "tokens")} for variant in variants}
    ratios, paired = {}, {}
    for name, (top, bottom) in RATIOS.items():
        if top in median and bottom in median:
            ratios[name] = median[top]["tokens_per_s"] / median[bottom]["tokens_per_s"]
            paired[name] = [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(samples[top], samples[bottom])]
    return {"model_path": str(model_path), "model_file": model_path.name, "n_threads": n_threads, "n_ctx": n_ctx,
            "load_s": {"adapter": adapter_load_s, "raw": raw_load_s}, "median": median, "ratios": ratios,
            "paired_ratios": paired, "max_first_token_logprob_difference": logprob_difference,
            "same_answers": True, "runs": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=8, help="the first N prompts of bench/common.py")
    parser.add_argument("--max-tokens", type=int, default=32, help="generation limit per prompt")
    parser.add_argument("--repeats", type=int, default=3, help="passes per variant; medians are reported")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help=f"comma-separated, of {', '.join(ALL_VARIANTS)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    variants = [name.strip() for name in args.variants.split(",") if name.strip()]
    if args.prompts < 1 or args.max_tokens < 1 or args.repeats < 1 or not variants or not set(variants) <= set(ALL_VARIANTS):
        parser.error(f"need --prompts, --max-tokens, --repeats >= 1 and --variants from {', '.join(ALL_VARIANTS)}")

    started = dt.datetime.now(dt.timezone.utc)
    try:
        figures = asyncio.run(measure_all(args, variants))
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    headline = figures["ratios"].get("adapter_over_raw")
    report = {"benchmark": "local_model", "date": started.isoformat(timespec="seconds"),
              "argv": [sys.executable, *sys.argv], "versions": versions(),
              "machine": {"nproc": len(os.sched_getaffinity(0)), "platform": platform.platform(),
                          "loadavg_at_end": list(os.getloadavg())},
              "settings": {"prompts": args.prompts, "max_tokens": args.max_tokens, "repeats": args.repeats,
                           "temperature": 0.0, "top_logprobs": TOP_LOGPROBS, "variants": variants,
                           "target_ratio": TARGET_RATIO,
                           "note": "one process, two Llama instances of the same GGUF with the adapter's settings; "
                                   "tokens/s = generated tokens / pass wall time, model load excluded; medians"},
              **figures, "ratio_adapter_over_raw": headline,
              "meets_target": headline is not None and headline >= TARGET_RATIO,
              "elapsed_s": (dt.datetime.now(dt.timezone.utc) - started).total_seconds(), "out": str(args.out)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for variant in variants:
        m = report["median"][variant]
        print(f"{variant:<20}{m['tokens_per_s']:8.1f} tokens/s  ({m['tokens']} tokens, {m['wall_s']:.1f} s)")
    for name, ratio in report["ratios"].items():
        print(f"{name:<36}{ratio:6.3f}")
    if headline is not None:
        verdict = "meets" if report["meets_target"] else "MISSES"
        print(f"local adapter / raw llama-cpp-python: {headline:.3f}x ({verdict} target {TARGET_RATIO}x); "
              f"{args.prompts} prompts x {args.max_tokens} tokens, {report['n_threads']} threads, median of "
              f"{args.repeats}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
