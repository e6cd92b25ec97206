"""Restaurants open at a moment (in their own time zone) that deliver to a point.

The GiST index on `location` narrows the candidates to a box as wide as the largest
delivery radius around the point (chord <= arc, so the box never misses one); only
those are checked for exact great-circle distance and opening hours. A window whose
`closes` is not after `opens` runs past midnight into the next day."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.infra.consistency import ViewRead
from app.queries.available_restaurants.projector import POINT


class AvailableRestaurant(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    address: str
    distance_km: float


AVAILABLE = f"""
WITH here AS (
    SELECT {POINT.format(lat="$1::float8", lon="$2::float8")} AS point,
           (SELECT coalesce(max(delivery_radius_km), 0) * 1000
              FROM available_restaurants) AS widest_m
),
candidates AS (
    SELECT r.*,
           2 * 6371 * asin(sqrt(
               sin(radians(r.lat - $1) / 2) ^ 2
               + cos(radians($1)) * cos(radians(r.lat)) * sin(radians(r.lon - $2) / 2) ^ 2
           )) AS distance_km,
           ($3::timestamptz AT TIME ZONE r.timezone) AS local_at
    FROM available_restaurants r, here
    WHERE cube_enlarge(here.point, here.widest_m, 3) @> r.location
)
SELECT c.id, c.name, c.address, c.distance_km
FROM candidates c
WHERE c.distance_km <= c.delivery_radius_km
  AND EXISTS (
    SELECT 1 FROM available_restaurant_hours h
    WHERE h.restaurant_id = c.id AND (
        (h.opens < h.closes AND h.day = extract(isodow FROM c.local_at) - 1
            AND c.local_at::time >= h.opens AND c.local_at::time < h.closes)
        OR (h.opens >= h.closes AND (
            (h.day = extract(isodow FROM c.local_at) - 1 AND c.local_at::time >= h.opens)
            OR (h.day = (extract(isodow FROM c.local_at)::int + 5) % 7 AND c.local_at::time < h.closes)))
    ))
ORDER BY c.distance_km, c.id
"""


async def available(read: ViewRead, lat: float, lon: float, at: datetime) -> list[AvailableRestaurant]:
    return [AvailableRestaurant(*r) for r in await read.fetch(AVAILABLE, lat, lon, at)]
