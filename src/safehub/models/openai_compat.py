"""Every OpenAI-compatible vendor through the official `openai` SDK on its aiohttp transport.

Tools go out as chat-completions `tools: [{"type": "function", "function": {name, description, parameters}}]`;
an assistant turn's tool calls go back in OpenAI's shape, `{"id", "type": "function", "function": {"name",
"arguments": JSON TEXT}}` (a call whose arguments did not parse is sent with the text the model wrote), and a
tool turn as `{"role": "tool", "tool_call_id", "content"}`. The answer's `message.tool_calls` become
`Completion.tool_calls`; arguments that are not a JSON object are kept as `ToolCall.raw_arguments`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from urllib.parse import urlsplit

import openai

from safehub.chat import ToolCall, ToolSpec
from safehub.errors import UsageError
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError
from safehub.models.presets import PRESETS, Preset
from safehub.models.spec import Endpoint, ModelSpec
from safehub.redact import redact


def _retry_after_s(headers) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def classify_openai_error(exc: Exception) -> ModelCallError:
    """Map the SDK's exceptions onto our retry classes; the message never contains the key."""
    if isinstance(exc, openai.RateLimitError):
        return ModelCallError("rate_limit", "HTTP 429 rate limited", _retry_after_s(exc.response.headers))
    if isinstance(exc, openai.APITimeoutError):
        return ModelCallError("timeout", "request timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        if isinstance(cause, (json.JSONDecodeError, ValueError)) and not isinstance(cause, OSError):
            return ModelCallError("bad_response", f"unreadable response: {type(cause).__name__}")
        return ModelCallError("connection", f"connection failed: {type(cause).__name__}")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ModelCallError("auth", f"HTTP {exc.status_code}: the API key was refused")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500 or status in (408, 409):
            return ModelCallError("server", f"HTTP {status} from the server", _retry_after_s(exc.response.headers))
        return ModelCallError("client", f"HTTP {status}: {_short(redact(exc.message))}")
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError)):
        return ModelCallError("bad_response", f"unreadable response: {type(exc).__name__}")
    return ModelCallError("internal", f"{type(exc).__name__}: {_short(redact(str(exc)))}")


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class OpenAICompatModel(ModelAdapter):
    provider = "openai-compat"
    supports_logprobs = True

    def __init__(self, spec: ModelSpec, *, max_concurrency: int = 16, retry=None, env=None):
        super().__init__(spec, max_concurrency=max_concurrency, retry=retry)
        env = os.environ if env is None else env
        self.preset: Preset = PRESETS[spec.provider]
        if not spec.model:
            raise UsageError(f"model spec {spec.display!r}: name the model, e.g. {spec.provider}:MODEL")
        api_key = env.get(self.preset.key_env) if self.preset.key_env else None
        if self.preset.is_key_required and not api_key:
            raise UsageError(f"model spec {spec.display!r} needs an API key: set {self.preset.key_env}")
        for name in self.preset.extra_env:
            if not env.get(name):
                raise UsageError(f"model spec {spec.display!r} needs {name} to be set")
        base_url = spec.base_url or self.preset.base_url
        if spec.provider == "azure":
            base_url = spec.base_url or env["AZURE_OPENAI_ENDPOINT"]
        if not base_url:
            raise UsageError(f"model spec {spec.display!r}: give the server, e.g. {spec.provider}:{spec.model}@http://127.0.0.1:8000/v1")
        self.endpoint = Endpoint.from_base_url(base_url)
        if self.endpoint.authorization and api_key and spec.provider != "azure":  # Azure sends its key as api-key
            raise UsageError(f"model spec {spec.display!r}: its base URL carries user:password and {self.preset.key_env} "
                             "is set, and both would be the Authorization header; drop one of them")
        self.base_url = self.endpoint.url  # no credentials or query: safe to show
        self._api_key = api_key or "unused"  # local servers ignore it; the SDK insists on one
        self._env = env
        self._client: openai.AsyncOpenAI | None = None

    def _make_client(self) -> openai.AsyncOpenAI:
        # Retries are ours (adaptive, attributed); the SDK's own would hide them.
        http_client = openai.DefaultAioHttpClient()
        # Credentials in the base URL go as basic auth (in place of the SDK's "Bearer unused"), its query with every
        # request: aiohttp refuses a URL with credentials beside an Authorization header, and the SDK would paste
        # the query into the middle of the path.
        headers = {"Authorization": self.endpoint.authorization} if self.endpoint.authorization else None
        query = self.endpoint.query or None
        if self.spec.provider == "azure":
            return openai.AsyncAzureOpenAI(api_key=self._api_key, azure_endpoint=self.base_url,
                                           api_version=self._env["OPENAI_API_VERSION"], max_retries=0,
                                           http_client=http_client, default_headers=headers, default_query=query)
        return openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0,
                                  http_client=http_client, default_headers=headers, default_query=query)

    async def preflight(self) -> None:
        parts = urlsplit(self.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeout=5.0)
        except (OSError, asyncio.TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else (exc.strerror or type(exc).__name__)
            raise UsageError(f"cannot reach {self.base_url} for model {self.spec.display!r} ({reason}): "
                             "check that the server is running and the base URL is right") from None
        writer.close()

    async def _generate(self, messages: list[Message], config: GenerateConfig,
                        tools: tuple[ToolSpec, ...] = ()) -> Completion:
        if self._client is None:
            self._client = self._make_client()
        body = chat_body(self.spec.model, messages, config, tools)
        try:
            # The SDK's documented `post` for a plain-JSON body and answer: create()'s walk of the body against
            # the parameter TypedDicts and the construction of a ChatCompletion were a third of the SDK's CPU per
            # request at zero latency (bench/peers.py profile). The answer is read by `completion_from_json`.
            data = await self._client.post("/chat/completions", cast_to=object, body=body,
                                           options={"timeout": config.timeout_s})
        except openai.OpenAIError as exc:
            raise classify_openai_error(exc) from None
        except json.JSONDecodeError as exc:
            raise ModelCallError("bad_response", f"unreadable response: {type(exc).__name__}") from None
        return completion_from_json(data)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def chat_body(model: str, messages: list[Message], config: GenerateConfig, tools: tuple[ToolSpec, ...] = ()) -> dict:
    """The JSON body of a chat completion request for `config` (optional fields only when set)."""
    if any("tool_calls" in message for message in messages):
        messages = [_openai_message(message) for message in messages]
    body: dict = {"model": model, "messages": messages, "max_tokens": config.max_tokens, "temperature": config.temperature}
    if tools:
        body["tools"] = [{"type": "function", "function": tool.cache_fields()} for tool in tools]
    if config.top_p is not None:
        body["top_p"] = config.top_p
    if config.seed is not None:
        body["seed"] = config.seed
    if config.stop:
        body["stop"] = list(config.stop)
    if config.top_logprobs > 0:
        body["logprobs"] = True
        body["top_logprobs"] = config.top_logprobs
    return body


def _openai_message(message: Message) -> dict:
    """An assistant turn's tool calls in OpenAI's shape (an empty list, which OpenAI refuses, is left out);
    any other message is sent as it is."""
    if "tool_calls" not in message:
        return message
    if not message["tool_calls"]:
        return {key: value for key, value in message.items() if key != "tool_calls"}
    calls = [ToolCall.from_message(call) for call in message["tool_calls"]]
    return {"role": message["role"], "content": message["content"],
            "tool_calls": [{"id": call.id, "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments_text}} for call in calls]}


def _count(usage: dict, key: str) -> int:
    value = usage.get(key)
    return value if type(value) is int and value >= 0 else 0


def completion_from_json(data: object) -> Completion:
    """A chat completion body as sent by the server, read without trusting its shape: anything that is not an
    answer is a `bad_response` error; token counts that are not counts are 0."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelCallError("bad_response", "the response has no choices")
    choice = choices[0]
    message = choice.get("message")
    content = _text_of(message.get("content") if isinstance(message, dict) else None)
    tool_calls = _tool_calls_of(message.get("tool_calls") if isinstance(message, dict) else None)
    finish_reason = choice.get("finish_reason")
    finish_reason = finish_reason if isinstance(finish_reason, str) else None
    if tool_calls and finish_reason != "length":  # some servers say "stop" beside the calls they made
        finish_reason = "tool_calls"
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return Completion(
        text=content or "",
        finish_reason=finish_reason,
        tool_calls=tool_calls,
        input_tokens=_count(usage, "prompt_tokens"),
        output_tokens=_count(usage, "completion_tokens"),
        first_token_logprobs=_first_token_logprobs(choice),
    )


def _text_of(content: object) -> str | None:
    """A message's content as text: a string, or a list of parts (some vendors answer that way, with reasoning
    in parts of other types) whose "text" parts are joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return "".join(part["text"] for part in content if part.get("type") == "text" and isinstance(part.get("text"), str))
    raise ModelCallError("bad_response", f"the answer's content is {type(content).__name__}, not text")


def _tool_calls_of(calls: object) -> list[ToolCall]:
    """`message.tool_calls` read without trusting it: a list of `{"id", "function": {"name", "arguments"}}`.
    Arguments come as JSON text (a few servers send an object); text that is not a JSON object is kept raw."""
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise ModelCallError("bad_response", f"the answer's tool_calls is {type(calls).__name__}, not a list")
    read = []
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise ModelCallError("bad_response", f"the answer's tool_calls[{index}] names no function")
        call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else f"call_{index}"
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            read.append(ToolCall(call_id, name, arguments))
        else:
            read.append(ToolCall.from_arguments_text(call_id, name, arguments if isinstance(arguments, str)
                                                     else json.dumps(arguments)))
    return read


def _first_token_logprobs(choice: dict) -> dict[str, float] | None:
    """{token: logprob} of the first generated token's alternatives (and the token itself), or None."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content or not isinstance(content[0], dict):
        return None
    first = content[0]
    tops = {}
    for entry in first.get("top_logprobs") or []:
        if isinstance(entry, dict) and _is_logprob(entry.get("token"), entry.get("logprob")):
            tops[entry["token"]] = float(entry["logprob"])
    if _is_logprob(first.get("token"), first.get("logprob")):
        tops.setdefault(first["token"], float(first["logprob"]))
    return tops or None


def _is_logprob(token: object, logprob: object) -> bool:
    return isinstance(token, str) and type(logprob) in (int, float) and logprob <= 0
