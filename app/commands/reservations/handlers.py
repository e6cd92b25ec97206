"""One async function per command: load, decide, save, append events (in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.commands.reservations import domain, store
from app.events.reservations import RoomAdded
from app.infra import outbox
from app.infra.clock import Clock, uuid7
from app.infra.db import Connection
from app.infra.problems import NotFound


class RoomCreated(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    capacity: int
    location: str | None
    position: str


class ReservationState(msgspec.Struct, frozen=True):
    id: UUID
    room_id: UUID
    user_id: str
    start: datetime
    end: datetime
    status: str
    version: int
    position: str


class ReservationCancelledReply(msgspec.Struct, frozen=True):
    id: UUID
    status: str
    version: int
    position: str


def _state(r: domain.Reservation, position: outbox.Position) -> ReservationState:
    return ReservationState(r.id, r.room_id, r.user_id, r.start, r.end, r.status, r.version, position.token())


async def add_room(conn: Connection, clock: Clock, name: str, capacity: int, location: str | None) -> RoomCreated:
    room_id = uuid7()
    event = RoomAdded(room_id=room_id, name=name, capacity=capacity, location=location)
    position = await store.insert_room(conn, room_id, name, capacity, location, clock.now(), [event])
    return RoomCreated(room_id, name, capacity, location, position.token())


async def reserve_room(
    conn: Connection, clock: Clock, room_id: UUID, user_id: str, start: datetime, end: datetime
) -> ReservationState:
    now = clock.now()
    reservation, event = domain.register(uuid7(), room_id, user_id, start, end, now)
    return _state(reservation, await store.insert_reservation(conn, reservation, now, [event]))


async def _load(conn: Connection, reservation_id: UUID) -> domain.Reservation:
    reservation = await store.load_for_update(conn, reservation_id)
    if reservation is None:
        raise NotFound(f"reservation {reservation_id} does not exist")
    return reservation


async def change_reservation(
    conn: Connection,
    clock: Clock,
    reservation_id: UUID,
    *,
    room_id: UUID | None,
    start: datetime | None,
    end: datetime | None,
    expected_version: int | None,
) -> ReservationState:
    now = clock.now()
    current = await _load(conn, reservation_id)
    changed, event = domain.change(current, room_id=room_id, start=start, end=end, expected_version=expected_version, at=now)
    await store.save(conn, changed, now)
    return _state(changed, await outbox.append(conn, [event]))


async def cancel_reservation(conn: Connection, clock: Clock, reservation_id: UUID) -> ReservationCancelledReply:
    now = clock.now()
    cancelled, event = domain.cancel(await _load(conn, reservation_id), now)
    await store.save(conn, cancelled, now)
    position = await outbox.append(conn, [event])
    return ReservationCancelledReply(cancelled.id, cancelled.status, cancelled.version, position.token())
