"""Reads of the rooms view."""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead


class Room(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    capacity: int
    location: str | None


FIRST_PAGE = "SELECT id, name, capacity, location FROM rooms ORDER BY name, id LIMIT $1"
NEXT_PAGE = """
SELECT id, name, capacity, location FROM rooms
WHERE (name, id) > ($2, $3) ORDER BY name, id LIMIT $1
"""


async def list_rooms(read: ViewRead, page_size: int, after: tuple[str, UUID] | None) -> list[Room]:
    if after is None:
        rows = await read.fetch(FIRST_PAGE, page_size + 1)
    else:
        rows = await read.fetch(NEXT_PAGE, page_size + 1, *after)
    return [Room(*r) for r in rows]
