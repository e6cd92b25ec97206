"""Projects every reservation event into its user's history (one row per event)."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import ReservationCancelled, ReservationChanged, ReservationRegistered, RoomAdded
from app.infra.batching import ColumnStatement, StatementRuns, columns
from app.infra.db import Connection
from app.infra.outbox import Envelope, Write
from app.infra.subscriptions import Subscription
from app.queries.reservation_views import RESERVATION_EVENTS

VIEW = "reservation_history"

ADD_ROOM = """
INSERT INTO reservation_history_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
# Reservation events, any number in one statement: one row per event, none depends on another.
RECORD = ColumnStatement("""
INSERT INTO reservation_history (
    event_id, user_id, reservation_id, room_id, room_name, action,
    start_at, end_at, previous_start, previous_end, previous_room_id, at, actor)
SELECT e.event_id, e.user_id, e.reservation_id, e.room_id, r.name, e.action,
       e.start_at, e.end_at, e.previous_start, e.previous_end, e.previous_room_id, e.at, e.actor
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[], $7::timestamptz[],
            $8::timestamptz[], $9::timestamptz[], $10::uuid[], $11::timestamptz[], $12::text[])
     AS e(event_id, user_id, reservation_id, room_id, action, start_at, end_at,
          previous_start, previous_end, previous_room_id, at, actor)
JOIN reservation_history_rooms r ON r.id = e.room_id
ON CONFLICT (event_id) DO NOTHING
""")


Row = tuple[object, ...]


def _row(envelope: Envelope) -> Row | None:
    """RECORD's arguments for a reservation event; None for any other."""
    e = envelope.event
    previous: tuple[object, object, object]
    match e:
        case ReservationChanged():
            action, previous = "changed", (e.previous_start, e.previous_end, e.previous_room_id)
        case ReservationRegistered():
            action, previous = "registered", (None, None, None)
        case ReservationCancelled():
            action, previous = "cancelled", (None, None, None)
        case _:
            return None
    return (envelope.event_id, e.user_id, e.reservation_id, e.room_id, action, e.start, e.end, *previous, e.at, envelope.actor)


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    runs = StatementRuns(conn)
    for envelope in batch:
        if isinstance(envelope.event, RoomAdded):
            await runs.add(ADD_ROOM, envelope.event.room_id, envelope.event.name)
        elif (row := _row(envelope)) is not None:
            await runs.add(RECORD, *row)
    await runs.flush()


def as_one_statement(batch: Sequence[Envelope]) -> Write | None:
    """A batch without new rooms (the usual one) as RECORD; with a RoomAdded: None."""
    if any(isinstance(e.event, RoomAdded) for e in batch):
        return None
    rows = [row for e in batch if (row := _row(e)) is not None]
    return Write(RECORD.sql, columns(rows)) if rows else None


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("reservation_history", "reservation_history_rooms"),
    event_types=RESERVATION_EVENTS,
    one_statement=as_one_statement,
)
