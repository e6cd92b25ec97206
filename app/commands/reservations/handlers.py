"""The reservations module's commands and their handlers: add a room; reserve, change and
cancel a reservation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from app.commands.reservations import domain, store
from app.errors import NotFound, invalid
from app.events.reservations import RoomAdded
from app.infra.clock import uuid7
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import AwareDatetime, text
from app.roles import Role

RoomName = Annotated[str, text(200, examples=["Blue room"])]
# A user id is a path segment when read back (GET /users/{user_id}/...): no "/".
UserId = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^/\x00]*$", examples=["alice"])]


class AddRoom(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: RoomName
    capacity: Annotated[int, Meta(ge=1, le=2_147_483_647)]
    location: Annotated[str, text(500, min_length=0)] | None = None


class ReserveRoom(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    room_id: UUID
    user_id: UserId
    start: AwareDatetime
    end: AwareDatetime

    def check(self) -> None:
        domain.check_period(self.start, self.end)


class ChangeReservation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reservation_id: UUID
    room_id: UUID | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    expected_version: Annotated[int, Meta(ge=1, le=2_147_483_647)] | None = None

    def check(self) -> None:
        if self.room_id is None and self.start is None and self.end is None:
            raise invalid("room_id", "give at least one of room_id, start, end")
        if self.start is not None and self.end is not None:
            domain.check_period(self.start, self.end)


class CancelReservation(msgspec.Struct, frozen=True):
    reservation_id: UUID


class RoomCreated(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    capacity: int
    location: str | None
    position: str = ""


class ReservationState(msgspec.Struct, frozen=True):
    id: UUID
    room_id: UUID
    user_id: str
    start: datetime
    end: datetime
    status: str
    version: int
    position: str = ""


class ReservationCancelledReply(msgspec.Struct, frozen=True):
    id: UUID
    status: str
    version: int
    position: str = ""


def _state(r: domain.Reservation) -> ReservationState:
    return ReservationState(r.id, r.room_id, r.user_id, r.start, r.end, r.status, r.version)


async def add_room(cmd: AddRoom, uow: UnitOfWork) -> RoomCreated:
    room_id = uuid7()
    uow.emit(RoomAdded(room_id=room_id, name=cmd.name, capacity=cmd.capacity, location=cmd.location))
    store.insert_room(uow, room_id, cmd.name, cmd.capacity, cmd.location, uow.now())
    return RoomCreated(room_id, cmd.name, cmd.capacity, cmd.location)


async def reserve_room(cmd: ReserveRoom, uow: UnitOfWork) -> ReservationState:
    now = uow.now()
    reservation, event = domain.register(uuid7(), cmd.room_id, cmd.user_id, cmd.start, cmd.end, now)
    uow.emit(event)
    store.insert_reservation(uow, reservation, now)
    return _state(reservation)


async def _load(uow: UnitOfWork, reservation_id: UUID) -> domain.Reservation:
    reservation = await store.load_for_update(uow.conn, reservation_id)
    if reservation is None or not uow.actor.owns(Role.USER, reservation.user_id):
        raise NotFound(f"reservation {reservation_id} does not exist")
    return reservation


async def change_reservation(cmd: ChangeReservation, uow: UnitOfWork) -> ReservationState:
    now = uow.now()
    current = await _load(uow, cmd.reservation_id)
    changed, event = domain.change(
        current, room_id=cmd.room_id, start=cmd.start, end=cmd.end, expected_version=cmd.expected_version, at=now
    )
    store.save(uow, changed, now)
    uow.emit(event)
    return _state(changed)


async def cancel_reservation(cmd: CancelReservation, uow: UnitOfWork) -> ReservationCancelledReply:
    now = uow.now()
    cancelled, event = domain.cancel(await _load(uow, cmd.reservation_id), now)
    store.save(uow, cancelled, now)
    uow.emit(event)
    return ReservationCancelledReply(cancelled.id, cancelled.status, cancelled.version)
