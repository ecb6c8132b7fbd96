"""A loopback OpenAI-compatible server with latency and fault injection, for tests, dry runs and benchmarks.

    python -m safehub.testing.mock_openai --port 0 --latency-ms 200 --fault-rate 0.3
    # prints "listening on http://127.0.0.1:PORT/v1" and serves POST /v1/chat/completions

Faults are drawn per request from a seeded generator, in equal shares: `429` (with Retry-After),
`500`, `hang` (no answer for --hang-s, past the client's timeout) and `truncated` (a 200 whose
JSON body is cut off). `stream: true` gets the answer as server-sent events, a word per chunk.
A user message containing `[fail:KIND]` (500, 429, auth, hang, truncated)
always gets that fault, so tests can check attribution. `GET /stats` reports what was served
(and, with --record-requests, every request body as received).

Tool calls: when a request offers `tools` and its last user message holds `[call:NAME]ARGS[/call]` (any
number of them), the answer calls tool NAME with ARGS as its argument text, as written (so malformed JSON can
be sent on purpose), finish reason "tool_calls". When the last message is a tool result, the answer is
`tool result ID: CONTENT`. `POST /v1/messages` does the same in Anthropic's `tool_use`/`tool_result` shape.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter

from aiohttp import web

FAULT_KINDS = ("429", "500", "hang", "truncated")


class MockState:
    def __init__(self, *, reply: str, latency_ms: float, fault_rate: float, hang_s: float, retry_after_s: float,
                 seed: int, require_key: str | None):
        self.reply = reply
        self.latency_ms = latency_ms
        self.fault_rate = fault_rate
        self.hang_s = hang_s
        self.retry_after_s = retry_after_s
        self.random = random.Random(seed)
        self.require_key = require_key
        self.served: Counter[str] = Counter()
        self.auth_headers: Counter[str] = Counter()
        self.arrivals: dict[str, list[float]] = {}  # prompt -> arrival times, for backoff checks
        self.record_arrivals = False
        self.requests: list[dict] = []  # bodies as received, with --record-requests
        self.record_requests = False


_CALL = re.compile(r"\[call:([A-Za-z0-9_-]+)\](.*?)\[/call\]", re.DOTALL)


def _text_of(content: object) -> str:
    """A message's text: a string, or the text blocks of a list of content blocks."""
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") == "text")
    return content if isinstance(content, str) else ""


def _completion(model: str, text: str, prompt_tokens: int, logprobs: bool, top_logprobs: int) -> dict:
    choice: dict = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    if logprobs:
        first = text.split()[0] if text.split() else ""
        alternatives = [{"token": first, "logprob": -0.05, "bytes": None}]
        alternatives += [{"token": f"alt{i}", "logprob": -3.0 - i, "bytes": None} for i in range(max(0, top_logprobs - 1))]
        choice["logprobs"] = {"content": [{"token": first, "logprob": -0.05, "bytes": None,
                                           "top_logprobs": alternatives}]}
    completion_tokens = len(text.split())
    return {"id": "chatcmpl-mock", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [choice], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                           "total_tokens": prompt_tokens + completion_tokens}}


