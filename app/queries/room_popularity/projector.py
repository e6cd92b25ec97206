"""Projects active reservations into bookings per room, for popularity over any window."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import (
    ReservationCancelled,
    ReservationChanged,
    ReservationRegistered,
    RoomAdded,
)
from app.infra.batching import StatementRuns
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "room_popularity"

ADD_ROOM = """
INSERT INTO room_popularity_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
BOOK = """
INSERT INTO room_popularity_bookings (reservation_id, room_id, period, version)
VALUES ($1, $2, tstzrange($3, $4, '[)'), $5)
ON CONFLICT (reservation_id) DO NOTHING
"""
MOVE = """
UPDATE room_popularity_bookings SET room_id = $2, period = tstzrange($3, $4, '[)'), version = $5
WHERE reservation_id = $1 AND version < $5
"""
UNBOOK = "DELETE FROM room_popularity_bookings WHERE reservation_id = $1"


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    runs = StatementRuns(conn)
    for envelope in batch:
        match envelope.event:
            case RoomAdded(room_id=room_id, name=name):
                await runs.add(ADD_ROOM, room_id, name)
            case ReservationRegistered() as e:
                await runs.add(BOOK, e.reservation_id, e.room_id, e.start, e.end, e.version)
            case ReservationChanged() as e:
                await runs.add(MOVE, e.reservation_id, e.room_id, e.start, e.end, e.version)
            case ReservationCancelled() as e:
                await runs.add(UNBOOK, e.reservation_id)
    await runs.flush()


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("room_popularity_bookings", "room_popularity_rooms"),
    handles=(
        RoomAdded,
        ReservationRegistered,
        ReservationChanged,
        ReservationCancelled,
    ),
)
