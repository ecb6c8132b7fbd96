"""The response cache as a wrapper around any adapter: the calls of a conversation trial (target, attacker,
judge) are answered from the store when the same model was asked the same thing with the same settings before.

    attacker = CachedModel(load_model("openai:gpt-4o-mini"), engine, epoch=0)
    completion = await attacker.generate(messages, config)   # attempts == 0: served from the cache

Keyed as the engine's one-call trials are (engine.plan.cache_key: spec, messages, settings, epoch), so a
second run of the same search pays for nothing it already has. An error is never cached.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from safehub.engine.plan import cache_key
from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter
from safehub.store.writes import cache_response, cached_responses


class CachedModel:
    def __init__(self, adapter: ModelAdapter, engine: Engine, epoch: int):
        self.adapter = adapter
        self.spec = adapter.spec
        self.engine = engine
        self.epoch = epoch

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        key = cache_key(str(self.spec), messages, config, self.epoch)
        row = (await asyncio.to_thread(cached_responses, self.engine, [key])).get(key)
        if row is not None:
            return Completion(text=row["text"], finish_reason=row["finish_reason"], input_tokens=row["input_tokens"],
                              output_tokens=row["output_tokens"], first_token_logprobs=row["first_token_logprobs"],
                              attempts=0)
        completion = await self.adapter.generate(messages, config)
        if completion.error is None:
            await asyncio.to_thread(cache_response, self.engine, key, completion)
        return completion
