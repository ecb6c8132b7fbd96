"""`safehub guard measure`: the configured screens' recall and false-positive rate on an operator's labelled traffic.

    traffic = read_labelled_traffic(Path("traffic.jsonl"))
    measure_rules(configured_rules(config), traffic)
    # -> [{"rule": "harmful_request", "stage": "input", "threshold": 0.5, "tp": 40, "fn": 2, "fp": 3, "tn": 55, ...}]

The labels file is JSONL, one line per request:
    {"messages": [{"role": "user", "content": "How do I make a pipe bomb?"}], "expected": "block"}
    {"messages": [...], "answer": "Sure: step 1 ...", "expected": "block"}
A line without "answer" is a request: "expected" says whether the input screens should block it. A line with
"answer" is an answer to those messages: "expected" says whether the output screens should block the answer.
Input screens are measured on the request lines, output screens on the answer lines, each at its configured
threshold (positive = should be blocked). A screen that raises on a line passes it, as in the gateway, and is
counted. The whole file is checked before any screen runs: bad input is one UsageError naming the file and line.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from safehub.errors import UsageError
from safehub.guard.model_screen import ModelScreen
from safehub.guard.policy import Rule, score_output
from safehub.guard.shapes import ROLES
from safehub.jsontext import TooDeep, parse_json

EXPECTATIONS = ("block", "pass")
_EXAMPLE = '{"messages": [{"role": "user", "content": "..."}], "expected": "block"} (plus "answer" for an answer)'


@dataclass(frozen=True)
class LabelledLine:
    messages: list[dict]
    answer: str | None  # None: the line labels the request (input screens), else this answer (output screens)
    is_block_expected: bool


@dataclass(frozen=True)
class LabelledTraffic:
    name: str  # the file's name, as stored (never its folder)
    sha256: str  # of the file's bytes
    lines: list[LabelledLine]


def _content(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and part.get("type") == "text"
                                         and isinstance(part.get("text"), str) for part in content):
        return "".join(part["text"] for part in content)
    raise UsageError(f"{where}: content must be a string or a list of text parts")


def _messages(value: object, where: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where}: \"messages\" must be a non-empty list of {{\"role\", \"content\"}} objects")
    messages = []
    for index, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise UsageError(f"{where}: messages[{index}].role must be one of {', '.join(ROLES)}")
        messages.append({"role": message["role"], "content": _content(message.get("content"), f"{where}: messages[{index}]")})
    return messages


def _labelled_line(text: str, where: str) -> LabelledLine:
    try:
        record = parse_json(text)
    except TooDeep as error:
        raise UsageError(f"{where}: {error}; each line must be one JSON object like {_EXAMPLE}") from None
    except ValueError as error:
        raise UsageError(f"{where}: not valid JSON ({getattr(error, 'msg', error)}); each line must be one JSON object "
                         f"like {_EXAMPLE}") from None
    if not isinstance(record, dict):
        raise UsageError(f"{where}: expected a JSON object like {_EXAMPLE}, got {type(record).__name__}")
    for field in ("messages", "expected"):
        if field not in record:
            raise UsageError(f"{where}: missing field \"{field}\"; each line needs \"messages\" and \"expected\"")
    if record["expected"] not in EXPECTATIONS:
        shown = str(record["expected"])[:40]
        raise UsageError(f"{where}: unknown expectation {shown!r} in \"expected\"; use block or pass")
    answer = record.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise UsageError(f"{where}: \"answer\" must be a string (or left out for a request)")
    return LabelledLine(_messages(record["messages"], where), answer, record["expected"] == "block")


def read_labelled_traffic(path: Path) -> LabelledTraffic:
    """The labels file, checked line by line (blank lines skipped); UsageError on the first bad line or an empty file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"--labels {path}: no such file; give a JSONL file of {_EXAMPLE} lines") from None
    except OSError as error:
        raise UsageError(f"--labels {path}: cannot read it ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path.name}: not UTF-8 text (byte {error.start}); save it as UTF-8 JSONL") from None
    lines = [_labelled_line(line, f"{path.name} line {number}")
             for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise UsageError(f"{path.name}: no labelled lines; write one JSON object per line like {_EXAMPLE}")
    return LabelledTraffic(path.name, hashlib.sha256(data).hexdigest(), lines)


def _verdict(rule: Rule, line: LabelledLine) -> tuple[bool, bool]:
    """(is blocked at the rule's threshold, did the screen raise). A raising screen passes, as in the gateway."""
    try:
        result = rule.screen.score_input(line.messages) if line.answer is None else \
            score_output(rule, line.messages, line.answer)
    except Exception:
        return False, True
    return result.score >= rule.threshold, False


def measure_rules(rules: list[Rule], traffic: LabelledTraffic) -> list[dict]:
    """One measurement per rule that has lines on its side (input: requests, output: answers), rows for the store."""
    measured = []
    for rule in rules:
        side = [line for line in traffic.lines if (line.answer is None) == (rule.screen.stage == "input")]
        if not side:
            continue
        counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
        errors = 0
        for line in side:
            is_blocked, is_error = _verdict(rule, line)
            errors += is_error
            key = ("tp" if is_blocked else "fn") if line.is_block_expected else ("fp" if is_blocked else "tn")
            counts[key] += 1
        measured.append({"rule": rule.name, "stage": rule.screen.stage, "screen_version": str(rule.screen.version),
                         "threshold": float(rule.threshold), "action": rule.action, "labelled_set": traffic.name,
                         "labelled_set_sha256": traffic.sha256, **counts, "details": {"screen_errors": errors}})
    return measured


async def measure_model_screens(screens: list[ModelScreen], traffic: LabelledTraffic) -> list[dict]:
    """The same measurement for model rules, asking the model about each line of each stage it screens.

    A model error (timeout, HTTP error, unreadable reply) blocks under fail_closed and passes under fail_open, as
    in the gateway, and is counted in the details. Calls run concurrently, up to the rule's max_concurrency.
    """
    from safehub.guard.card import MODEL_THRESHOLD, model_version
    from safehub.guard.model_screen import input_conversation, output_conversation

    measured = []
    for screen in screens:
        if screen.action == "pass":
            continue
        limit = asyncio.Semaphore(screen.config.max_concurrency)

        async def classify(line: LabelledLine, screen: ModelScreen = screen, limit=limit):
            conversation = input_conversation(line.messages) if line.answer is None else \
                output_conversation(line.messages, line.answer)
            async with limit:
                return await screen.classify(conversation)

        for stage in sorted(screen.stages):
            side = [line for line in traffic.lines if (line.answer is None) == (stage == "input")]
            if not side:
                continue
            verdicts = await asyncio.gather(*(classify(line) for line in side))
            counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
            for line, verdict in zip(side, verdicts, strict=True):
                is_blocked = verdict.is_unsafe  # unsafe, or an error under fail_closed
                key = ("tp" if is_blocked else "fn") if line.is_block_expected else ("fp" if is_blocked else "tn")
                counts[key] += 1
            errors = [v.error for v in verdicts if v.verdict == "error"]
            measured.append({"rule": screen.rule, "stage": stage, "screen_version": model_version(screen),
                             "threshold": MODEL_THRESHOLD, "action": screen.action, "labelled_set": traffic.name,
                             "labelled_set_sha256": traffic.sha256, **counts,
                             "details": {"model_errors": len(errors), "on_error": screen.config.on_error,
                                         "first_error": errors[0] if errors else None}})
    return measured


def pick_rules(rules: list[Rule], models: list[ModelScreen], name: str | None,
               source: str) -> tuple[list[Rule], list[ModelScreen]]:
    """All the configured rules and model rules, or the one named by --rule."""
    models = [screen for screen in models if screen.action != "pass"]
    if name is None:
        return rules, models
    chosen = ([rule for rule in rules if rule.name == name], [screen for screen in models if screen.rule == name])
    if not any(chosen):
        known = ", ".join([rule.name for rule in rules] + [screen.rule for screen in models]) or "none"
        raise UsageError(f"--rule {name}: {source} screens with no such rule (action block or flag); its rules: {known}")
    return chosen


def nothing_to_measure(rules: list[Rule], models: list[ModelScreen], traffic: LabelledTraffic) -> str:
    """Why no rule could be measured: which side each rule reads and what the file holds."""
    answers = sum(line.answer is not None for line in traffic.lines)
    stages = sorted({rule.screen.stage for rule in rules} | {stage for screen in models for stage in screen.stages}) \
        or ["no"]
    return (f"{traffic.name}: nothing to measure: the rules are {' and '.join(stages)} screens, and the file has "
            f"{len(traffic.lines) - answers} request lines (no \"answer\") and {answers} answer lines; input screens "
            f"are measured on request lines, output screens on answer lines")
