"""Projects every reservation event into its user's history (one row per event)."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import (
    ReservationCancelled,
    ReservationChanged,
    ReservationRegistered,
    RoomAdded,
)
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "reservation_history"

ADD_ROOM = """
INSERT INTO reservation_history_rooms (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
"""
RECORD = """
INSERT INTO reservation_history (
    event_id, user_id, reservation_id, room_id, room_name, action,
    start_at, end_at, previous_start, previous_end, previous_room_id, at)
SELECT $1, $2, $3, $4, r.name, $5, $6, $7, $8, $9, $10, $11
FROM reservation_history_rooms r WHERE r.id = $4
ON CONFLICT (event_id) DO NOTHING
"""


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    rows: list[tuple[object, ...]] = []
    for envelope in batch:
        match envelope.event:
            case RoomAdded(room_id=room_id, name=name):
                if rows:
                    await conn.executemany(RECORD, rows)
                    rows = []
                await conn.execute(ADD_ROOM, room_id, name)
            case ReservationRegistered() as e:
                rows.append(
                    (
                        envelope.event_id,
                        e.user_id,
                        e.reservation_id,
                        e.room_id,
                        "registered",
                        e.start,
                        e.end,
                        None,
                        None,
                        None,
                        e.at,
                    )
                )
            case ReservationChanged() as e:
                rows.append(
                    (
                        envelope.event_id,
                        e.user_id,
                        e.reservation_id,
                        e.room_id,
                        "changed",
                        e.start,
                        e.end,
                        e.previous_start,
                        e.previous_end,
                        e.previous_room_id,
                        e.at,
                    )
                )
            case ReservationCancelled() as e:
                rows.append(
                    (
                        envelope.event_id,
                        e.user_id,
                        e.reservation_id,
                        e.room_id,
                        "cancelled",
                        e.start,
                        e.end,
                        None,
                        None,
                        None,
                        e.at,
                    )
                )
    if rows:
        await conn.executemany(RECORD, rows)


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("reservation_history", "reservation_history_rooms"),
    handles=(
        RoomAdded,
        ReservationRegistered,
        ReservationChanged,
        ReservationCancelled,
    ),
)
