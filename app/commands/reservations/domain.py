"""Rules of rooms and reservations. Plain Python: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from app.errors import Conflict, invalid
from app.events.reservations import (
    ReservationCancelled,
    ReservationChanged,
    ReservationRegistered,
)

ACTIVE = "active"
CANCELLED = "cancelled"


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise invalid("end", "must be after start")


@dataclass(frozen=True)
class Reservation:
    id: UUID
    room_id: UUID
    user_id: str
    start: datetime
    end: datetime
    status: str
    version: int


def register(
    reservation_id: UUID, room_id: UUID, user_id: str, start: datetime, end: datetime, at: datetime
) -> tuple[Reservation, ReservationRegistered]:
    check_period(start, end)
    reservation = Reservation(reservation_id, room_id, user_id, start, end, ACTIVE, 1)
    event = ReservationRegistered(
        reservation_id=reservation_id,
        room_id=room_id,
        user_id=user_id,
        start=start,
        end=end,
        version=1,
        at=at,
    )
    return reservation, event


def _check_can_change(reservation: Reservation, expected_version: int | None) -> None:
    if reservation.status == CANCELLED:
        raise Conflict("the reservation is cancelled", reservation_id=str(reservation.id))
    if expected_version is not None and expected_version != reservation.version:
        raise Conflict(
            f"expected version {expected_version}, but the reservation is at {reservation.version}",
            reservation_id=str(reservation.id),
            current_version=reservation.version,
        )


def change(
    reservation: Reservation,
    *,
    room_id: UUID | None,
    start: datetime | None,
    end: datetime | None,
    expected_version: int | None,
    at: datetime,
) -> tuple[Reservation, ReservationChanged]:
    _check_can_change(reservation, expected_version)
    changed = replace(
        reservation,
        room_id=room_id or reservation.room_id,
        start=start or reservation.start,
        end=end or reservation.end,
        version=reservation.version + 1,
    )
    check_period(changed.start, changed.end)
    event = ReservationChanged(
        reservation_id=changed.id,
        user_id=changed.user_id,
        room_id=changed.room_id,
        start=changed.start,
        end=changed.end,
        previous_room_id=reservation.room_id,
        previous_start=reservation.start,
        previous_end=reservation.end,
        version=changed.version,
        at=at,
    )
    return changed, event


def cancel(reservation: Reservation, at: datetime) -> tuple[Reservation, ReservationCancelled]:
    if reservation.status == CANCELLED:
        raise Conflict("the reservation is already cancelled", reservation_id=str(reservation.id))
    cancelled = replace(reservation, status=CANCELLED, version=reservation.version + 1)
    event = ReservationCancelled(
        reservation_id=cancelled.id,
        user_id=cancelled.user_id,
        room_id=cancelled.room_id,
        start=cancelled.start,
        end=cancelled.end,
        version=cancelled.version,
        at=at,
    )
    return cancelled, event
