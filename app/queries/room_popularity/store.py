"""Room popularity over a window, computed by PostgreSQL from the GiST-indexed bookings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead


class RoomPopularity(msgspec.Struct, frozen=True):
    room_id: UUID
    name: str
    reservations: int
    booked_hours: float


RANKING = """
WITH window_ AS (SELECT tstzrange($1, $2, '[)') AS w),
per_room AS (
    SELECT b.room_id,
           count(*) AS reservations,
           sum(extract(epoch FROM upper(b.period * w.w) - lower(b.period * w.w))) / 3600.0
               AS booked_hours
    FROM room_popularity_bookings b, window_ w
    WHERE b.period && w.w
    GROUP BY b.room_id
)
SELECT p.room_id, r.name, p.reservations, p.booked_hours::float8
FROM per_room p JOIN room_popularity_rooms r ON r.id = p.room_id
ORDER BY p.reservations DESC, p.booked_hours DESC, r.name, p.room_id
LIMIT $3
"""


async def ranking(read: ViewRead, start: datetime, end: datetime, limit: int) -> list[RoomPopularity]:
    rows = await read.fetch(RANKING, start, end, limit)
    return [RoomPopularity(*r) for r in rows]
