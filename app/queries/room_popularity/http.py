"""GET /rooms/popularity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Response, get
from litestar.params import QueryParameter

from app.errors import invalid
from app.infra.web.access import allow
from app.infra.web.decoding import aware
from app.infra.web.openapi import view_read
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, WaitMs, read_view, view_response
from app.queries.room_popularity import store
from app.queries.room_popularity.projector import VIEW
from app.roles import Role


class PopularityList(msgspec.Struct, frozen=True):
    items: list[store.RoomPopularity]


@get(
    "/rooms/popularity",
    summary="Rooms ranked by how much they were booked in [from, to)",
    description="`reservations` counts active reservations overlapping the window, `booked_hours` sums their overlap. "
    "422: `to` is not after `from`.",
    operation_id="roomPopularity",
    opt={**view_read(422), **allow(Role.USER)},
)
async def popularity(
    services: ServicesDep,
    from_: Annotated[datetime, QueryParameter(name="from", description="window start, RFC 3339")],
    to: Annotated[datetime, QueryParameter(description="window end (exclusive), RFC 3339")],
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
) -> Response[PopularityList]:
    start, end = aware(from_, "from"), aware(to, "to")
    if end <= start:
        raise invalid("to", "must be after from")
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    return view_response(PopularityList(await store.ranking(read, start, end, limit)), read)


routes = [popularity]