def _error(status: int, message: str, kind: str, headers: dict | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "code": None, "param": None}}
    return web.json_response(body, status=status, headers=headers)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state: MockState = request.app["state"]
    authorization = request.headers.get("Authorization", "")
    state.auth_headers[authorization] += 1
    if state.require_key is not None and authorization != f"Bearer {state.require_key}":
        state.served["auth"] += 1
        return _error(401, "invalid api key", "invalid_request_error")
    body = await request.json()
    if state.record_requests:
        state.requests.append(body)
    messages = body.get("messages") or []
    user = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    if state.record_arrivals:
        state.arrivals.setdefault(user, []).append(time.monotonic())
    if state.latency_ms:
        await asyncio.sleep(state.latency_ms / 1000.0)
    forced = next((kind for kind in ("500", "429", "auth", "hang", "truncated") if f"[fail:{kind}]" in user), None)
    fault = forced or (state.random.choice(FAULT_KINDS) if state.random.random() < state.fault_rate else None)
    if fault is not None:
        state.served[fault] += 1
    if fault == "auth":
        return _error(401, "invalid api key", "invalid_request_error")
    if fault == "429":
        return _error(429, "rate limited", "rate_limit_error", {"Retry-After": f"{state.retry_after_s:g}"})
    if fault == "500":
        return _error(500, "internal error", "server_error")
    if fault == "hang":
        await asyncio.sleep(state.hang_s)
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    reply = (f"tool result {last.get('tool_call_id')}: {_text_of(last.get('content'))}" if last.get("role") == "tool"
             else state.reply)
    payload = _completion(body.get("model", "mock"), reply, prompt_tokens, bool(body.get("logprobs")),
                          int(body.get("top_logprobs") or 0))
    calls = _CALL.findall(user) if body.get("tools") and last.get("role") == "user" else []
    if calls:
        payload["choices"][0]["message"] |= {"content": None, "tool_calls": [
            {"id": f"call_{len(messages)}_{index}", "type": "function", "function": {"name": name, "arguments": arguments}}
            for index, (name, arguments) in enumerate(calls)]}
        payload["choices"][0]["finish_reason"] = "tool_calls"
    if fault == "truncated":
        text = json.dumps(payload)
        return web.Response(text=text[: len(text) // 2], content_type="application/json")
    if fault is None:
        state.served["ok"] += 1
    if body.get("stream"):
        return await _stream(request, payload, bool((body.get("stream_options") or {}).get("include_usage")))
    return web.json_response(payload)


async def _stream(request: web.Request, payload: dict, include_usage: bool) -> web.StreamResponse:
    """The same answer as server-sent events in OpenAI's chunk format, one word per chunk, then [DONE]."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    head = {key: payload[key] for key in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    text = payload["choices"][0]["message"]["content"]
    deltas = [{"role": "assistant", "content": ""}] + [{"content": word} for word in re.findall(r"\s*\S+|\s+$", text)]
    for delta in deltas:
        chunk = head | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    chunk = head | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    if include_usage:
        await response.write(f"data: {json.dumps(head | {'choices': [], 'usage': payload['usage']})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def anthropic_messages(request: web.Request) -> web.Response:
    """Anthropic's Messages API shape, so the native adapter runs over real HTTP too."""
    state: MockState = request.app["state"]
    state.auth_headers[request.headers.get("x-api-key") or request.headers.get("Authorization", "")] += 1
    body = await request.json()
    if state.record_requests:
        state.requests.append(body)
    turns = body.get("messages") or []
    user = next((_text_of(m.get("content")) for m in reversed(turns) if m.get("role") == "user"), "")
    if "[fail:429]" in user:
        state.served["429"] += 1
        return web.json_response({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                                 status=429, headers={"retry-after": f"{state.retry_after_s:g}"})
    state.served["ok"] += 1
    last = turns[-1].get("content") if turns and isinstance(turns[-1], dict) else None
    results = [block for block in last if isinstance(block, dict) and block.get("type") == "tool_result"] \
        if isinstance(last, list) else []
    reply = "; ".join(f"tool result {block.get('tool_use_id')}: {block.get('content')}" for block in results) \
        or state.reply
    content = [{"type": "text", "text": reply}]
    calls = _CALL.findall(user) if body.get("tools") and not results else []
    content += [{"type": "tool_use", "id": f"toolu_{len(turns)}_{index}", "name": name, "input": json.loads(arguments)}
                for index, (name, arguments) in enumerate(calls)]
    return web.json_response({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": body.get("model", "mock"),
        "content": content, "stop_reason": "tool_use" if calls else "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": len(str(body.get("system", "")).split()) + len(user.split()),
                  "output_tokens": len(reply.split())}})


async def list_models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": "mock", "object": "model", "owned_by": "safehub"}]})


async def stats(request: web.Request) -> web.Response:
    state: MockState = request.app["state"]
    return web.json_response({"served": dict(state.served), "auth_headers": dict(state.auth_headers),
                              "arrivals": state.arrivals, "requests": state.requests})


def build_app(state: MockState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["state"] = state
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat_completions)  # Azure's path
    app.router.add_post("/v1/messages", anthropic_messages)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/stats", stats)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--reply", default="I can't help with that.")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--hang-s", type=float, default=5.0)
    parser.add_argument("--retry-after-s", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--require-key", default=None, help="answer 401 unless this bearer key is sent")
    parser.add_argument("--record-arrivals", action="store_true")
    parser.add_argument("--record-requests", action="store_true", help="keep every request body for GET /stats")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock serves loopback only")
    state = MockState(reply=args.reply, latency_ms=args.latency_ms, fault_rate=args.fault_rate, hang_s=args.hang_s,
                      retry_after_s=args.retry_after_s, seed=args.seed, require_key=args.require_key)
    state.record_arrivals = args.record_arrivals
    state.record_requests = args.record_requests

    serve_forever(build_app(state), args.host, args.port)


def serve_forever(app: web.Application, host: str, port: int) -> None:
    """Serve `app` until interrupted, after printing the line tests wait for: `listening on http://HOST:PORT/v1`."""
    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=True)
        await runner.setup()
        await web.TCPSite(runner, host, port, backlog=4096).start()
        print(f"listening on http://{host}:{runner.addresses[0][1]}/v1", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
