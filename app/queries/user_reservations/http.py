"""GET /users/{user_id}/reservations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from litestar import Response, get
from litestar.params import FromQuery

from app.infra.web.access import CallerDep, allow
from app.infra.web.openapi import view_read
from app.infra.web.pages import Cursor, PageSize, decode_cursor, page_of
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, UserIdInPath, WaitMs, check_own, read_view, view_response
from app.queries.user_reservations import store
from app.queries.user_reservations.projector import VIEW
from app.roles import Role


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class UserReservationPage(msgspec.Struct, frozen=True):
    items: list[store.UserReservation]
    next_cursor: str | None


@get(
    "/users/{user_id:str}/reservations",
    summary="A user's reservations, soonest start first",
    description="The user's reservations, soonest start first; `status` keeps only active or cancelled ones.",
    operation_id="listUserReservations",
    opt={**view_read(404), **allow(Role.USER)},
)
async def list_reservations(
    services: ServicesDep,
    caller: CallerDep,
    user_id: UserIdInPath,
    status: FromQuery[ReservationStatus | None] = None,
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response[UserReservationPage]:
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    await check_own(read, caller, Role.USER, user_id, f"user {user_id} is not yours to read")
    after = decode_cursor(cursor, tuple[datetime, UUID]) if cursor else None
    found = await store.list_for_user(read, user_id, status.value if status else None, page_size, after)
    items, next_cursor = page_of(found, page_size, lambda r: (r.start, r.id))
    return view_response(UserReservationPage(items, next_cursor), read)


routes = [list_reservations]
