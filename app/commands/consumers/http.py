"""POST /consumers."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody

from app.commands.consumers import handlers
from app.infra.db import Connection
from app.infra.web import IdempotencyKey, Rules, ServicesDep, command, strict_body


class RegisterConsumer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    credit_limit: str = "1000.00"


@post("/consumers", tags=["consumers"], summary="Register a consumer", status_code=201)
async def register_consumer(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[RegisterConsumer],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.ConsumerCreated]:
    data = await strict_body(request, RegisterConsumer)
    rules = Rules()
    rules.length(data.name, "name", 1, 200)
    credit_limit = rules.money(data.credit_limit, "credit_limit")
    rules.raise_if_any()

    async def work(conn: Connection) -> tuple[int, Any]:
        return 201, await handlers.register_consumer(conn, services.clock, data.name, credit_limit)

    return await command(request, services, work, body=data, key=idempotency_key)


routes = [register_consumer]
