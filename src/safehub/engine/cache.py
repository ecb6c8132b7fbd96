"""The response cache as a wrapper around any adapter: the calls of a conversation trial (target, attacker,
judge) are answered from the store when the same model was asked the same thing with the same settings before.

    cache = ResponseCache(engine)
    attacker = CachedModel(load_model("openai:gpt-4o-mini"), cache, epoch=0)
    completion = await attacker.generate(messages, config)   # attempts == 0: served from the cache
    cache.flush()                                            # when the run ends

Keyed as the engine's one-call trials are (engine.plan.cache_key: spec, messages, settings, epoch), so a
second run of the same search pays for nothing it already has. An error is never cached. New answers are
written in batches: a conversation makes thousands of small calls, and a transaction each cost more than
the calls on a fast model. An answer not yet written when the process dies is only asked again; the
conversation itself is safe in its nodes (engine.nodes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from safehub.chat import ToolCall, ToolSpec
from safehub.engine.plan import cache_key
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter
from safehub.store.writes import cache_responses, cached_responses

BATCH_SIZE = 200


class ResponseCache:
    """Reads and batched writes of the store's response cache, shared by every wrapper of one evaluation."""

    def __init__(self, engine: Engine):
        self.engine = engine
        # SQLite answers a lookup faster than a thread hop takes; PostgreSQL waits on the network.
        self.is_inline = engine.dialect.name == "sqlite"
        self._unwritten: dict[str, Completion] = {}

    async def get(self, key: str) -> Completion | None:
        if key in self._unwritten:
            return _served(self._unwritten[key])
        found = cached_responses(self.engine, [key]) if self.is_inline else \
            await asyncio.to_thread(cached_responses, self.engine, [key])
        row = found.get(key)
        if row is None:
            return None
        return Completion(text=row["text"], finish_reason=row["finish_reason"], input_tokens=row["input_tokens"],
                          output_tokens=row["output_tokens"], first_token_logprobs=row["first_token_logprobs"],
                          tool_calls=[ToolCall.from_message(call) for call in row.get("tool_calls") or ()],
                          attempts=0)

    async def put(self, key: str, completion: Completion) -> None:
        self._unwritten[key] = completion
        if len(self._unwritten) >= BATCH_SIZE:
            batch, self._unwritten = self._unwritten, {}
            if self.is_inline:
                cache_responses(self.engine, batch)
            else:
                await asyncio.to_thread(cache_responses, self.engine, batch)

    def flush(self) -> None:
        batch, self._unwritten = self._unwritten, {}
        cache_responses(self.engine, batch)


def _served(completion: Completion) -> Completion:
    return Completion(text=completion.text, finish_reason=completion.finish_reason,
                      input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                      first_token_logprobs=completion.first_token_logprobs, tool_calls=list(completion.tool_calls),
                      attempts=0)


class CachedModel:
    def __init__(self, adapter: ModelAdapter, cache: ResponseCache, epoch: int):
        self.adapter = adapter
        self.spec = adapter.spec
        self.cache = cache
        self.epoch = epoch

    async def generate(self, messages: list[Message], config: GenerateConfig,
                       tools: Sequence[ToolSpec] | None = None) -> Completion:
        key = cache_key(str(self.spec), messages, config, self.epoch, tools or ())
        cached = await self.cache.get(key)
        if cached is not None:
            return cached
        completion = await self.adapter.generate(messages, config, tools)
        if completion.error is None:
            await self.cache.put(key, completion)
        return completion
