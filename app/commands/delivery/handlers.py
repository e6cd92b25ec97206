"""Couriers and deliveries: register a courier, set availability, pick up, deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from app.commands.delivery import domain, store
from app.errors import NotFound
from app.events.delivery import (
    CourierAssigned,
    CourierAvailabilityChanged,
    CourierRegistered,
    DeliveryDelivered,
    DeliveryPickedUp,
)
from app.infra.clock import uuid7
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import text
from app.roles import Role


class RegisterCourier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, text(200)]
    available: bool = True


class SetAvailability(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    courier_id: UUID
    available: bool


class PickUp(msgspec.Struct, frozen=True):
    order_id: UUID


class Deliver(msgspec.Struct, frozen=True):
    order_id: UUID


class Courier(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    available: bool
    position: str = ""


class DeliveryState(msgspec.Struct, frozen=True):
    order_id: UUID
    status: str
    position: str = ""


async def give_courier_to_waiting(uow: UnitOfWork, courier_id: UUID, at: datetime) -> None:
    """A courier who became free takes the delivery that has waited longest, if any."""
    name = await store.courier_if_free(uow.conn, courier_id)
    order_id = await store.oldest_waiting(uow.conn) if name is not None else None
    if name is None or order_id is None:
        return
    await store.assign(uow.conn, order_id, courier_id, at)
    uow.emit(CourierAssigned(order_id=order_id, courier_id=courier_id, courier_name=name, at=at))


async def register_courier(cmd: RegisterCourier, uow: UnitOfWork) -> Courier:
    courier_id, now = uuid7(), uow.now()
    await store.serialize_assignment(uow.conn)
    await store.insert_courier(uow.conn, courier_id, cmd.name, cmd.available, now)
    uow.emit(CourierRegistered(courier_id=courier_id, name=cmd.name))
    if cmd.available:
        uow.emit(CourierAvailabilityChanged(courier_id=courier_id, available=True))
        await give_courier_to_waiting(uow, courier_id, now)
    return Courier(courier_id, cmd.name, cmd.available)


async def set_availability(cmd: SetAvailability, uow: UnitOfWork) -> Courier:
    await store.serialize_assignment(uow.conn)
    name = await store.set_available(uow.conn, cmd.courier_id, cmd.available)
    if name is None:
        raise NotFound(f"courier {cmd.courier_id} does not exist")
    uow.emit(CourierAvailabilityChanged(courier_id=cmd.courier_id, available=cmd.available))
    if cmd.available:
        await give_courier_to_waiting(uow, cmd.courier_id, uow.now())
    return Courier(cmd.courier_id, name, cmd.available)


async def _load(uow: UnitOfWork, order_id: UUID) -> tuple[str, UUID | None, bool] | None:
    """The delivery, if the caller may act on it: a courier only on their own."""
    current = await store.load(uow.conn, order_id)
    return current if current is not None and uow.actor.owns(Role.COURIER, current[1]) else None


async def pick_up(cmd: PickUp, uow: UnitOfWork) -> DeliveryState:
    current = await _load(uow, cmd.order_id)
    status, _, ready = current if current is not None else (None, None, False)
    domain.check_pick_up(domain.check_exists(cmd.order_id, status), ready)
    now = uow.now()
    await store.picked_up(uow.conn, cmd.order_id, now)
    uow.emit(DeliveryPickedUp(order_id=cmd.order_id, at=now))
    return DeliveryState(cmd.order_id, "PICKED_UP")


async def deliver(cmd: Deliver, uow: UnitOfWork) -> DeliveryState:
    await store.serialize_assignment(uow.conn)
    current = await _load(uow, cmd.order_id)
    status, courier_id, _ = current if current is not None else (None, None, False)
    domain.check_deliver(domain.check_exists(cmd.order_id, status))
    now = uow.now()
    await store.delivered(uow.conn, cmd.order_id, now)
    uow.emit(DeliveryDelivered(order_id=cmd.order_id, at=now))
    if courier_id is not None:
        await give_courier_to_waiting(uow, courier_id, now)
    return DeliveryState(cmd.order_id, "DELIVERED")
