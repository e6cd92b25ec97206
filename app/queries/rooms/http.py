"""GET /rooms."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Response, get

from app.infra.web.access import allow
from app.infra.web.openapi import view_read
from app.infra.web.pages import Cursor, PageSize, decode_cursor, page_of
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, WaitMs, read_view, view_response
from app.queries.rooms import store
from app.queries.rooms.projector import VIEW
from app.roles import Role


class RoomPage(msgspec.Struct, frozen=True):
    items: list[store.Room]
    next_cursor: str | None


@get(
    "/rooms",
    summary="List rooms by name",
    description="Every room, by name, keyset-paginated.",
    operation_id="listRooms",
    opt={**view_read(), **allow(Role.USER)},
)
async def list_rooms(
    services: ServicesDep,
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[RoomPage]:
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    after = decode_cursor(cursor, tuple[str, UUID]) if cursor else None
    rooms = await store.list_rooms(read, page_size, after)
    items, next_cursor = page_of(rooms, page_size, lambda r: (r.name, r.id))
    return view_response(RoomPage(items, next_cursor), read)


routes = [list_rooms]
