"""POST /orders, POST /orders/{id}/cancel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, JSONBody

from app.commands.orders import handlers, store
from app.commands.orders.process import NAME as DIRECTORY
from app.infra.consistency import PositionNotReached
from app.infra.db import Connection
from app.infra.outbox import committed_head
from app.infra.web import IdempotencyKey, Rules, Services, ServicesDep, command, strict_body


class LineItemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    menu_item_id: str
    quantity: int


class PlaceOrder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consumer_id: UUID
    restaurant_id: UUID
    line_items: list[LineItemIn]
    delivery_address: str


async def _order_inputs(services: Services, consumer_id: UUID, restaurant_id: UUID) -> store.OrderInputs:
    """The orders module learns consumers and menus from events. A consumer or restaurant
    registered a moment ago may not have reached it yet: wait (briefly) for its
    subscription to apply everything committed so far before calling an id unknown."""
    inputs = await store.order_inputs(services.pool, consumer_id, restaurant_id)
    if inputs.complete:
        return inputs
    async with services.pool.acquire() as conn:
        head = await committed_head(conn)
    try:
        await services.positions.wait_for(services.pool, DIRECTORY, head, 2000)
    except PositionNotReached:
        pass  # the command then answers 404 from what it knows
    return await store.order_inputs(services.pool, consumer_id, restaurant_id)


@post("/orders", tags=["orders"], summary="Place an order (starts the order saga)", status_code=201)
async def place_order(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[PlaceOrder],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.OrderAccepted]:
    data = await strict_body(request, PlaceOrder)
    rules = Rules()
    rules.check(len(data.line_items) > 0, "line_items", "at least one line item")
    for i, line in enumerate(data.line_items):
        rules.check(line.quantity >= 1, f"line_items[{i}].quantity", "must be >= 1")
        rules.length(line.menu_item_id, f"line_items[{i}].menu_item_id", 1, 100)
    rules.length(data.delivery_address, "delivery_address", 1, 500)
    rules.raise_if_any()
    inputs = await _order_inputs(services, data.consumer_id, data.restaurant_id)

    async def work(conn: Connection) -> tuple[int, Any]:
        order = await handlers.place_order(
            conn,
            services.clock,
            inputs,
            consumer_id=data.consumer_id,
            restaurant_id=data.restaurant_id,
            wanted=[(line.menu_item_id, line.quantity) for line in data.line_items],
            delivery_address=data.delivery_address,
        )
        return 201, order

    return await command(request, services, work, body=data, key=idempotency_key, single_statement=True)


@post(
    "/orders/{order_id:uuid}/cancel",
    tags=["orders"],
    summary="Cancel an order before pickup",
    status_code=200,
)
async def cancel_order(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    order_id: FromPath[UUID],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.OrderCancelledReply]:
    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.cancel_order(conn, services.clock, order_id)

    return await command(request, services, work, body=None, key=idempotency_key)


routes = [place_order, cancel_order]
