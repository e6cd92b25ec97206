"""Register a restaurant; revise its menu (orders keep what they were placed with)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.events.restaurants import MenuItem, MenuRevised, OpeningWindow, RestaurantRegistered
from app.infra import outbox
from app.infra.clock import Clock, uuid7
from app.infra.db import Connection
from app.infra.money import money
from app.infra.problems import NotFound

INSERT = """
INSERT INTO command.restaurants (id, name, address, lat, lon, delivery_radius_km, timezone,
    opening_hours, menu, menu_revision, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)
"""
REVISE = """
UPDATE command.restaurants SET menu = $2, menu_revision = menu_revision + 1, updated_at = $3
WHERE id = $1 RETURNING menu_revision
"""

_json = msgspec.json.Encoder()


class MenuItemOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    price: str


class Restaurant(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    address: str
    lat: float
    lon: float
    delivery_radius_km: float
    timezone: str
    opening_hours: list[OpeningWindow]
    menu: list[MenuItemOut]
    menu_revision: int
    position: str


class MenuState(msgspec.Struct, frozen=True):
    id: UUID
    menu: list[MenuItemOut]
    menu_revision: int
    position: str


def _menu_out(menu: list[MenuItem]) -> list[MenuItemOut]:
    return [MenuItemOut(m.id, m.name, money(m.price)) for m in menu]


async def register_restaurant(
    conn: Connection,
    clock: Clock,
    *,
    name: str,
    address: str,
    lat: float,
    lon: float,
    delivery_radius_km: float,
    timezone: str,
    opening_hours: list[OpeningWindow],
    menu: list[MenuItem],
) -> Restaurant:
    restaurant_id = uuid7()
    await conn.execute(
        INSERT,
        restaurant_id,
        name,
        address,
        lat,
        lon,
        delivery_radius_km,
        timezone,
        _json.encode(opening_hours).decode(),
        _json.encode(menu).decode(),
        clock.now(),
    )
    event = RestaurantRegistered(
        restaurant_id=restaurant_id,
        name=name,
        address=address,
        lat=lat,
        lon=lon,
        delivery_radius_km=delivery_radius_km,
        timezone=timezone,
        opening_hours=opening_hours,
        menu=menu,
        menu_revision=1,
    )
    position = await outbox.append(conn, [event])
    return Restaurant(
        restaurant_id,
        name,
        address,
        lat,
        lon,
        delivery_radius_km,
        timezone,
        opening_hours,
        _menu_out(menu),
        1,
        position.token(),
    )


async def revise_menu(conn: Connection, clock: Clock, restaurant_id: UUID, menu: list[MenuItem]) -> MenuState:
    revision = await conn.fetchval(REVISE, restaurant_id, _json.encode(menu).decode(), clock.now())
    if revision is None:
        raise NotFound(f"restaurant {restaurant_id} does not exist")
    event = MenuRevised(restaurant_id=restaurant_id, menu=menu, menu_revision=revision)
    position = await outbox.append(conn, [event])
    return MenuState(restaurant_id, _menu_out(menu), revision, position.token())
