"""Couriers and deliveries over HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, JSONBody

from app.commands.delivery import handlers
from app.infra.db import Connection
from app.infra.web import IdempotencyKey, Rules, ServicesDep, command, strict_body


class RegisterCourier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    available: bool = True


class Availability(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    available: bool


@post("/couriers", tags=["delivery"], summary="Register a courier (available unless told)", status_code=201)
async def register_courier(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[RegisterCourier],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.Courier]:
    data = await strict_body(request, RegisterCourier)
    rules = Rules()
    rules.length(data.name, "name", 1, 200)
    rules.raise_if_any()

    async def work(conn: Connection) -> tuple[int, Any]:
        return 201, await handlers.register_courier(conn, services.clock, data.name, data.available)

    return await command(request, services, work, body=data, key=idempotency_key)


@post("/couriers/{courier_id:uuid}/availability", tags=["delivery"], summary="Set availability", status_code=200)
async def set_availability(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    courier_id: FromPath[UUID],
    data: JSONBody[Availability],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.Courier]:
    data = await strict_body(request, Availability)

    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.set_availability(conn, services.clock, courier_id, data.available)

    return await command(request, services, work, body=data, key=idempotency_key)


@post(
    "/deliveries/{order_id:uuid}/pickup",
    tags=["delivery"],
    summary="Courier picked the order up",
    status_code=200,
)
async def pickup(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.DeliveryState]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.pick_up(conn, services.clock, order_id)

    return await command(request, services, work, key=idempotency_key)


@post("/deliveries/{order_id:uuid}/deliver", tags=["delivery"], summary="Order delivered", status_code=200)
async def deliver(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.DeliveryState]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.deliver(conn, services.clock, order_id)

    return await command(request, services, work, key=idempotency_key)


routes = [register_courier, set_availability, pickup, deliver]
