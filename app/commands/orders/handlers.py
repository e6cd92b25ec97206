"""Place and cancel orders (HTTP), and move them along the saga (process manager)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from app.commands.orders import domain, store
from app.events.orders import OrderCancelled, OrderPlaced, OrderStateChanged
from app.infra import outbox
from app.infra.clock import Clock, uuid7
from app.infra.db import Connection
from app.infra.money import money
from app.infra.problems import NotFound


class OrderAccepted(msgspec.Struct, frozen=True):
    id: UUID
    state: str
    total: str
    position: str


class OrderCancelledReply(msgspec.Struct, frozen=True):
    id: UUID
    state: str
    position: str


async def place_order(
    conn: Connection,
    clock: Clock,
    inputs: store.OrderInputs,
    *,
    consumer_id: UUID,
    restaurant_id: UUID,
    wanted: list[tuple[str, int]],
    delivery_address: str,
) -> OrderAccepted:
    """One statement (the order and its event), or a refusal."""
    if not inputs.consumer_known:
        raise NotFound(f"consumer {consumer_id} does not exist", consumer_id=str(consumer_id))
    if inputs.restaurant is None:
        raise NotFound(f"restaurant {restaurant_id} does not exist", restaurant_id=str(restaurant_id))
    name, menu = inputs.restaurant
    lines, total = domain.price_lines(menu, wanted)
    order_id, now = uuid7(), clock.now()
    event = OrderPlaced(
        order_id=order_id,
        consumer_id=consumer_id,
        restaurant_id=restaurant_id,
        restaurant_name=name,
        line_items=lines,
        total=total,
        delivery_address=delivery_address,
        version=1,
        at=now,
    )
    position = await store.insert_order(conn, order_id, consumer_id, restaurant_id, lines, total, delivery_address, now, [event])
    return OrderAccepted(order_id, domain.APPROVAL_PENDING, money(total), position.token())


async def cancel_order(conn: Connection, clock: Clock, order_id: UUID) -> OrderCancelledReply:
    current = await store.load_state(conn, order_id)
    if current is None:
        raise NotFound(f"order {order_id} does not exist")
    state, version = current
    domain.check_cancel(state)
    now = clock.now()
    await store.save_state(conn, order_id, domain.CANCELLED, version + 1, now)
    event = OrderCancelled(order_id=order_id, previous_state=state, version=version + 1, at=now)
    position = await outbox.append(conn, [event])
    return OrderCancelledReply(order_id, domain.CANCELLED, position.token())


async def move_orders(conn: Connection, moves: Sequence[tuple[UUID, str, datetime]]) -> None:
    """Saga steps (order, target state, when), in order: each order moves if that is
    legal now, otherwise (cancelled, or the event was already applied) it stays. One
    statement per run of distinct orders, then all their events in one append."""
    events: list[OrderStateChanged] = []
    start = 0
    while start < len(moves):
        end, seen = start, set()
        while end < len(moves) and moves[end][0] not in seen:  # an order twice: its second step waits
            seen.add(moves[end][0])
            end += 1
        run = moves[start:end]
        allowed = [" ".join(domain.TRANSITIONS[target]) for _, target, _ in run]
        moved = {r["id"]: r["version"] for r in await store.move_states(conn, run, allowed)}
        events += [
            OrderStateChanged(order_id=order_id, state=target, version=moved[order_id], at=at)
            for order_id, target, at in run
            if order_id in moved
        ]
        start = end
    if events:
        await outbox.append(conn, events)
