"""create_app(): wires the routes, the problem mapping, request metrics and the lifespan
that runs the pool, the event bus bridge and this process's share of the subscriptions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from litestar import Litestar, Request, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from app import modules
from app.commands.listeners.dispatch import Dispatcher
from app.config import Settings
from app.infra.auth import Tokens
from app.infra.bus import EventBus
from app.infra.clock import Clock, SystemClock
from app.infra.consistency import ViewPositions
from app.infra.db import create_pool, embedded_server_url
from app.infra.logs import carry_request_ids
from app.infra.metrics import Metrics
from app.infra.migrations import head_revision
from app.infra.purger import Purger
from app.infra.standbys import Standbys
from app.infra.subscriptions import SubscriptionHost
from app.infra.web import api_page
from app.infra.web.access import admit, provide_caller, public
from app.infra.web.openapi import OpenAPIDocument
from app.infra.web.problems import EXCEPTION_HANDLERS
from app.infra.web.request_metrics import RequestMetrics
from app.infra.web.services import Services

log = logging.getLogger(__name__)


def app_from_environment() -> Litestar:
    """The app of one worker of `app serve --workers N` (a process of its own)."""
    from app.config import load_settings
    from app.infra.logs import configure

    settings = load_settings()
    configure(settings.log_level, settings.log_format)
    return create_app(settings)


# A command's body is a few KiB; anything past this is answered 413 unread.
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    settings.check_auth()
    carry_request_ids()
    head = head_revision()
    url = settings.database_url or embedded_server_url(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(
            url,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        bus = EventBus()
        positions = ViewPositions(poke=bus.poke)
        services = Services(
            pool, bus, clock or SystemClock(), positions, Metrics(), url, head, settings, subscriptions=modules.SUBSCRIPTIONS
        )
        if settings.auth_open:
            log.warning(
                "auth is OFF: every caller is an admin (%s)",
                "AUTH_DISABLED=true" if settings.auth_disabled else "the embedded development database, no auth setting",
            )
        else:
            services.tokens = Tokens(settings, roles=modules.ROLES)
            await services.tokens.start()
        app.state.services = services
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(bus.run_bridge, url)
                if settings.query_database_urls:
                    services.standbys = Standbys(
                        settings.query_database_urls,
                        settings.query_max_lag_ms,
                        statement_timeout_ms=settings.statement_timeout_ms,
                    )
                    await services.standbys.sample(pool)  # the first choice is an informed one
                    tg.start_soon(services.standbys.run, pool)
                if settings.run_subscriptions:
                    services.host = SubscriptionHost(modules.SUBSCRIPTIONS, pool, url, bus, positions, settings.standby_retry_s)
                    tg.start_soon(services.host.run)
                    services.dispatcher = Dispatcher(pool, url, settings)
                    tg.start_soon(services.dispatcher.run)
                    tg.start_soon(Purger(pool, url, modules.PURGES, settings).run)
                yield
                tg.cancel_scope.cancel()
        finally:
            await pool.close()

    def provide_services(request: Request[Any, Any, Any]) -> Services:
        services: Services = request.app.state.services
        return services

    app = Litestar(
        route_handlers=[*(route for m in modules.MODULES for route in m.routes), *api_page.routes],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
        },
        guards=[admit],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title=api_page.TITLE,
            tags=modules.TAGS,
            version="0.1.0",
            path="/schema",
            render_plugins=[OpenAPIDocument()],
            openapi_router=Router("/schema", route_handlers=[], opt=public(), include_in_schema=False),
        ),
        logging_config=None,
        request_max_body_size=MAX_BODY_BYTES,
    )
    # Outside Litestar's routing: requests that match no route (404, 405) are counted,
    # logged and given a request id like the others.
    app.asgi_handler = RequestMetrics(app.asgi_handler)
    return app
