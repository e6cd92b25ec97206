"""Reads of a user's reservation history, newest first."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead


class HistoryEntry(msgspec.Struct, frozen=True):
    event_id: UUID
    reservation_id: UUID
    room_id: UUID
    room_name: str
    action: str
    start: datetime
    end: datetime
    previous_start: datetime | None
    previous_end: datetime | None
    previous_room_id: UUID | None
    at: datetime
    actor: str | None  # the user's own sub, or "admin" when an admin acted; null before it was recorded


# The view keeps who acted; a reader sees an admin's change as "admin", never the admin's
# sub (only the user and an admin can change a user's reservation).
COLUMNS = """event_id, reservation_id, room_id, room_name, action, start_at, end_at,
    previous_start, previous_end, previous_room_id, at,
    CASE WHEN actor IS NULL OR actor = user_id THEN actor ELSE 'admin' END"""
FIRST_PAGE = f"""
SELECT {COLUMNS} FROM reservation_history WHERE user_id = $1
ORDER BY at DESC, event_id DESC LIMIT $2
"""
NEXT_PAGE = f"""
SELECT {COLUMNS} FROM reservation_history
WHERE user_id = $1 AND (at, event_id) < ($3, $4)
ORDER BY at DESC, event_id DESC LIMIT $2
"""


async def history_of(read: ViewRead, user_id: str, page_size: int, after: tuple[datetime, UUID] | None) -> list[HistoryEntry]:
    if after is None:
        rows = await read.fetch(FIRST_PAGE, user_id, page_size + 1)
    else:
        rows = await read.fetch(NEXT_PAGE, user_id, page_size + 1, *after)
    return [HistoryEntry(*r) for r in rows]
