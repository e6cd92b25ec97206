"""POST /kitchen/tickets/{order_id}/accept | preparing | ready."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, JSONBody

from app.commands.kitchen import handlers
from app.infra.db import Connection
from app.infra.web import AwareDatetime, IdempotencyKey, ServicesDep, command, strict_body


class AcceptTicket(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ready_by: AwareDatetime


@post("/kitchen/tickets/{order_id:uuid}/accept", tags=["kitchen"], summary="Accept a ticket", status_code=200)
async def accept(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    data: JSONBody[AcceptTicket],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.TicketState]:
    data = await strict_body(request, AcceptTicket)

    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.advance_ticket(conn, services.clock, order_id, "accept", data.ready_by)

    return await command(request, services, work, body=data, key=idempotency_key)


@post("/kitchen/tickets/{order_id:uuid}/preparing", tags=["kitchen"], summary="Start preparing", status_code=200)
async def preparing(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.TicketState]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.advance_ticket(conn, services.clock, order_id, "preparing")

    return await command(request, services, work, key=idempotency_key)


@post("/kitchen/tickets/{order_id:uuid}/ready", tags=["kitchen"], summary="Ready for pickup", status_code=200)
async def ready(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.TicketState]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.advance_ticket(conn, services.clock, order_id, "ready")

    return await command(request, services, work, key=idempotency_key)


routes = [accept, preparing, ready]
