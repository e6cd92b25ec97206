"""create_app(): routes, error mapping, request metrics and the lifespan that runs
the pool, the event bus bridge and this process's share of the subscriptions."""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import anyio
import msgspec
from litestar import Litestar, MediaType, Request, Response, get
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app import subscribers
from app.commands.consumers import http as consumers_commands
from app.commands.delivery import http as delivery_commands
from app.commands.kitchen import http as kitchen_commands
from app.commands.orders import http as orders_commands
from app.commands.reservations import http as reservations_commands
from app.commands.restaurants import http as restaurants_commands
from app.config import Settings
from app.infra import status
from app.infra.bus import EventBus
from app.infra.clock import Clock, SystemClock
from app.infra.consistency import ViewPositions
from app.infra.db import create_pool, embedded_server_url
from app.infra.idempotency import StoredProblem
from app.infra.metrics import Metrics
from app.infra.migrations import current_revision, head_revision
from app.infra.problems import Problem
from app.infra.subscriptions import SubscriptionHost
from app.infra.web import Services, ServicesDep
from app.queries.available_restaurants import http as available_restaurants
from app.queries.order_details import http as order_details
from app.queries.order_history import http as order_history
from app.queries.reservation_history import http as reservation_history
from app.queries.room_popularity import http as room_popularity
from app.queries.rooms import http as rooms
from app.queries.user_reservations import http as user_reservations

log = logging.getLogger(__name__)
access_log = logging.getLogger("app.access")

PROBLEM_JSON = "application/problem+json"
_encoder = msgspec.json.Encoder()


def _problem(status: int, title: str, detail: str, instance: str, **extra: Any) -> Response[bytes]:
    body = {
        "type": "about:blank" if status >= 500 else f"/problems/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return Response(_encoder.encode(body), status_code=status, media_type=PROBLEM_JSON)


def on_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return Response(
        _encoder.encode(exc.to_dict(request.url.path)),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
    )


def on_stored_problem(_: Request[Any, Any, Any], exc: StoredProblem) -> Response[bytes]:
    return Response(exc.outcome.body, status_code=exc.outcome.status, media_type=PROBLEM_JSON)


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    errors = [
        {"field": e.get("key") or e.get("source") or "body", "message": e.get("message", "")}
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    return _problem(
        400,
        "Invalid request",
        "the request does not match the schema",
        request.url.path,
        errors=errors,
    )


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    title = HTTPStatus(exc.status_code).phrase if exc.status_code in _STATUSES else "Error"
    return _problem(exc.status_code, title, exc.detail, request.url.path)


_STATUSES = {s.value for s in HTTPStatus}


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        500,
        "Internal server error",
        "the server failed; nothing was acknowledged",
        request.url.path,
    )


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

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
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
                extra={"request_id": request_id, "route": route, "status": status_code, "duration_ms": round(elapsed * 1000, 2)},
            )


# A new request id is this process's random prefix and a counter: unique across replicas and
# restarts like a uuid4, without a call to os.urandom per request (3% of a small GET).
_request_ids = itertools.count()
_request_id_prefix = uuid.uuid4().hex[:16]


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and 0 < len(value) <= 200:
            return value.decode("latin-1")
    return f"{_request_id_prefix}{next(_request_ids):016x}"


@get("/health/live", tags=["operations"], summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/health/ready",
    tags=["operations"],
    summary="Database reachable, migrations at head, no stalled subscription",
)
async def ready(services: ServicesDep) -> Response[dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        async with services.pool.acquire(timeout=2) as conn:
            revision = await current_revision(conn)
            checks["migrations"] = {"current": revision, "head": services.head_revision}
            stalled = await conn.fetch("SELECT name, last_error FROM command.subscriptions WHERE stalled ORDER BY name")
        checks["stalled_subscriptions"] = [dict(r) for r in stalled]
        ok = revision == services.head_revision and not stalled
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        ok = False
    return Response({"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503)


@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MediaType.TEXT)
async def metrics(services: ServicesDep) -> Response[str]:
    samples = await status.sample(services.pool, subscribers.ALL, services.host)
    return Response(services.metrics.render(samples), media_type="text/plain; version=0.0.4; charset=utf-8")


def app_from_environment() -> Litestar:
    """The app of one worker of `app serve --workers N` (a process of its own)."""
    from app.config import load_settings
    from app.infra.logs import configure

    settings = load_settings()
    configure(settings.log_level, settings.log_format)
    return create_app(settings)


def create_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    head = head_revision()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        url = settings.database_url or embedded_server_url(settings.data_dir)
        pool = await create_pool(
            url,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
        )
        bus = EventBus()
        positions = ViewPositions(poke=bus.poke)
        services = Services(pool, bus, clock or SystemClock(), positions, Metrics(), url, head)
        app.state.services = services
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(bus.run_bridge, url)
                if settings.run_subscriptions:
                    services.host = SubscriptionHost(subscribers.ALL, pool, url, bus, positions, settings.standby_retry_s)
                    tg.start_soon(services.host.run)
                yield
                tg.cancel_scope.cancel()
        finally:
            await pool.close()

    def provide_services(request: Request[Any, Any, Any]) -> Services:
        services: Services = request.app.state.services
        return services

    return Litestar(
        route_handlers=[
            *reservations_commands.routes,
            *rooms.routes,
            *room_popularity.routes,
            *user_reservations.routes,
            *reservation_history.routes,
            *consumers_commands.routes,
            *restaurants_commands.routes,
            *orders_commands.routes,
            *kitchen_commands.routes,
            *delivery_commands.routes,
            *order_details.routes,
            *order_history.routes,
            *available_restaurants.routes,
            live,
            ready,
            metrics,
        ],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        exception_handlers={
            Problem: on_problem,
            StoredProblem: on_stored_problem,
            ValidationException: on_validation,
            HTTPException: on_http,
            Exception: on_unexpected,
        },
        middleware=[RequestMetrics],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Rooms and food ordering (CQRS monolith)", version="0.1.0", path="/schema"),
        logging_config=None,
    )
