"""Projects room events into the `rooms` view.

Like every projector, its SQL names tables without a schema: the subscription runner
sets the search_path, to `query` for the live view or to a shadow schema during a
rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.events.reservations import RoomAdded
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "rooms"

INSERT = """
INSERT INTO rooms (id, name, capacity, location) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO NOTHING
"""


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    rows = [
        (e.room_id, e.name, e.capacity, e.location) for e in (envelope.event for envelope in batch) if isinstance(e, RoomAdded)
    ]
    if rows:
        await conn.executemany(INSERT, rows)


subscription = Subscription(VIEW, project, schema="query", tables=("rooms",), event_types=(RoomAdded,))
