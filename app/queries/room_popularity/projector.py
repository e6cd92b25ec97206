"""Projects active reservations into bookings per room, for popularity over any window."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import (
    ReservationCancelled,
    ReservationChanged,
    ReservationRegistered,
    RoomAdded,
)
from app.infra.batching import ColumnStatement, StatementRuns, columns
from app.infra.db import Connection
from app.infra.outbox import Envelope, Write
from app.infra.subscriptions import Subscription
from app.queries.new_reservations import only_new_reservations

VIEW = "room_popularity"

ADD_ROOM = """
INSERT INTO room_popularity_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
# New reservations, any number in one statement (the live batch's usual one, and runs of
# them in any batch): distinct reservations, so no row depends on another.
BOOK = ColumnStatement("""
INSERT INTO room_popularity_bookings (reservation_id, room_id, period, version)
SELECT e.reservation_id, e.room_id, tstzrange(e.start_at, e.end_at, '[)'), e.version
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::int[])
     AS e(reservation_id, room_id, start_at, end_at, version)
ON CONFLICT (reservation_id) DO NOTHING
""")
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
                await runs.add(BOOK, *_booked(e))
            case ReservationChanged() as e:
                await runs.add(MOVE, e.reservation_id, e.room_id, e.start, e.end, e.version)
            case ReservationCancelled() as e:
                await runs.add(UNBOOK, e.reservation_id)
    await runs.flush()


def _booked(e: ReservationRegistered) -> tuple[object, ...]:
    return (e.reservation_id, e.room_id, e.start, e.end, e.version)


def as_one_statement(batch: Sequence[Envelope]) -> Write | None:
    """A batch of new reservations (the usual one) as BOOK; any other batch: None."""
    registered = only_new_reservations(batch)
    return None if registered is None else Write(BOOK.sql, columns([_booked(e) for e in registered]))


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("room_popularity_bookings", "room_popularity_rooms"),
    event_types=(
        RoomAdded,
        ReservationRegistered,
        ReservationChanged,
        ReservationCancelled,
    ),
    one_statement=as_one_statement,
)
