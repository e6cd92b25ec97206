"""GET /restaurants/available."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Response, get
from litestar.params import FromQuery

from app.errors import Invalid
from app.infra.web.access import allow
from app.infra.web.decoding import aware
from app.infra.web.openapi import view_read
from app.infra.web.services import ServicesDep
from app.infra.web.views import MinPosition, WaitMs, read_view, view_response
from app.queries.available_restaurants import store
from app.queries.available_restaurants.projector import VIEW
from app.roles import Role


class AvailableList(msgspec.Struct, frozen=True):
    items: list[store.AvailableRestaurant]


@get(
    "/restaurants/available",
    summary="Open now and delivering here, nearest first",
    description="Restaurants open at `at` (in their own time zone) whose delivery radius covers the point, nearest first "
    "(great-circle distance). 422: `lat` outside -90..90 or `lon` outside -180..180.",
    operation_id="availableRestaurants",
    opt={**view_read(422, limits={"lat": (-90, 90), "lon": (-180, 180)}), **allow(Role.CONSUMER)},
)
async def available_restaurants(
    services: ServicesDep,
    lat: FromQuery[float],
    lon: FromQuery[float],
    at: FromQuery[datetime],
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
) -> Response[AvailableList]:
    at = aware(at, "at")
    errors = [
        {"field": name, "message": f"must be -{limit}..{limit}"}
        for name, value, limit in (("lat", lat, 90), ("lon", lon, 180))
        if not -limit <= value <= limit
    ]
    if errors:
        raise Invalid("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    # As the restaurants module keeps coordinates: to 1e-9 degrees (no float8 underflow).
    found = await store.available(read, round(lat, 9), round(lon, 9), at)
    return view_response(AvailableList(found), read)


routes = [available_restaurants]
