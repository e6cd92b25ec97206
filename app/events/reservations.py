"""Events of the reservations module (rooms and their reservations)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.events import Event, register


class RoomAdded(Event, frozen=True, tag="reservations.room_added"):
    STREAM = "room_id"
    room_id: UUID
    name: str
    capacity: int
    location: str | None


class ReservationRegistered(Event, frozen=True, tag="reservations.reservation_registered"):
    STREAM = "reservation_id"
    reservation_id: UUID
    room_id: UUID
    user_id: str
    start: datetime
    end: datetime
    version: int
    at: datetime


class ReservationChanged(Event, frozen=True, tag="reservations.reservation_changed"):
    STREAM = "reservation_id"
    reservation_id: UUID
    user_id: str
    room_id: UUID
    start: datetime
    end: datetime
    previous_room_id: UUID
    previous_start: datetime
    previous_end: datetime
    version: int
    at: datetime


class ReservationCancelled(Event, frozen=True, tag="reservations.reservation_cancelled"):
    STREAM = "reservation_id"
    reservation_id: UUID
    user_id: str
    room_id: UUID
    start: datetime
    end: datetime
    version: int
    at: datetime


register(RoomAdded, ReservationRegistered, ReservationChanged, ReservationCancelled)
