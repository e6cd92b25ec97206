"""Couriers and deliveries: assignment, pickup, delivery, release.

A delivery is opened when the kitchen accepts the order and takes the first free
courier by name; with none free it waits and is given the next courier that becomes
free (made available, or released by a delivery that ended)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.commands.delivery import store
from app.events import Event
from app.events.delivery import (
    CourierAssigned,
    CourierAvailabilityChanged,
    CourierRegistered,
    DeliveryCancelled,
    DeliveryDelivered,
    DeliveryPickedUp,
    DeliveryWaiting,
)
from app.infra import outbox
from app.infra.clock import Clock, uuid7
from app.infra.db import Connection
from app.infra.problems import Conflict, NotFound


class Courier(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    available: bool
    position: str


class DeliveryState(msgspec.Struct, frozen=True):
    order_id: UUID
    status: str
    position: str


async def _give_courier_to_waiting(conn: Connection, courier_id: UUID, at: datetime) -> list[Event]:
    name = await store.courier_if_free(conn, courier_id)
    order_id = await store.oldest_waiting(conn) if name is not None else None
    if name is None or order_id is None:
        return []
    await store.assign(conn, order_id, courier_id, at)
    return [CourierAssigned(order_id=order_id, courier_id=courier_id, courier_name=name, at=at)]


async def open_delivery(conn: Connection, order_id: UUID, at: datetime) -> list[Event]:
    """Saga step on TicketAccepted."""
    await store.serialize_assignment(conn)
    if not await store.open_delivery(conn, order_id, at):
        return []  # already opened (redelivery) or cancelled first
    courier = await store.free_courier(conn)
    if courier is None:
        return [DeliveryWaiting(order_id=order_id, at=at)]
    await store.assign(conn, order_id, courier[0], at)
    return [CourierAssigned(order_id=order_id, courier_id=courier[0], courier_name=courier[1], at=at)]


async def cancel_delivery(conn: Connection, order_id: UUID, at: datetime) -> list[Event]:
    """Compensation on OrderCancelled: release the courier, who may take a waiting delivery."""
    await store.serialize_assignment(conn)
    current = await store.load(conn, order_id)
    if current is None:
        await conn.execute(store.CANCEL_UNSTARTED, order_id, at)
        return []
    status, courier_id, _ = current
    if status not in ("WAITING", "ASSIGNED"):
        return []
    await conn.execute(store.CANCEL, order_id, at)
    events: list[Event] = [DeliveryCancelled(order_id=order_id, courier_id=courier_id, at=at)]
    if courier_id is not None:
        events += await _give_courier_to_waiting(conn, courier_id, at)
    return events


async def register_courier(conn: Connection, clock: Clock, name: str, available: bool) -> Courier:
    courier_id = uuid7()
    now = clock.now()
    await store.serialize_assignment(conn)
    await conn.execute(store.INSERT_COURIER, courier_id, name, available, now)
    events: list[Event] = [CourierRegistered(courier_id=courier_id, name=name)]
    if available:
        events.append(CourierAvailabilityChanged(courier_id=courier_id, available=True))
        events += await _give_courier_to_waiting(conn, courier_id, now)
    position = await outbox.append(conn, events)
    return Courier(courier_id, name, available, position.token())


async def set_availability(conn: Connection, clock: Clock, courier_id: UUID, available: bool) -> Courier:
    await store.serialize_assignment(conn)
    name = await conn.fetchval(store.SET_AVAILABLE, courier_id, available)
    if name is None:
        raise NotFound(f"courier {courier_id} does not exist")
    events: list[Event] = [CourierAvailabilityChanged(courier_id=courier_id, available=available)]
    if available:
        events += await _give_courier_to_waiting(conn, courier_id, clock.now())
    position = await outbox.append(conn, events)
    return Courier(courier_id, str(name), available, position.token())


async def _load(conn: Connection, order_id: UUID) -> tuple[str, UUID | None, bool]:
    current = await store.load(conn, order_id)
    if current is None:
        raise NotFound(f"there is no delivery for order {order_id}")
    return current


async def pick_up(conn: Connection, clock: Clock, order_id: UUID) -> DeliveryState:
    status, _, ready = await _load(conn, order_id)
    if status != "ASSIGNED" or not ready:
        why = "the order is not ready for pickup" if status == "ASSIGNED" else f"the delivery is {status}"
        raise Conflict(f"cannot pick up: {why}", delivery_status=status)
    now = clock.now()
    await conn.execute(store.PICKED_UP, order_id, now)
    position = await outbox.append(conn, [DeliveryPickedUp(order_id=order_id, at=now)])
    return DeliveryState(order_id, "PICKED_UP", position.token())


async def deliver(conn: Connection, clock: Clock, order_id: UUID) -> DeliveryState:
    await store.serialize_assignment(conn)
    status, courier_id, _ = await _load(conn, order_id)
    if status != "PICKED_UP":
        raise Conflict(f"cannot deliver: the delivery is {status}", delivery_status=status)
    now = clock.now()
    await conn.execute(store.DELIVERED, order_id, now)
    events: list[Event] = [DeliveryDelivered(order_id=order_id, at=now)]
    if courier_id is not None:
        events += await _give_courier_to_waiting(conn, courier_id, now)
    position = await outbox.append(conn, events)
    return DeliveryState(order_id, "DELIVERED", position.token())
