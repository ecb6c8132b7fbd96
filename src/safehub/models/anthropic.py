"""Anthropic's Messages API through its own SDK (optional extra: pip install 'safehub[anthropic]').

The SDK (2.x) no longer accepts `temperature` or `top_p`, so Anthropic models run with the
vendor's default sampling; the run's settings still record what was asked for.

Tools go out as `tools: [{name, description, input_schema}]`. An assistant turn's tool calls become
`tool_use` blocks after its text; tool turns become `tool_result` blocks of a user turn, consecutive tool
turns (and a user message right after them) merged into one user turn, as the API requires. `tool_use`
blocks in the answer become `Completion.tool_calls`, and stop reason `tool_use` finish reason "tool_calls".
A call whose arguments did not parse goes back with empty input (the API takes only an object).
"""

from __future__ import annotations

import os

from safehub.chat import ToolCall, ToolSpec, tool_calls_of
from safehub.errors import UsageError
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError
from safehub.models.spec import Endpoint, ModelSpec

PRICES = {"claude-sonnet-4-5": (3.00, 15.00), "claude-opus-4-1": (15.00, 75.00), "claude-haiku-4-5": (1.00, 5.00)}
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "content_filter",
           "tool_use": "tool_calls"}


class AnthropicModel(ModelAdapter):
    provider = "anthropic"
    supports_logprobs = False
    key_env = "ANTHROPIC_API_KEY"

    def __init__(self, spec: ModelSpec, *, max_concurrency: int = 16, retry=None, env=None):
        super().__init__(spec, max_concurrency=max_concurrency, retry=retry)
        env = os.environ if env is None else env
        try:
            import anthropic  # noqa: F401
        except ImportError:
            raise UsageError("model spec 'anthropic:...' needs the anthropic SDK: pip install 'safehub[anthropic]'") from None
        if not spec.model:
            raise UsageError(f"model spec {spec.display!r}: name the model, e.g. anthropic:claude-sonnet-4-5")
        self._api_key = env.get(self.key_env)
        if not self._api_key:
            raise UsageError(f"model spec {spec.display!r} needs an API key: set {self.key_env}")
        self.endpoint = Endpoint.from_base_url(spec.base_url or "https://api.anthropic.com")
        self.base_url = self.endpoint.url  # no credentials or query: safe to show
        self._client = None

    async def preflight(self) -> None:
        from safehub.models.openai_compat import OpenAICompatModel
        await OpenAICompatModel.preflight(self)  # the same TCP reachability check

    async def _generate(self, messages: list[Message], config: GenerateConfig,
                        tools: tuple[ToolSpec, ...] = ()) -> Completion:
        import anthropic
        if self._client is None:
            # The key goes as x-api-key, so the base URL's user:password can be basic auth beside it (a proxy's).
            headers = {"Authorization": self.endpoint.authorization} if self.endpoint.authorization else None
            self._client = anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self.base_url, max_retries=0,
                                                    default_headers=headers, default_query=self.endpoint.query or None)
        kwargs = messages_request(self.spec.model, messages, config, tools) | {"timeout": config.timeout_s}
        try:
            response = await self._client.messages.create(**kwargs)
        except anthropic.RateLimitError as exc:
            # Imported here, not at the top: it pulls in the openai SDK, which `safehub models` should not pay for.
            from safehub.models.openai_compat import _retry_after_s
            raise ModelCallError("rate_limit", "HTTP 429 rate limited", _retry_after_s(exc.response.headers)) from None
        except anthropic.APITimeoutError:
            raise ModelCallError("timeout", "request timed out") from None
        except anthropic.APIConnectionError as exc:
            raise ModelCallError("connection", f"connection failed: {type(exc.__cause__ or exc).__name__}") from None
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            raise ModelCallError("auth", f"HTTP {exc.status_code}: the API key was refused") from None
        except anthropic.APIStatusError as exc:
            kind = "server" if exc.status_code >= 500 or exc.status_code == 529 else "client"
            raise ModelCallError(kind, f"HTTP {exc.status_code} from the server") from None
        return completion_from_message(response)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def messages_request(model: str, messages: list[Message], config: GenerateConfig, tools: tuple[ToolSpec, ...] = ()) -> dict:
    """The Messages API arguments for a conversation: system text apart, tool turns as `tool_result` blocks."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
    request: dict = {"model": model, "messages": anthropic_turns(messages), "max_tokens": config.max_tokens}
    if system:
        request["system"] = system
    if config.stop:
        request["stop_sequences"] = list(config.stop)
    if tools:
        request["tools"] = [{"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
                            for tool in tools]
    return request


def anthropic_turns(messages: list[Message]) -> list[dict]:
    """User and assistant turns in Anthropic's shape; a turn without tools keeps its plain-text content."""
    turns: list[dict] = []
    merging = False  # the last turn is a user turn built from tool results, which later ones join
    for message in messages:
        role = message["role"]
        if role == "tool":
            block = {"type": "tool_result", "tool_use_id": message["tool_call_id"], "content": message["content"]}
            if merging:
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
                merging = True
        elif role == "user" and merging:
            turns[-1]["content"].append({"type": "text", "text": message["content"]})
        elif role == "assistant" and message.get("tool_calls"):
            blocks: list[dict] = [{"type": "text", "text": message["content"]}] if message["content"] else []
            blocks += [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                       for call in tool_calls_of(message)]
            turns.append({"role": "assistant", "content": blocks})
            merging = False
        elif role in ("user", "assistant"):
            turns.append({"role": role, "content": message["content"]})
            merging = False
    return turns


def completion_from_message(response) -> Completion:
    """A Messages API answer (the SDK's object): its text blocks joined, its `tool_use` blocks as tool calls."""
    text, tool_calls = "", []
    for block in response.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            text += block.text
        elif kind == "tool_use":
            arguments = block.input
            tool_calls.append(ToolCall(block.id, block.name, arguments) if isinstance(arguments, dict)
                              else ToolCall(block.id, block.name, {}, str(arguments)))
    return Completion(text=text, finish_reason=_FINISH.get(response.stop_reason, response.stop_reason),
                      input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens,
                      tool_calls=tool_calls)
