"""The guard's HTTP face: an OpenAI-compatible app that screens, routes and audits each request.

    gateway = Gateway(load_config(Path("guard.yaml")), audit=AuditLog(connect(None)))
    uvicorn.run(gateway.app(), host="127.0.0.1", port=8787)

Endpoints: POST /v1/chat/completions (also `stream: true`), GET /v1/models, GET /healthz, GET /metrics.
A request goes: key -> rate limit -> size limit -> JSON -> model name -> input screens -> upstream
(with failover) -> output screens -> answer; each step that says no answers the way OpenAI would
(401, 429, 413, 400, 404, 502), and a blocked request gets a 200 refusal carrying a `safehub` object.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safehub.errors import UsageError
from safehub.guard.audit import AuditLog
from safehub.guard.config import GuardConfig
from safehub.guard.keys import AuthThrottled, Client, ClientTable
from safehub.guard.metrics import Metrics
from safehub.guard.model_screen import ModelTier, TieredStream, unsure_screen_names
from safehub.guard.policy import Decision, Policy, StreamScreen
from safehub.guard.routing import Router
from safehub.guard.screens.base import Screen
from safehub.guard.shapes import ChatRequest, ChunkWriter, RequestError, Usage, completion_body, logprobs_body, parse_chat_request
from safehub.guard.upstreams import CircuitBreaker, Upstream, UpstreamError
from safehub.redact import redact

JSON = "application/json"
CHAT_PATH = "/v1/chat/completions"
_DRAIN_FACTOR = 16  # an oversized body up to this many times the limit is read and dropped, so the 413 arrives cleanly


def load_screens(names: list[str] | None) -> dict[str, Screen]:
    """The shipped screens by rule name: all of them, or those `names` asks for that exist."""
    if names == []:
        return {}
    from safehub.guard.screens import SCREENS, load_screen

    wanted = list(SCREENS) if names is None else [n for n in names if n in SCREENS]
    return {name: load_screen(name) for name in wanted}


class Gateway:
    def __init__(self, config: GuardConfig, *, screens: dict[str, Screen] | None = None, audit: AuditLog | None = None,
                 source: str = "guard.yaml"):
        self.config = config
        self.metrics = Metrics()
        self.upstreams = []
        for index, upstream in enumerate(config.upstreams):
            try:
                self.upstreams.append(Upstream(upstream, CircuitBreaker(config.breaker.failures, config.breaker.cooldown_s)))
            except UsageError as exc:
                raise UsageError(f"{source}: upstreams[{index}].spec: {exc}") from None
        if screens is None:
            screens = load_screens(None if config.rules is None else [*config.rules, *unsure_screen_names(config.rules)])
        self.policy = Policy.from_config(config.rules, screens, self.metrics, source)
        self.model_tier = ModelTier.from_config(config.rules, screens, self.metrics, breaker=config.breaker,
                                                source=source)
        self.router = Router(self.upstreams, strategy=config.routing.strategy, metrics=self.metrics)
        self.clients = ClientTable(config.clients, failed_auth_per_s=config.limits.failed_auth.requests_per_s,
                                   failed_auth_burst=config.limits.failed_auth.burst_or_default)
        self.models = set(config.models)
        self.audit: AuditLog | None = None
        if audit is not None:
            self.attach_audit(audit)
        self._refusal = config.refusal
        self._log_text = config.audit.log_text

    def describe(self) -> str:
        rules = [f"{r.name}={r.action}@{r.threshold:g}" for r in self.policy.input_rules + self.policy.output_rules]
        rules += self.model_tier.describe()
        return (f"models {', '.join(sorted(self.models))}; upstreams {', '.join(u.name for u in self.upstreams)}; "
                f"rules {', '.join(rules) or 'none'}")

    def attach_audit(self, audit: AuditLog) -> None:
        self.audit = audit
        self.metrics.audit_counts = lambda: dict(audit.counts)

    # ---- the app -------------------------------------------------------------------------------

    def app(self) -> ASGIApp:
        """The ASGI app. Starlette, FastAPI's own base, without FastAPI's per-request layers (telemetry, body
        limit, exit stack: about 5% of the guard's CPU per request, measured) — the guard validates no models.
        POST /v1/chat/completions, the one hot route, goes straight to its handler (`_chat_asgi`), past
        Starlette's router and its two middleware layers; every other request goes through Starlette."""
        @asynccontextmanager
        async def lifespan(_app):
            if self.audit is not None:
                self.audit.start()
            gc.freeze()  # start-up objects never need collecting: keeps later collections (and tail latency) short
            checks = [asyncio.create_task(self._preflight(u)) for u in self.upstreams]
            try:
                yield
            finally:
                for check in checks:
                    check.cancel()
                for upstream in self.upstreams:
                    await upstream.aclose()
                await self.model_tier.aclose()
                if self.audit is not None:
                    await asyncio.to_thread(self.audit.close)

        routes = [Route(CHAT_PATH, self.chat_completions, methods=["POST"]),
                  Route("/v1/models", self.list_models, methods=["GET"]),
                  Route("/v1/models/{model:path}", self.get_model, methods=["GET"]),
                  Route("/healthz", self.healthz, methods=["GET"]),
                  Route("/metrics", self.metrics_text, methods=["GET"])]
        starlette_app = Starlette(routes=routes, lifespan=lifespan,
                                  exception_handlers={HTTPException: self._http_error, Exception: self._internal_error})

        async def guard_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == CHAT_PATH and scope["method"] == "POST":
                await self._chat_asgi(scope, receive, send)
            else:
                await starlette_app(scope, receive, send)

        return guard_app

    async def _chat_asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`chat_completions` as an ASGI app, with what Starlette's layers did for it: an unexpected error is
        answered with a 500 (when no response has started) and re-raised for the server to log."""
        is_started = False

        async def sender(message: Message) -> None:
            nonlocal is_started
            is_started = is_started or message["type"] == "http.response.start"
            await send(message)

        request = Request(scope, receive, send)
        try:
            response = await self.chat_completions(request)
            await response(scope, receive, sender)
        except Exception as exc:
            if not is_started:
                await (await self._internal_error(request, exc))(scope, receive, send)
            raise

    async def _preflight(self, upstream: Upstream) -> None:
        """Load local weights / check reachability in the background; a failure is a warning, not a stop."""
        try:
            await upstream.adapter.preflight()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            print(f"safehub guard: warning: upstream {upstream.name}: {redact(str(exc))}", file=sys.stderr)

    def _error(self, exc: RequestError) -> Response:
        self.metrics.count_request(exc.status)
        return Response(exc.body(), status_code=exc.status, media_type=JSON, headers=exc.headers)

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        return self._error(RequestError(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}",
                                        code="not_found" if exc.status_code == 404 else None))

    async def _internal_error(self, request: Request, exc: Exception) -> Response:
        print(f"safehub guard: internal error on {request.url.path}: {type(exc).__name__}: {redact(str(exc))}",
              file=sys.stderr)
        return self._error(RequestError(500, "the guard failed on this request; see its log", type="server_error"))

    async def healthz(self, request: Request) -> Response:
        states = {u.name: u.breaker.state for u in self.upstreams}
        status = "ok" if any(s != "open" for s in states.values()) else "degraded"
        return Response(json.dumps({"status": status, "upstreams": states}), media_type=JSON)

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def list_models(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
        except RequestError as exc:
            return self._error(exc)
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "safehub-guard"} for name in sorted(self.models)]
        return Response(json.dumps({"object": "list", "data": data}), media_type=JSON)

    async def get_model(self, request: Request) -> Response:
        try:
            await self._authenticate(request)
            name = request.path_params["model"]
            if name not in self.models:
                raise RequestError(404, f"The model '{name}' does not exist", param="model", code="model_not_found")
        except RequestError as exc:
            return self._error(exc)
        return Response(json.dumps({"id": name, "object": "model", "created": 0, "owned_by": "safehub-guard"}),
                        media_type=JSON)

    # ---- admission -----------------------------------------------------------------------------

    async def _authenticate(self, request: Request) -> Client | None:
        if not self.clients.is_required:
            return None
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise RequestError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.",
                               code="missing_api_key")
        try:
            client = await self.clients.authenticate(key, request.client.host if request.client else "")
        except AuthThrottled as exc:
            raise RequestError(429, str(exc), type="requests", code="rate_limit_exceeded",
                               headers={"retry-after": str(max(1, math.ceil(exc.retry_after_s)))}) from None
        if client is None:
            raise RequestError(401, "Incorrect API key provided.", code="invalid_api_key")
        return client

    @staticmethod
    def _rate_limit(client: Client | None) -> None:
        if client is None or client.bucket is None:
            return
        wait_s = client.bucket.take()
        if wait_s > 0:
            raise RequestError(429, f"Rate limit reached for {client.name}: {client.bucket.rate_per_s:g} requests/s; "
                                    f"retry after {wait_s:.2f}s", type="requests", code="rate_limit_exceeded",
                               headers={"retry-after": str(max(1, math.ceil(wait_s))),
                                        "retry-after-ms": str(max(1, math.ceil(wait_s * 1000)))})

    async def _read_body(self, request: Request) -> bytes:
        limit = self.config.limits.max_request_bytes
        too_large = RequestError(413, f"the request body is larger than the guard's limit of {limit} bytes",
                                 code="request_too_large")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            if int(length) <= limit * _DRAIN_FACTOR:
                async for _ in request.stream():
                    pass
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    # ---- chat completions ----------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> Response:
        started = time.perf_counter()
        client = None
        try:
            client = await self._authenticate(request)
            self._rate_limit(client)
            raw = await self._read_body(request)
            chat = parse_chat_request(raw, default_max_tokens=self.config.limits.default_max_tokens)
            if chat.model not in self.models:
                raise RequestError(404, f"The model '{chat.model}' does not exist or you do not have access to it.",
                                   param="model", code="model_not_found")
        except RequestError as exc:
            return self._error(exc)
        except ClientDisconnect:
            return Response(status_code=499)
        request_id = "chatcmpl-" + os.urandom(12).hex()
        created = int(time.time())
        verdict = self.policy.screen_input(chat.messages)
        if self.model_tier.input_screens:
            verdict = await self.model_tier.screen_input(chat.messages, verdict)
        self.policy.count(verdict)
        if verdict.action == "block":
            self._audit(client, chat, request_id, verdict, None, started, 200)
            self.metrics.overhead.observe(time.perf_counter() - started)
            self.metrics.count_request(200)
            headers = {"x-safehub-request-id": request_id}
            if chat.is_stream:
                return StreamingResponse(self._refusal_events(chat, request_id, created, verdict),
                                         media_type="text/event-stream", headers=headers)
            body = completion_body(request_id, created, chat.model, self._refusal, "content_filter",
                                   Usage(), safehub=verdict.safehub())
            return Response(json.dumps(body), media_type=JSON, headers=headers)
        headers = {"x-safehub-request-id": request_id}
        if verdict.flagged:
            headers["x-safehub-flag"] = verdict.flag_header()
        if chat.is_stream:
            return await self._stream(chat, client, request_id, created, verdict, headers, started)
        try:
            routed = await self.router.complete(chat.messages, chat.generate)
        except RequestError as exc:
            self._audit(client, chat, request_id, verdict, None, started, exc.status)
            return self._error(exc)
        completion = routed.result
        text, finish_reason = completion.text, completion.finish_reason
        if len(text) > self.config.limits.max_response_chars:
            text, finish_reason = text[: self.config.limits.max_response_chars], "length"
        answer = self.policy.screen_output(chat.messages, text) if self.policy.output_rules else None
        if self.model_tier.output_screens:
            answer = await self.model_tier.screen_output(chat.messages, text, answer or Decision("output"))
        safehub = None
        if answer is not None:
            self.policy.count(answer)
            if answer.action == "block":
                text, finish_reason, safehub = self._refusal, "content_filter", answer.safehub()
            elif answer.flagged:
                headers["x-safehub-flag"] = ", ".join(filter(None, [headers.get("x-safehub-flag"), answer.flag_header()]))
        self._audit(client, chat, request_id, verdict, routed.upstream.name, started, 200, attempts=routed.attempts)
        if answer is not None:
            self._audit(client, chat, request_id, answer, routed.upstream.name, started, 200, attempts=routed.attempts,
                        text=completion.text)
        body = completion_body(request_id, created, chat.model, text, finish_reason,
                               Usage(completion.input_tokens, completion.output_tokens),
                               logprobs=logprobs_body(completion.first_token_logprobs) if chat.generate.top_logprobs
                               and safehub is None else None, safehub=safehub)
        encoded = json.dumps(body)
        self.metrics.overhead.observe(time.perf_counter() - started - routed.upstream_s)
        self.metrics.count_request(200)
        return Response(encoded, media_type=JSON, headers=headers)

    async def _refusal_events(self, chat: ChatRequest, request_id: str, created: int, verdict: Decision):
        writer = ChunkWriter(request_id, created, chat.model)
        yield writer.role()
        yield writer.content(self._refusal)
        yield writer.finish("content_filter", safehub=verdict.safehub())
        if chat.include_usage:
            yield writer.usage(Usage())
        yield ChunkWriter.DONE

    async def _stream(self, chat: ChatRequest, client: Client | None, request_id: str, created: int,
                      verdict: Decision, headers: dict, started: float) -> Response:
        try:
            routed = await self.router.open_stream(chat.messages, chat.generate, include_usage=chat.include_usage)
        except RequestError as exc:
            self._audit(client, chat, request_id, verdict, None, started, exc.status)
            return self._error(exc)
        self.metrics.count_request(200)
        opened_overhead_s = time.perf_counter() - started - routed.upstream_s
        return StreamingResponse(self._events(chat, client, request_id, created, verdict, routed, started,
                                              opened_overhead_s),
                                 media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"})

    async def _events(self, chat, client, request_id, created, verdict, routed, started, opened_overhead_s):
        writer = ChunkWriter(request_id, created, chat.model)
        stream = routed.result
        screen = StreamScreen(self.policy, chat.messages, check_every=self.config.stream_screening.check_every_chars)
        tiered = TieredStream(screen, self.model_tier, chat.messages) if self.model_tier.output_screens else None
        limit = self.config.limits.max_response_chars
        sent = 0
        finish_reason = None
        blocked: Decision | None = None
        yield writer.role()
        try:
            async for piece in stream:
                release, blocked = screen.feed(piece) if tiered is None else await tiered.feed(piece)
                if release:
                    release = release[: limit - sent]
                    sent += len(release)
                    yield writer.content(release)
                if blocked is not None:
                    break
                if sent >= limit:
                    finish_reason = "length"
                    break
            else:
                release, blocked = screen.finish() if tiered is None else await tiered.finish()
                if release:
                    release = release[: limit - sent]
                    sent += len(release)
                    yield writer.content(release)
        except UpstreamError as exc:
            self.metrics.upstream_errors[(routed.upstream.name, exc.kind)] += 1
            self._audit(client, chat, request_id, verdict, routed.upstream.name, started, 502, attempts=routed.attempts)
            yield ChunkWriter.error(f"the upstream failed while streaming: {exc}", code="upstream_stream_failed")
            return
        finally:
            await stream.aclose()
        if blocked is not None:
            yield writer.content(("\n\n" if sent else "") + self._refusal)
            yield writer.finish("content_filter", safehub=blocked.safehub())
        else:  # headers are long gone by now, so a flagged answer says so in its last chunk
            flagged = screen.decision.safehub() if screen.decision.action == "flag" else None
            yield writer.finish(finish_reason or stream.finish_reason or "stop", safehub=flagged)
        if chat.include_usage:
            yield writer.usage(stream.usage or Usage())
        yield ChunkWriter.DONE
        self.metrics.overhead.observe(opened_overhead_s + (tiered or screen).screen_ms / 1000.0)
        self._audit(client, chat, request_id, verdict, routed.upstream.name, started, 200, attempts=routed.attempts)
        if self.policy.output_rules or tiered is not None:
            self.policy.count(screen.decision)
            self._audit(client, chat, request_id, screen.decision, routed.upstream.name, started, 200,
                        attempts=routed.attempts, text=screen.text)

    # ---- audit ---------------------------------------------------------------------------------

    def _audit(self, client: Client | None, chat: ChatRequest, request_id: str, decision: Decision, upstream: str | None,
               started: float, status: int, *, attempts: int = 0, text: str | None = None) -> None:
        if self.audit is None:
            return
        details = {"request_id": request_id, "model": chat.model, "status": status, "attempts": attempts,
                   "screen_ms": round(decision.screen_ms, 3),
                   "scores": {rule: round(score, 4) for rule, score in decision.scores.items()}}
        if decision.flagged:
            details["flagged"] = [rule for rule, _ in decision.flagged]
        if decision.model_screens:  # verdicts, categories, latency: no text, so audited without log_text too
            details["model_screens"] = decision.model_screens
        if self._log_text:  # the screens' notes quote the text, so they follow the same switch
            details["messages"] = chat.messages
            if text is not None:
                details["text"] = text
            if decision.details:
                details["screen_details"] = decision.details
        self.audit.record({"created_at": datetime.now(timezone.utc), "client": client.name if client else None,
                           "stage": decision.stage, "rule": decision.rule, "score": decision.score,
                           "action": decision.action, "upstream": upstream,
                           "latency_ms": round((time.perf_counter() - started) * 1000.0, 3), "details": details})
