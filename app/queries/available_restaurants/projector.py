"""Restaurants as points on the earth (a `cube` in metres, GiST-indexed) with their
delivery radius, time zone and opening windows."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.restaurants import RestaurantRegistered
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "available_restaurants"

# Earth-centred coordinates in metres on a sphere of radius 6371 km (like earthdistance's
# ll_to_earth, without needing that untrusted extension).
POINT = """public.cube(ARRAY[
    6371000 * cos(radians({lat})) * cos(radians({lon})),
    6371000 * cos(radians({lat})) * sin(radians({lon})),
    6371000 * sin(radians({lat}))])"""

INSERT = f"""
INSERT INTO available_restaurants (id, name, address, lat, lon, location, delivery_radius_km, timezone)
VALUES ($1, $2, $3, $4, $5, {POINT.format(lat="$4::float8", lon="$5::float8")}, $6, $7)
ON CONFLICT (id) DO NOTHING RETURNING true
"""
HOURS = (
    "INSERT INTO available_restaurant_hours (restaurant_id, day, opens, closes) VALUES ($1, $2, $3::text::time, $4::text::time)"
)


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    for envelope in batch:
        match envelope.event:
            case RestaurantRegistered() as e:
                if await conn.fetchval(
                    INSERT, e.restaurant_id, e.name, e.address, e.lat, e.lon, e.delivery_radius_km, e.timezone
                ):
                    await conn.executemany(HOURS, [(e.restaurant_id, w.day, w.open, w.close) for w in e.opening_hours])


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("available_restaurants", "available_restaurant_hours"),
    event_types=(RestaurantRegistered,),
)
