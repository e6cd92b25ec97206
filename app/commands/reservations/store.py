"""SQL on this module's own tables: command.rooms and command.reservations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from app.commands.reservations.domain import Reservation
from app.errors import Conflict, NotFound
from app.infra.db import Connection
from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork

INSERT_ROOM = """
INSERT INTO command.rooms (id, name, capacity, location, created_at) VALUES ($1, $2, $3, $4, $5)
"""
INSERT_RESERVATION = """
INSERT INTO command.reservations (id, room_id, user_id, period, status, version, created_at, updated_at)
VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), $6, $7, $8, $8)
"""
LOAD_FOR_UPDATE = """
SELECT id, room_id, user_id, lower(period) AS start, upper(period) AS "end", status, version
FROM command.reservations WHERE id = $1 FOR UPDATE
"""
SAVE = """
UPDATE command.reservations
SET room_id = $2, period = tstzrange($3, $4, '[)'), status = $5, version = $6, updated_at = $7
WHERE id = $1
"""


def insert_room(uow: UnitOfWork, room_id: UUID, name: str, capacity: int, location: str | None, at: datetime) -> None:
    """The room, saved to be written with its events in one statement."""
    uow.save(Write(INSERT_ROOM, (room_id, name, capacity, location, at)))


def _unknown_room(reservation: Reservation) -> NotFound:
    return NotFound(f"room {reservation.room_id} does not exist", room_id=str(reservation.room_id))


def _overlap(reservation: Reservation) -> Conflict:
    return Conflict(
        "the room is already reserved for an overlapping period",
        room_id=str(reservation.room_id),
    )


def insert_reservation(uow: UnitOfWork, r: Reservation, at: datetime) -> None:
    """The reservation, saved to be written with its events in one statement; the foreign
    key answers "does the room exist" and the exclusion constraint "is it free" in that same
    round trip."""
    write = Write(INSERT_RESERVATION, (r.id, r.room_id, r.user_id, r.start, r.end, r.status, r.version, at))
    uow.save(write, refused=lambda exc: _refusal(exc, r))


def _refusal(exc: asyncpg.PostgresError, r: Reservation) -> Exception | None:
    if isinstance(exc, asyncpg.ExclusionViolationError):
        return _overlap(r)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return _unknown_room(r)
    return None


async def load_for_update(conn: Connection, reservation_id: UUID) -> Reservation | None:
    row = await conn.fetchrow(LOAD_FOR_UPDATE, reservation_id)
    return None if row is None else Reservation(**dict(row))


def save(uow: UnitOfWork, r: Reservation, at: datetime) -> None:
    """The reservation as changed, saved to be written with its events in one statement."""
    uow.save(Write(SAVE, (r.id, r.room_id, r.start, r.end, r.status, r.version, at)), refused=lambda exc: _refusal(exc, r))
