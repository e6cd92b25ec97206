"""Every request counted, timed and logged by its route template (not the raw path),
under a request id."""

from __future__ import annotations

import itertools
import logging
import time
import uuid

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

from app.infra.logs import request_id as current_request_id
from app.infra.web.problems import PROBLEM_JSON, problem_body
from app.infra.web.services import Services

access_log = logging.getLogger("app.access")


class RequestMetrics:
    """Counts, times and logs every request by its route template (not the raw path), under
    a request id: the caller's `X-Request-Id` when it sends one, else a new one, echoed in
    the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500
        request_id = _request_id(scope)
        app = self.app if _header_bytes(scope) <= MAX_HEADER_BYTES else _headers_too_large

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        token = current_request_id.set(request_id)  # every record logged from here carries it
        try:
            await app(scope, receive, send_wrapper)
        finally:
            services: Services = scope["litestar_app"].state.services
            route = str(scope.get("path_template") or "unmatched")
            method = str(scope.get("method", "GET"))
            elapsed = time.perf_counter() - started
            services.metrics.observe_request(method, route, status_code, elapsed)
            access_log.info(
                "%s %s %d %.1fms",
                method,
                scope.get("path", route),
                status_code,
                elapsed * 1000,
                extra={"route": route, "status": status_code, "duration_ms": round(elapsed * 1000, 2)},
            )
            current_request_id.reset(token)


# All of a request's header names and values together; past this, 431 before anything
# (the guard, a token's parsing) reads them.
MAX_HEADER_BYTES = 16 * 1024
_too_large = msgspec.json.encode(problem_body(431, f"the request's headers are larger than {MAX_HEADER_BYTES} bytes together"))


def _header_bytes(scope: Scope) -> int:
    return sum(len(name) + len(value) for name, value in scope.get("headers", ()))


async def _headers_too_large(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(_too_large)).encode())]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 431, "headers": headers}
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": _too_large, "more_body": False}
    await send(start)
    await send(body)


# A new request id is this process's random prefix and a counter: unique across replicas and
# restarts like a uuid4, without a call to os.urandom per request (a measurable share of a small GET).
_request_ids = itertools.count()
_request_id_prefix = uuid.uuid4().hex[:16]


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and 0 < len(value) <= 200:
            return value.decode("latin-1")
    return f"{_request_id_prefix}{next(_request_ids):016x}"
