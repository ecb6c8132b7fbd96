"""A loopback guard server: OpenAI-compatible chat completions answered in Llama Guard's output format.

    python -m safehub.testing.mock_llama_guard --port 0 --rule 'pipe bomb=unsafe\\nS9' --default safe
    # prints "listening on http://127.0.0.1:PORT/v1"; GET /requests lists the request bodies received
    python -m safehub.testing.mock_llama_guard --port 0 --delay-ms 50     # a slow guard
    python -m safehub.testing.mock_llama_guard --port 0 --status 500      # a broken one

    async with serve_mock_llama_guard([("pipe bomb", "unsafe\\nS9")]) as server:   # in a test's event loop
        grader = LlamaGuardGrader(server.spec())
        server.requests                                                         # the bodies, in order

Like vLLM, llama.cpp server or Ollama serving Llama Guard 3, it applies the guard's chat template itself, so it
takes the plain conversation and answers HTTP 400 to what that template rejects: a role other than user or
assistant, or turns that do not alternate from a user turn. The reply is that of the first rule whose pattern is
found in the conversation, else the default; a reply longer than the request's `max_tokens` is cut there with
finish_reason "length", as a real server does. `delay_ms` holds every answer back that long (a guard model's
latency); `status` answers every request with that HTTP error instead (each is still counted in `requests`).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from safehub.testing.mock_openai import serve_forever

_TOKEN = re.compile(r"\w+|\W")  # near enough to a tokenizer: "unsafe\nS1,S10" is five tokens
_TEMPLATE_ERROR = "Conversation roles must alternate user/assistant/user/assistant/..."


@dataclass
class MockGuard:
    rules: list[tuple[re.Pattern, str]]
    default: str = "safe"
    base_url: str = ""
    requests: list[dict] = field(default_factory=list)
    delay_ms: float = 0.0
    status: int = 200

    def spec(self, model: str = "llama-guard3") -> str:
        return f"openai-compat:{model}@{self.base_url}"

    def reply_for(self, conversation: str) -> str:
        return next((reply for pattern, reply in self.rules if pattern.search(conversation)), self.default)


GUARD = web.AppKey("guard", MockGuard)


def _template_problem(messages: object) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role != ("user" if index % 2 == 0 else "assistant") or not isinstance(message.get("content"), str):
            return _TEMPLATE_ERROR
    return None


async def chat_completions(request: web.Request) -> web.Response:
    guard = request.app[GUARD]
    body = await request.json()
    guard.requests.append(body)
    if guard.delay_ms:
        await asyncio.sleep(guard.delay_ms / 1000.0)
    if guard.status != 200:
        return web.json_response({"error": {"message": f"mock guard answers HTTP {guard.status}", "type": "server_error",
                                            "code": guard.status}}, status=guard.status)
    messages = body.get("messages")
    problem = _template_problem(messages)
    if problem is not None:  # vLLM's answer when the chat template raises
        return web.json_response({"error": {"message": problem, "type": "BadRequestError", "code": 400}}, status=400)
    tokens = _TOKEN.findall(guard.reply_for("\n".join(m["content"] for m in messages)))
    max_tokens = body.get("max_tokens") or len(tokens)
    text, finish_reason = "".join(tokens[:max_tokens]), "length" if len(tokens) > max_tokens else "stop"
    prompt_tokens = sum(len(_TOKEN.findall(m["content"])) for m in messages)
    return web.json_response({
        "id": "chatcmpl-guard", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "llama-guard3"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": min(len(tokens), max_tokens),
                  "total_tokens": prompt_tokens + min(len(tokens), max_tokens)}})


async def list_models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": "llama-guard3", "object": "model", "owned_by": "safehub"}]})


async def received(request: web.Request) -> web.Response:
    return web.json_response(request.app[GUARD].requests)


def build_app(guard: MockGuard) -> web.Application:
    app = web.Application()
    app[GUARD] = guard
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/requests", received)
    return app


@asynccontextmanager
async def serve_mock_llama_guard(rules: Sequence[tuple[str, str]] = (), default: str = "safe", *,
                                 host: str = "127.0.0.1", delay_ms: float = 0.0,
                                 status: int = 200) -> AsyncIterator[MockGuard]:
    """Serve on a free loopback port in the running event loop until the block ends."""
    guard = MockGuard([(re.compile(pattern), reply) for pattern, reply in rules], default, delay_ms=delay_ms,
                      status=status)
    runner = web.AppRunner(build_app(guard), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        guard.base_url = f"http://{host}:{runner.addresses[0][1]}/v1"
        yield guard
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rule", action="append", default=[], metavar="REGEX=REPLY",
                        help="reply REPLY (\\n for a new line) when REGEX is found in the conversation; repeatable")
    parser.add_argument("--default", default="safe", help="the reply when no rule matches")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="hold every answer back this long")
    parser.add_argument("--status", type=int, default=200, help="answer every request with this HTTP status instead")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock serves loopback only")
    rules = []
    for rule in args.rule:
        pattern, is_split, reply = rule.partition("=")
        if not is_split:
            parser.error(f"--rule {rule!r}: write REGEX=REPLY")
        rules.append((re.compile(pattern), reply.replace("\\n", "\n")))
    if args.delay_ms < 0 or not 200 <= args.status <= 599:
        parser.error("--delay-ms must be 0 or more and --status an HTTP status (200..599)")
    guard = MockGuard(rules, args.default.replace("\\n", "\n"), delay_ms=args.delay_ms, status=args.status)

    serve_forever(build_app(guard), args.host, args.port)


if __name__ == "__main__":
    main()
