"""GET /users/{user_id}/reservation-history."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Response, get

from app.infra.web.access import CallerDep, allow
from app.infra.web.openapi import view_read
from app.infra.web.pages import Cursor, PageSize, decode_cursor, page_of
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, UserIdInPath, WaitMs, check_own, read_view, view_response
from app.queries.reservation_history import store
from app.queries.reservation_history.projector import VIEW
from app.roles import Role


class HistoryPage(msgspec.Struct, frozen=True):
    items: list[store.HistoryEntry]
    next_cursor: str | None


@get(
    "/users/{user_id:str}/reservation-history",
    summary="Every change a user made to reservations, newest first",
    description="One entry per change (registered, changed, cancelled); `previous_*` are set for `changed` only.",
    operation_id="getReservationHistory",
    opt={**view_read(404), **allow(Role.USER)},
)
async def history(
    services: ServicesDep,
    caller: CallerDep,
    user_id: UserIdInPath,
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[HistoryPage]:
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    await check_own(read, caller, Role.USER, user_id, f"user {user_id} is not yours to read")
    after = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else None
    found = await store.history_of(read, user_id, page_size, after)
    items, next_cursor = page_of(found, page_size, lambda h: (h.at, h.event_id))
    return view_response(HistoryPage(items, next_cursor), read)


routes = [history]
