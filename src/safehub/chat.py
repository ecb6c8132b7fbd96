"""The shapes every layer passes around: chat messages (with tool calls), tools, and `Completion`.

A conversation is a list of plain dicts, the same across adapters, store and cache:

    [{"role": "system", "content": "You operate a shell."},
     {"role": "user", "content": "List the files."},
     {"role": "assistant", "content": "",
      "tool_calls": [{"id": "call_1_0", "name": "bash", "arguments": {"command": "ls"}}]},
     {"role": "tool", "tool_call_id": "call_1_0", "content": "notes.txt\\nshutdown.sh"}]

An agent loop offers tools, sends the conversation, and appends what came back:

    bash = ToolSpec("bash", "Run a shell command.", {"type": "object",
                    "properties": {"command": {"type": "string"}}, "required": ["command"]})
    completion = await model.generate(messages, config, tools=[bash])
    messages.append(assistant_message(completion))
    for call in completion.tool_calls:             # finish_reason == "tool_calls"
        if call.raw_arguments is not None:         # the model's arguments were not a JSON object
            output = f"error: your arguments were not valid JSON: {call.raw_arguments}"
        else:
            output = run(call.name, call.arguments)
        messages.append(tool_result_message(call, output))

Malformed arguments are data, not an exception: `ToolCall.arguments` is then `{}` and `raw_arguments` holds
the model's text as it was, so the loop can tell the model what was wrong. Each adapter maps these shapes to
its vendor's (OpenAI `tool_calls` with arguments as a JSON string, Anthropic `tool_use`/`tool_result`
blocks, the embedded model's chat template) and back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["system", "developer", "user", "assistant", "tool"]
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what OpenAI and Anthropic both accept


class ToolCallMessage(TypedDict):
    """A tool call inside an assistant message; `raw_arguments` only when the model's arguments did not parse."""

    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: NotRequired[str]


class Message(TypedDict):
    """One chat turn. `tool_calls` only on assistant turns; `tool_call_id` only on tool turns."""

    role: Role
    content: str
    tool_calls: NotRequired[list[ToolCallMessage]]
    tool_call_id: NotRequired[str]


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and a JSON schema (an object) for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TOOL_NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must be 1-64 letters, digits, '_' or '-'")
        if not isinstance(self.parameters, dict) or self.parameters.get("type") != "object":
            raise ValueError(f"tool {self.name!r}: parameters must be a JSON schema with \"type\": \"object\"")

    def cache_fields(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass(frozen=True)
class ToolCall:
    """A call the model made. `raw_arguments` is set (and `arguments` empty) when its argument text was not
    a JSON object; `id` ties the tool's result message to the call."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None

    @classmethod
    def from_arguments_text(cls, id: str, name: str, text: str) -> ToolCall:
        """The call whose arguments the model wrote as `text` (JSON), keeping the text if it is not an object."""
        try:
            arguments = json.loads(text) if text.strip() else {}
        except ValueError:
            return cls(id, name, {}, text)
        if not isinstance(arguments, dict):
            return cls(id, name, {}, text)
        return cls(id, name, arguments)

    @classmethod
    def from_message(cls, call: ToolCallMessage) -> ToolCall:
        return cls(call["id"], call["name"], dict(call.get("arguments") or {}), call.get("raw_arguments"))

    def to_message(self) -> ToolCallMessage:
        message: ToolCallMessage = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.raw_arguments is not None:
            message["raw_arguments"] = self.raw_arguments
        return message

    @property
    def arguments_text(self) -> str:
        """The arguments as the model wrote them, or as JSON when they parsed: what goes back to a vendor."""
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass
class Completion:
    """What one model call returned. `tool_calls` is non-empty (and `finish_reason` "tool_calls", unless the
    answer was cut at the token limit) when the model called tools; `error` is set when the call failed."""

    text: str = ""
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    first_token_logprobs: dict[str, float] | None = None
    latency_ms: float = 0.0  # in the model calls, every attempt; never the waits between them
    queue_ms: float = 0.0  # waiting to be sent: a concurrency slot, a rate-limit pause, retry backoff
    error: str | None = None
    error_kind: str | None = None
    attempts: int = 1
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.error is not None


def assistant_message(completion: Completion) -> Message:
    """The assistant turn to append to the conversation after `completion`, with its tool calls if any."""
    message: Message = {"role": "assistant", "content": completion.text}
    if completion.tool_calls:
        message["tool_calls"] = [call.to_message() for call in completion.tool_calls]
    return message


def tool_result_message(call: ToolCall, content: str) -> Message:
    """The tool turn that answers `call` with the tool's output."""
    return {"role": "tool", "tool_call_id": call.id, "content": content}


def tool_calls_of(message: Message) -> list[ToolCall]:
    """The tool calls an assistant message carries (none for any other message)."""
    return [ToolCall.from_message(call) for call in message.get("tool_calls") or ()]


def call_id(messages: list[Message], index: int) -> str:
    """A call id for adapters whose model names none: unique in the conversation, the same on every run
    (the number of assistant turns before this one, and the call's place in it)."""
    turn = sum(1 for message in messages if message["role"] == "assistant")
    return f"call_{turn}_{index}"
