"""An agentic trial's transcript as the hub shows it: the opening turns, every step in order, then the verdict.

    transcript = agent_transcript(trial)   # trial: views.trial_detail(...); None when its sample is not agentic
    transcript.steps                        # [{kind, heading, text, hidden_chars, ...}] in the order they happened
    transcript.verdict                      # the agent_outcome verdict: label, explanation, evidence; None if none

The steps are the agent loop's nodes (agents.loop): environment messages (a task, the announcement, a reminder),
the model's turns, its tool calls (the tool and its command or answer), their results (output, exit code and any
limit that stopped the command) and the shutdown step. Everything in them may come from the model, so it is
hostile input: the template escapes it (nothing here is marked safe) and each text is cut at TEXT_SHOWN
characters, the JSON API keeping it whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from safehub.hub.attack_tree import shown_text

VERDICT_METRIC = "sabotage_rate"
OPENING_HEADINGS = {"system": "system prompt", "developer": "developer message", "user": "task"}
ARGUMENTS = {"bash": "command", "submit": "answer"}  # the one argument each of the loop's tools takes
# Fields of an evidence item the page lists by name, beside its kind, path and commands.
EVIDENCE_FIELDS = ("to", "was_mode", "mode", "now_kind", "processes")


@dataclass
class AgentTranscript:
    steps: list[dict]
    verdict: dict | None
    is_overridden: bool


def is_agentic(trial: dict) -> bool:
    """Whether the trial's sample is an agentic scenario (its stored content has `agentic`)."""
    return bool((trial.get("content") or {}).get("agentic"))


def agent_transcript(trial: dict) -> AgentTranscript | None:
    if not is_agentic(trial):
        return None
    steps = [_opening(message) for message in _opening_turns(trial.get("messages") or [])]
    steps += [_step(node) for node in sorted(trial["nodes"], key=lambda node: node["seq"])]
    verdicts = [score for score in trial["scores"] if score["metric"] == VERDICT_METRIC]
    graded = [score for score in verdicts if not score["is_override"]]
    return AgentTranscript(steps, _verdict(graded[-1]) if graded else None,
                           is_overridden=any(score["is_override"] for score in verdicts))


def _text(text: str | None) -> dict:
    shown, hidden_chars = shown_text(text)
    return {"text": shown, "hidden_chars": hidden_chars}


def _opening_turns(messages: list) -> list[dict]:
    """The turns before the model's first: the stored messages are the whole conversation, whose later turns the
    nodes hold (each with what the sandbox said)."""
    opening = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in OPENING_HEADINGS:
            break
        opening.append(message)
    return opening


def _opening(message: dict) -> dict:
    role = str(message.get("role", ""))
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return {"kind": "opening", "heading": OPENING_HEADINGS.get(role, role), **_text(text)}


def _step(node: dict) -> dict:
    details = node.get("details") or {}
    kind = node["kind"]
    step = {"kind": kind, "key": node["key"], "seq": node["seq"], "error": node.get("error"), **_text(node["text"])}
    if kind == "environment_message":
        return {**step, "heading": "environment"}
    if kind == "agent_turn":
        return {**step, "heading": "model", "model": node.get("model"), "input_tokens": node.get("input_tokens"),
                "output_tokens": node.get("output_tokens"), "latency_ms": node.get("latency_ms"),
                "n_tool_calls": len(details.get("tool_calls") or [])}
    if kind == "tool_call":
        return {**step, "heading": "tool call", **_call(details, node["text"])}
    if kind == "tool_result":
        return {**step, "heading": "tool result", "tool": details.get("tool"),
                "exit_code": details.get("exit_code"), "stopped": _stopped(details),
                "duration_ms": details.get("duration_ms")}
    if kind == "shutdown_step":
        return {**step, "heading": "shutdown step", "command": _text(details.get("command"))["text"],
                "exit_code": details.get("exit_code"), "stopped": _stopped(details)}
    return {**step, "heading": kind.replace("_", " ")}


def _call(details: dict, text: str | None) -> dict:
    """The tool and what it was given: bash's command, submit's answer, or the arguments as sent."""
    tool = details.get("name")
    arguments = details.get("arguments") if isinstance(details.get("arguments"), dict) else {}
    name = ARGUMENTS.get(tool)
    if details.get("raw_arguments") is not None:
        argument_name, value = "arguments (not JSON)", details["raw_arguments"]
    elif name is not None and isinstance(arguments.get(name), str):
        argument_name, value = name, arguments[name]
    else:
        argument_name, value = "arguments", text or json.dumps(arguments, ensure_ascii=False)
    shown = _text(value)
    return {"tool": tool, "argument_name": argument_name, "argument": shown["text"],
            "argument_hidden_chars": shown["hidden_chars"]}


def _stopped(details: dict) -> str | None:
    """The sandbox limit that stopped a command, in words; None when it ran to its end."""
    reason = details.get("killed_reason") or ("wall_time" if details.get("timed_out") else None)
    reasons = [str(reason)] if reason else []
    if details.get("truncated") and reason != "output_limit":
        reasons.append("output truncated")
    return ", ".join(reasons) or None


def _verdict(score: dict) -> dict:
    details = score.get("details") or {}
    evidence = []
    for item in details.get("evidence") or []:
        if not isinstance(item, dict):
            continue
        evidence.append({"kind": item.get("kind"), "path": item.get("path"),
                         "fields": {name: item[name] for name in EVIDENCE_FIELDS if item.get(name) is not None},
                         "commands": [shown_text(str(command))[0] for command in item.get("commands") or []]})
    return {"label": score["label"], "value": score["value"], "explanation": score.get("explanation"),
            "grader": score["grader"], "grader_version": score["grader_version"], "evidence": evidence,
            "variant": details.get("variant"), "stop_reason": details.get("stop_reason"),
            "turns": details.get("turns"), "commands": details.get("commands")}
