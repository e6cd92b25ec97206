"""Reads of a user's reservations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead


class UserReservation(msgspec.Struct, frozen=True):
    id: UUID
    room_id: UUID
    room_name: str
    start: datetime
    end: datetime
    status: str
    version: int


COLUMNS = "id, room_id, room_name, start_at, end_at, status, version"
# `status = coalesce($2, status)` would hide the index's status column from the
# planner, so the two shapes are separate statements.
ALL = f"""
SELECT {COLUMNS} FROM user_reservations
WHERE user_id = $1 AND (start_at, id) > ($2, $3)
ORDER BY start_at, id LIMIT $4
"""
BY_STATUS = f"""
SELECT {COLUMNS} FROM user_reservations
WHERE user_id = $1 AND status = $5 AND (start_at, id) > ($2, $3)
ORDER BY start_at, id LIMIT $4
"""


async def list_for_user(
    read: ViewRead,
    user_id: str,
    status: str | None,
    page_size: int,
    after: tuple[datetime, UUID] | None,
) -> list[UserReservation]:
    start, id_ = after or (datetime.fromisoformat("0001-01-01T00:00:00+00:00"), UUID(int=0))
    if status is None:
        rows = await read.fetch(ALL, user_id, start, id_, page_size + 1)
    else:
        rows = await read.fetch(BY_STATUS, user_id, start, id_, page_size + 1, status)
    return [UserReservation(*r) for r in rows]
