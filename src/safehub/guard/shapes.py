"""The OpenAI wire format the guard speaks: parse a chat request, build completions, chunks and errors.

    chat = parse_chat_request(b'{"model": "m", "messages": [{"role": "user", "content": "Hi"}]}',
                              default_max_tokens=1024)
    completion_body("chatcmpl-1", 0, "m", "Hello", "stop", Usage(3, 1))
    # -> {"id": "chatcmpl-1", "object": "chat.completion", ..., "choices": [{"message": {...}}]}

Only what an OpenAI client sends and reads is here: pure functions of plain data, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from safehub.jsontext import TooDeep, parse_json
from safehub.models.base import GenerateConfig

ROLES = ("system", "developer", "user", "assistant")
_UNSUPPORTED = ("tools", "functions", "tool_choice", "function_call")


class RequestError(Exception):
    """A request the guard answers with an OpenAI-style error instead of a completion."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.param, self.code)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


@dataclass
class ChatRequest:
    model: str
    messages: list[dict]  # [{"role", "content": str}], text only
    generate: GenerateConfig
    is_stream: bool = False
    include_usage: bool = False  # stream_options.include_usage
    extra: dict = field(default_factory=dict)


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type, "param": param, "code": code}}).encode()


def _content_text(content: object, index: int) -> str:
    """Message content as text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise RequestError(400, "the guard accepts text content only (parts of type 'text')",
                                   param=f"messages[{index}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise RequestError(400, "content must be a string or a list of text parts", param=f"messages[{index}].content")


def _number(body: dict, name: str, kind: type, low: float, high: float):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise RequestError(400, f"'{name}' must be a {'integer' if kind is int else 'number'}", param=name)
    if not low <= value <= high:
        raise RequestError(400, f"'{name}' must be between {low:g} and {high:g}", param=name)
    return kind(value)


def parse_chat_request(raw: bytes, *, default_max_tokens: int, timeout_s: float = 60.0) -> ChatRequest:
    """Validate a chat.completions body; raise `RequestError` (400) naming the bad parameter."""
    try:
        body = parse_json(raw)
    except TooDeep as exc:
        raise RequestError(400, f"The JSON body of your request is {exc}; send a flatter JSON object.",
                           code="invalid_json") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"We could not parse the JSON body of your request ({exc}). The request body "
                                "must be a JSON object.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", param="model")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise RequestError(400, "'messages' must be a non-empty list", param="messages")
    for name in _UNSUPPORTED:
        if body.get(name):
            raise RequestError(400, f"the guard does not support '{name}'", param=name, code="unsupported_parameter")
    messages = []
    for index, message in enumerate(raw_messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestError(400, f"messages[{index}].role must be one of {', '.join(ROLES)}",
                               param=f"messages[{index}].role")
        messages.append({"role": message["role"], "content": _content_text(message.get("content"), index)})
    if body.get("n") not in (None, 1):
        raise RequestError(400, "the guard returns one choice per request: 'n' must be 1", param="n")
    max_tokens = _number(body, "max_completion_tokens", int, 1, 1_000_000) or _number(body, "max_tokens", int, 1, 1_000_000)
    temperature = _number(body, "temperature", float, 0.0, 2.0)
    top_p = _number(body, "top_p", float, 0.0, 1.0)
    seed = _number(body, "seed", int, -(2**63), 2**63 - 1)
    top_logprobs = _number(body, "top_logprobs", int, 0, 20) or 0
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        stop = tuple(stop) or None
    elif stop is not None:
        raise RequestError(400, "'stop' must be a string or a list of strings", param="stop")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise RequestError(400, "'stream' must be a boolean", param="stream")
    stream_options = body.get("stream_options") or {}
    generate = GenerateConfig(max_tokens=max_tokens or default_max_tokens,
                              temperature=1.0 if temperature is None else temperature,  # OpenAI's default
                              top_p=top_p, seed=seed, stop=stop,
                              top_logprobs=top_logprobs if body.get("logprobs") else 0, timeout_s=timeout_s)
    return ChatRequest(model=model, messages=messages, generate=generate, is_stream=stream,
                       include_usage=bool(isinstance(stream_options, dict) and stream_options.get("include_usage")))


def logprobs_body(first_token_logprobs: dict[str, float] | None) -> dict | None:
    """The first token's alternatives in OpenAI's `logprobs.content` shape (all the adapters keep)."""
    if not first_token_logprobs:
        return None
    ranked = sorted(first_token_logprobs.items(), key=lambda kv: -kv[1])
    token, logprob = ranked[0]
    tops = [{"token": t, "logprob": lp, "bytes": None} for t, lp in ranked]
    return {"content": [{"token": token, "logprob": logprob, "bytes": None, "top_logprobs": tops}]}


def completion_body(completion_id: str, created: int, model: str, text: str, finish_reason: str | None,
                    usage: Usage, *, logprobs: dict | None = None, safehub: dict | None = None) -> dict:
    body = {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                         "logprobs": logprobs, "finish_reason": finish_reason or "stop"}],
            "usage": usage.as_dict()}
    if safehub is not None:
        body["safehub"] = safehub
    return body


class ChunkWriter:
    """The `data: ...` lines of one streamed completion, in OpenAI's chat.completion.chunk format."""

    def __init__(self, completion_id: str, created: int, model: str):
        # Every chunk shares this prefix; only the choices differ.
        self._head = (f'data: {{"id": {json.dumps(completion_id)}, "object": "chat.completion.chunk", '
                      f'"created": {created}, "model": {json.dumps(model)}, "system_fingerprint": null, ')

    def _event(self, rest: str) -> bytes:
        return (self._head + rest + "}\n\n").encode()

    def role(self) -> bytes:
        return self._event('"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, '
                           '"logprobs": null, "finish_reason": null}]')

    def content(self, text: str) -> bytes:
        return self._event(f'"choices": [{{"index": 0, "delta": {{"content": {json.dumps(text)}}}, '
                           '"logprobs": null, "finish_reason": null}]')

    def finish(self, finish_reason: str, safehub: dict | None = None) -> bytes:
        extra = f', "safehub": {json.dumps(safehub)}' if safehub else ""
        return self._event(f'"choices": [{{"index": 0, "delta": {{}}, "logprobs": null, '
                           f'"finish_reason": {json.dumps(finish_reason)}}}]{extra}')

    def usage(self, usage: Usage) -> bytes:
        return self._event(f'"choices": [], "usage": {json.dumps(usage.as_dict())}')

    @staticmethod
    def error(message: str, type: str = "server_error", code: str | None = None) -> bytes:
        return b"data: " + error_body(message, type, None, code) + b"\n\n"

    DONE = b"data: [DONE]\n\n"
