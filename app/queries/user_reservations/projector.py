"""Projects reservation events into each user's list of reservations.

Keeps its own copy of room names (from RoomAdded) so that a read is one table.
Updates carry the reservation version and only move forward, so a replayed event
changes nothing.
"""

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

VIEW = "user_reservations"

ADD_ROOM = "INSERT INTO user_reservation_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
# New reservations, any number in one statement (the live batch's usual one, and runs of
# them in any batch): distinct reservations, so no row depends on another.
REGISTER = ColumnStatement("""
INSERT INTO user_reservations (id, user_id, room_id, room_name, start_at, end_at, status, version)
SELECT e.id, e.user_id, e.room_id, r.name, e.start_at, e.end_at, 'active', e.version
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::int[])
     AS e(id, user_id, room_id, start_at, end_at, version)
JOIN user_reservation_rooms r ON r.id = e.room_id
ON CONFLICT (id) DO NOTHING
""")
CHANGE = """
UPDATE user_reservations u
SET room_id = $2, room_name = r.name, start_at = $3, end_at = $4, version = $5
FROM user_reservation_rooms r
WHERE u.id = $1 AND r.id = $2 AND u.version < $5
"""
CANCEL = "UPDATE user_reservations SET status = 'cancelled', version = $2 WHERE id = $1 AND version < $2"


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    runs = StatementRuns(conn)
    for envelope in batch:
        match envelope.event:
            case RoomAdded(room_id=room_id, name=name):
                await runs.add(ADD_ROOM, room_id, name)
            case ReservationRegistered() as e:
                await runs.add(REGISTER, *_registered(e))
            case ReservationChanged() as e:
                await runs.add(CHANGE, e.reservation_id, e.room_id, e.start, e.end, e.version)
            case ReservationCancelled() as e:
                await runs.add(CANCEL, e.reservation_id, e.version)
    await runs.flush()


def _registered(e: ReservationRegistered) -> tuple[object, ...]:
    return (e.reservation_id, e.user_id, e.room_id, e.start, e.end, e.version)


def as_one_statement(batch: Sequence[Envelope]) -> Write | None:
    """A batch of new reservations (the usual one) as REGISTER; any other batch: None."""
    registered = only_new_reservations(batch)
    return None if registered is None else Write(REGISTER.sql, columns([_registered(e) for e in registered]))


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("user_reservations", "user_reservation_rooms"),
    event_types=(
        RoomAdded,
        ReservationRegistered,
        ReservationChanged,
        ReservationCancelled,
    ),
    one_statement=as_one_statement,
)
