"""Reads of one order's details."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.infra.auth import Principal
from app.infra.consistency import ViewRead
from app.infra.money import money
from app.queries.order_documents import Line, Named, lines
from app.roles import Role


class Payment(msgspec.Struct, frozen=True):
    status: str


class Ticket(msgspec.Struct, frozen=True):
    status: str
    ready_by: datetime | None


class Delivery(msgspec.Struct, frozen=True):
    status: str
    courier: Named | None
    picked_up_at: datetime | None
    delivered_at: datetime | None


class OrderDetails(msgspec.Struct, frozen=True):
    id: UUID
    consumer_id: UUID
    restaurant: Named
    line_items: list[Line]
    total: str
    state: str
    payment: Payment
    ticket: Ticket | None
    delivery: Delivery | None
    created_at: datetime
    updated_at: datetime


# The order, if the caller may read it: an admin, or its consumer, restaurant or courier.
ORDER = """
SELECT id, consumer_id, restaurant_id, restaurant_name, line_items, total, state, payment_status, ticket_status,
       ticket_ready_by, delivery_status, courier_id, courier_name, picked_up_at, delivered_at, created_at, updated_at
FROM order_details
WHERE id = $1 AND consumer_id IS NOT NULL
  AND ($2 OR consumer_id = $3 OR restaurant_id = $4 OR courier_id = $5)
"""


async def order(read: ViewRead, order_id: UUID, caller: Principal) -> OrderDetails | None:
    r = await read.fetchrow(
        ORDER, order_id, caller.sees_all, caller.id_as(Role.CONSUMER), caller.id_as(Role.RESTAURANT), caller.id_as(Role.COURIER)
    )
    if r is None:
        return None
    (id_, consumer_id, restaurant_id, restaurant_name, line_items, total, state, payment_status, ticket_status, ready_by,
     delivery_status, courier_id, courier_name, picked_up_at, delivered_at, created_at, updated_at) = r  # fmt: skip
    courier = Named(courier_id, courier_name) if courier_id else None
    return OrderDetails(
        id=id_,
        consumer_id=consumer_id,
        restaurant=Named(restaurant_id, restaurant_name),
        line_items=lines(line_items),
        total=money(total),
        state=state,
        payment=Payment(payment_status),
        ticket=Ticket(ticket_status, ready_by) if ticket_status else None,
        delivery=Delivery(delivery_status, courier, picked_up_at, delivered_at) if delivery_status else None,
        created_at=created_at,
        updated_at=updated_at,
    )
