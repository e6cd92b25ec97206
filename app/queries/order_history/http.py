"""GET /consumers/{id}/orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from app.infra.web.access import CallerDep, allow
from app.infra.web.decoding import NO_NUL, aware
from app.infra.web.openapi import view_read
from app.infra.web.pages import Cursor, PageSize, decode_cursor, page_of
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, WaitMs, check_own, not_in_view, read_view, view_response
from app.queries.order_history import store
from app.queries.order_history.projector import VIEW
from app.roles import Role


class OrderState(StrEnum):
    APPROVAL_PENDING = "APPROVAL_PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    PREPARING = "PREPARING"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PICKED_UP = "PICKED_UP"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class OrderPage(msgspec.Struct, frozen=True):
    items: list[store.OrderSummary]
    next_cursor: str | None


@get(
    "/consumers/{consumer_id:uuid}/orders",
    summary="A consumer's orders, newest first",
    description="`since`/`until` bound `created_at` (half-open); an order matches `keywords` if any equals, "
    "case-insensitively, a whole word of the restaurant name or of a line item name. 404: no such consumer. "
    "422: a timestamp outside what the service stores.",
    operation_id="listConsumerOrders",
    opt={**view_read(404, 422), **allow(Role.CONSUMER)},
)
async def consumer_orders(
    services: ServicesDep,
    caller: CallerDep,
    consumer_id: FromPath[UUID],
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    status: FromQuery[OrderState | None] = None,
    keywords: Annotated[
        str | None,
        QueryParameter(
            description="comma-separated; matches whole words of the restaurant or item names", max_length=500, pattern=NO_NUL
        ),
    ] = None,
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[OrderPage]:
    filters = store.Filters(
        since=aware(since, "since") if since else None,
        until=aware(until, "until") if until else None,
        status=status.value if status else None,
        keywords=sorted({k.strip().lower() for k in keywords.split(",") if k.strip()}) if keywords else None,
    )
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    await check_own(read, caller, Role.CONSUMER, consumer_id, f"consumer {consumer_id} does not exist")
    after = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else None
    found = await store.history(read, consumer_id, filters, after, page_size + 1)
    if not found and after is None and not await store.consumer_known(read, consumer_id):
        raise not_in_view(read, f"consumer {consumer_id} does not exist (or is not in the view yet)")
    items, next_cursor = page_of(found, page_size, lambda o: (o.created_at, o.id))
    return view_response(OrderPage(items, next_cursor), read)


routes = [consumer_orders]
