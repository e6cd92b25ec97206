"""GET /restaurants/available."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Response, get
from litestar.params import FromQuery

from app.infra.web import MinPosition, Rules, ServicesDep, WaitMs, aware, read_view, view_response
from app.queries.available_restaurants import store
from app.queries.available_restaurants.projector import VIEW


class AvailableList(msgspec.Struct, frozen=True):
    items: list[store.AvailableRestaurant]


@get("/restaurants/available", tags=["restaurants"], summary="Open now and delivering here, nearest first")
async def available_restaurants(
    services: ServicesDep,
    lat: FromQuery[float],
    lon: FromQuery[float],
    at: FromQuery[datetime],
    x_min_position: MinPosition = None,
    x_wait_ms: WaitMs = None,
) -> Response[AvailableList]:
    at = aware(at, "at")
    rules = Rules()
    rules.check(-90 <= lat <= 90, "lat", "must be -90..90")
    rules.check(-180 <= lon <= 180, "lon", "must be -180..180")
    rules.raise_if_any()
    read = await read_view(services, VIEW, x_min_position, x_wait_ms)
    return view_response(AvailableList(await store.available(read, lat, lon, at)), read)


routes = [available_restaurants]
