"""Anthropic's Messages API through its own SDK (optional extra: pip install 'safehub[anthropic]').

The SDK (2.x) no longer accepts `temperature` or `top_p`, so Anthropic models run with the
vendor's default sampling; the run's settings still record what was asked for.
"""

from __future__ import annotations

import os

from safehub.errors import UsageError
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError
from safehub.models.spec import Endpoint, ModelSpec

PRICES = {"claude-sonnet-4-5": (3.00, 15.00), "claude-opus-4-1": (15.00, 75.00), "claude-haiku-4-5": (1.00, 5.00)}
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "content_filter"}


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

    async def _generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        import anthropic
        if self._client is None:
            # The key goes as x-api-key, so the base URL's user:password can be basic auth beside it (a proxy's).
            headers = {"Authorization": self.endpoint.authorization} if self.endpoint.authorization else None
            self._client = anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self.base_url, max_retries=0,
                                                    default_headers=headers, default_query=self.endpoint.query or None)
        system = "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
        turns = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] in ("user", "assistant")]
        kwargs: dict = {"model": self.spec.model, "messages": turns, "max_tokens": config.max_tokens,
                        "timeout": config.timeout_s}
        if system:
            kwargs["system"] = system
        if config.stop:
            kwargs["stop_sequences"] = list(config.stop)
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
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        return Completion(text=text, finish_reason=_FINISH.get(response.stop_reason, response.stop_reason),
                          input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
