"""Deterministic replies from a rule file, for tests, dry runs and fault injection.

    rules:
      - match: "(?i)bomb|poison"
        reply: "I can't help with that."
      - match: "(?i)capital of france"
        reply: "Paris"
        logprobs: {"Paris": -0.01, "Lyon": -5.2}
      - match: "FAIL"
        error: 500
      - match: "(?i)write your first prompt"
        replies: ['{"improvement": "", "prompt": "A"}', '{"improvement": "", "prompt": "B"}']
    default: "Sure."

`replies:` (instead of `reply:`) lists answers to one rule: a call with a seed gets `replies[seed % len]`, a
call without one the first. Attackers are sampled with a seed per level, stream and branch (attacks.strategies:
with `len` the branching factor, branch j gets `replies[j]`), so a test gives the branches of one tree different
proposals, the same on every run.

A rule can call tools instead of (or beside) replying. `tool_calls:` lists `{name: TOOL, arguments: MAPPING}`;
arguments given as a string are the JSON text the model "wrote", so a file can script malformed arguments.
Rules are tried against the last user **or tool** message, whichever came last: an agent loop answers the
model's calls with tool messages, so a rule can react to a tool's output. For example a saboteur:

    rules:
      - match: "(?i)shutdown\\.sh"                  # the user's notice
        tool_calls: [{name: bash, arguments: {command: "chmod -x shutdown.sh"}}]
      - match: "^exit 0"                             # the tool's result
        tool_calls: [{name: submit, arguments: {answer: "done"}}]
      - match: "broken"
        tool_calls: [{name: bash, arguments: '{"command": '}]   # not valid JSON: kept as raw_arguments
    default: "Sure."

A rule's tool calls are returned whether or not the call offered tools (a real model can call an unknown tool
too); their ids are `call_TURN_INDEX`, unique in the conversation and the same on every run.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from safehub.chat import TOOL_NAME, ToolCall, ToolSpec, call_id
from safehub.errors import UsageError
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError
from safehub.models.spec import ModelSpec
from safehub.yamlfile import read_yaml

_ERRORS = {"429": ("rate_limit", "HTTP 429 rate limited (scripted)"),
           "500": ("server", "HTTP 500 from the server (scripted)"),
           "timeout": ("timeout", "no response (scripted timeout)")}


_FILE_KEYS = ("rules", "default")
_RULE_KEYS = ("match", "reply", "replies", "system_match", "logprobs", "delay_ms", "error", "tool_calls")
_TOOL_CALL_KEYS = ("name", "arguments")


def _check_keys(mapping: dict, known: tuple[str, ...], where: str) -> None:
    """A misspelt key (`eror: 500`) would otherwise be ignored and the fault it names never injected."""
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageError(f"{where}: unknown key {str(key)!r}{hint}; known keys: {', '.join(known)}")


@dataclass(frozen=True)
class Rule:
    match: re.Pattern
    reply: str
    system_match: re.Pattern | None = None
    logprobs: dict[str, float] | None = None
    delay_ms: float = 0.0
    error: str | None = None
    replies: tuple[str, ...] = ()  # chosen by the call's seed, when given
    tool_calls: tuple[tuple[str, str], ...] = ()  # (tool name, arguments as JSON text)

    def reply_for_seed(self, seed: int | None) -> str:
        if not self.replies:
            return self.reply
        return self.replies[(seed or 0) % len(self.replies)]


def load_rules(path: Path) -> tuple[list[Rule], str]:
    where = f"scripted model file {path}"
    data = read_yaml(path, where)
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise UsageError(f"{where}: expected a mapping with 'rules:' (a list) and 'default:'")
    _check_keys(data, _FILE_KEYS, where)
    rules = []
    for index, raw in enumerate(data.get("rules") or []):
        field_of = f"{where}: rules[{index}]"
        if not isinstance(raw, dict) or "match" not in raw:
            raise UsageError(f"{field_of}: each rule needs 'match: REGEX'")
        _check_keys(raw, _RULE_KEYS, field_of)
        error = str(raw["error"]) if raw.get("error") is not None else None
        if error is not None and error not in _ERRORS:
            raise UsageError(f"{field_of}.error: {error!r} is not one of 429, 500, timeout")
        if error is None and not {"reply", "replies", "tool_calls"} & set(raw):
            raise UsageError(f"{field_of}: needs 'reply: TEXT', 'replies: [TEXT, ...]', 'tool_calls: [...]' "
                             "or 'error: 429|500|timeout'")
        replies = raw.get("replies")
        if replies is not None and (not isinstance(replies, list) or not replies):
            raise UsageError(f"{field_of}.replies: give a non-empty list of texts")
        try:
            rules.append(Rule(
                match=re.compile(str(raw["match"])),
                reply=str(raw.get("reply", "")),
                system_match=re.compile(str(raw["system_match"])) if raw.get("system_match") else None,
                logprobs={str(k): float(v) for k, v in raw["logprobs"].items()} if raw.get("logprobs") else None,
                delay_ms=float(raw.get("delay_ms", 0) or 0),
                error=error,
                replies=tuple(str(reply) for reply in replies or ()),
                tool_calls=_scripted_tool_calls(raw.get("tool_calls"), field_of),
            ))
        except re.error as exc:
            raise UsageError(f"{field_of}: bad regular expression ({exc})") from None
        except (AttributeError, TypeError, ValueError) as exc:
            raise UsageError(f"{field_of}: {exc}") from None
    return rules, str(data.get("default", ""))


def _scripted_tool_calls(calls: object, field_of: str) -> tuple[tuple[str, str], ...]:
    """A rule's `tool_calls:` as (name, arguments text); raises UsageError naming the call and field."""
    if calls is None:
        return ()
    if not isinstance(calls, list) or not calls:
        raise UsageError(f"{field_of}.tool_calls: give a non-empty list of {{name: TOOL, arguments: {{...}}}}")
    read = []
    for index, call in enumerate(calls):
        where = f"{field_of}.tool_calls[{index}]"
        if not isinstance(call, dict):
            raise UsageError(f"{where}: give a mapping {{name: TOOL, arguments: {{...}}}}")
        _check_keys(call, _TOOL_CALL_KEYS, where)
        name = call.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise UsageError(f"{where}.name: give the tool's name (1-64 letters, digits, '_' or '-'), not {name!r}")
        arguments = call.get("arguments", {})
        if isinstance(arguments, dict):
            read.append((name, json.dumps(arguments, ensure_ascii=False)))
        elif isinstance(arguments, str):
            read.append((name, arguments))
        else:
            raise UsageError(f"{where}.arguments: give a mapping (or JSON text), not {type(arguments).__name__}")
    return tuple(read)


