"""The orders module's commands: place an order (it starts the saga) and cancel it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from app.commands.orders import domain, store
from app.errors import NotFound
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra.clock import uuid7
from app.infra.money import money
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import text
from app.roles import Role


class LineItemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    menu_item_id: Annotated[str, text(100)]
    quantity: Annotated[int, Meta(ge=1, le=10_000)]


class PlaceOrder(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    consumer_id: UUID
    restaurant_id: UUID
    line_items: Annotated[list[LineItemIn], Meta(min_length=1, max_length=100)]
    delivery_address: Annotated[str, text(500)]


class CancelOrder(msgspec.Struct, frozen=True):
    order_id: UUID


class OrderAccepted(msgspec.Struct, frozen=True):
    id: UUID
    state: str
    total: str
    position: str = ""


class OrderCancelledReply(msgspec.Struct, frozen=True):
    id: UUID
    state: str
    position: str = ""


async def place_order(cmd: PlaceOrder, uow: UnitOfWork) -> OrderAccepted:
    """The order and its event in one statement, or a refusal.

    The module learns consumers and menus from events: one registered a moment ago may
    not have reached it yet, so before calling an id unknown it has the pipeline wait
    (briefly) for its subscription to apply everything committed so far."""
    inputs = await store.order_inputs(uow.conn, cmd.consumer_id, cmd.restaurant_id)
    if not inputs.complete:
        uow.catch_up(store.SUBSCRIPTION)
    if not inputs.consumer_known:
        raise NotFound(f"consumer {cmd.consumer_id} does not exist", consumer_id=str(cmd.consumer_id))
    if inputs.restaurant is None:
        raise NotFound(f"restaurant {cmd.restaurant_id} does not exist", restaurant_id=str(cmd.restaurant_id))
    name, menu = inputs.restaurant
    lines, total = domain.price_lines(menu, [(line.menu_item_id, line.quantity) for line in cmd.line_items])
    placed = OrderPlaced(
        order_id=uuid7(),
        consumer_id=cmd.consumer_id,
        restaurant_id=cmd.restaurant_id,
        restaurant_name=name,
        line_items=lines,
        total=total,
        delivery_address=cmd.delivery_address,
        version=1,
        at=uow.now(),
    )
    uow.emit(placed)
    store.insert_order(uow, placed)
    return OrderAccepted(placed.order_id, domain.APPROVAL_PENDING, money(total))


async def cancel_order(cmd: CancelOrder, uow: UnitOfWork) -> OrderCancelledReply:
    current = await store.load_state(uow.conn, cmd.order_id)
    if current is None or not uow.actor.owns(Role.CONSUMER, current[2]):
        raise NotFound(f"order {cmd.order_id} does not exist")
    state, version, _ = current
    domain.check_cancel(state)
    now = uow.now()
    await store.save_state(uow.conn, cmd.order_id, domain.CANCELLED, version + 1, now)
    uow.emit(OrderCancelled(order_id=cmd.order_id, previous_state=state, version=version + 1, at=now))
    return OrderCancelledReply(cmd.order_id, domain.CANCELLED)
