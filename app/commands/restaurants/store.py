"""SQL on the restaurants module's table."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.events.restaurants import MenuItem, RestaurantRegistered
from app.infra.db import Connection
from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork

INSERT = """
INSERT INTO command.restaurants (id, name, address, lat, lon, delivery_radius_km, timezone,
    opening_hours, menu, menu_revision, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
"""
REVISE = """
UPDATE command.restaurants SET menu = $2, menu_revision = menu_revision + 1, updated_at = $3
WHERE id = $1 RETURNING menu_revision
"""

_json = msgspec.json.Encoder()


def insert_restaurant(uow: UnitOfWork, r: RestaurantRegistered, at: datetime) -> None:
    """The restaurant, as its event tells it, saved to be written with its events in one statement."""
    uow.save(
        Write(
            INSERT,
            (
                r.restaurant_id,
                r.name,
                r.address,
                r.lat,
                r.lon,
                r.delivery_radius_km,
                r.timezone,
                _json.encode(r.opening_hours).decode(),
                _json.encode(r.menu).decode(),
                r.menu_revision,
                at,
            ),
        )
    )


async def revise_menu(conn: Connection, restaurant_id: UUID, menu: list[MenuItem], at: datetime) -> int | None:
    """The new menu revision, or None if there is no such restaurant."""
    revision = await conn.fetchval(REVISE, restaurant_id, _json.encode(menu).decode(), at)
    return None if revision is None else int(revision)