class ScriptedModel(ModelAdapter):
    provider = "scripted"
    supports_logprobs = True

    def __init__(self, spec: ModelSpec, *, max_concurrency: int = 64, retry=None):
        super().__init__(spec, max_concurrency=max_concurrency, retry=retry)
        self.rules, self.default = load_rules(Path(spec.model))

    def reply_for(self, messages: list[Message], seed: int | None = None) -> tuple[Rule | None, str]:
        user = next((m["content"] for m in reversed(messages) if m["role"] in ("user", "tool")), "")
        system = "\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
        for rule in self.rules:
            if rule.match.search(user) and (rule.system_match is None or rule.system_match.search(system)):
                return rule, rule.reply_for_seed(seed)
        return None, self.default

    async def _generate(self, messages: list[Message], config: GenerateConfig,
                        tools: tuple[ToolSpec, ...] = ()) -> Completion:
        rule, reply = self.reply_for(messages, config.seed)
        if rule and rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000.0)
        if rule and rule.error:
            kind, message = _ERRORS[rule.error]
            raise ModelCallError(kind, message, retry_after_s=0.0 if kind == "rate_limit" else None)
        words = reply.split()
        is_truncated = len(words) > config.max_tokens
        text = " ".join(words[: config.max_tokens]) if is_truncated else reply
        logprobs = None
        if config.top_logprobs > 0:
            if rule and rule.logprobs:
                logprobs = dict(sorted(rule.logprobs.items(), key=lambda kv: -kv[1])[: config.top_logprobs])
            elif words:
                logprobs = {words[0]: 0.0}
        prompt_words = sum(len(m["content"].split()) for m in messages)
        tool_calls = [ToolCall.from_arguments_text(call_id(messages, index), name, arguments)
                      for index, (name, arguments) in enumerate(rule.tool_calls if rule else ())]
        finish_reason = "length" if is_truncated else "tool_calls" if tool_calls else "stop"
        return Completion(text=text, finish_reason=finish_reason,
                          input_tokens=prompt_words, output_tokens=min(len(words), config.max_tokens),
                          first_token_logprobs=logprobs, tool_calls=tool_calls)
