"""POST /restaurants, PUT /restaurants/{id}/menu."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import msgspec
from litestar import Request, Response, post, put
from litestar.params import FromPath, JSONBody

from app.commands.restaurants import handlers
from app.events.restaurants import MenuItem, OpeningWindow
from app.infra.db import Connection
from app.infra.web import IdempotencyKey, Rules, ServicesDep, command, strict_body

_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_ZONES = available_timezones()


class OpeningWindowIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    day: int
    open: str
    close: str


class MenuItemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: str
    price: str


class RegisterRestaurant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    address: str
    lat: float
    lon: float
    delivery_radius_km: float
    timezone: str = "UTC"
    opening_hours: list[OpeningWindowIn] = []
    menu: list[MenuItemIn] = []


class ReviseMenu(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    menu: list[MenuItemIn]


def check_menu(rules: Rules, menu: list[MenuItemIn]) -> list[MenuItem]:
    items = []
    for i, item in enumerate(menu):
        rules.length(item.id, f"menu[{i}].id", 1, 100)
        rules.length(item.name, f"menu[{i}].name", 1, 200)
        items.append(MenuItem(item.id, item.name, rules.money(item.price, f"menu[{i}].price")))
    rules.check(len({m.id for m in menu}) == len(menu), "menu", "menu item ids must be unique")
    return items


def check_hours(rules: Rules, hours: list[OpeningWindowIn]) -> list[OpeningWindow]:
    for i, window in enumerate(hours):
        rules.check(0 <= window.day <= 6, f"opening_hours[{i}].day", "0-6, Monday = 0")
        for name, value in (("open", window.open), ("close", window.close)):
            rules.check(bool(_HH_MM.fullmatch(value)), f"opening_hours[{i}].{name}", "HH:MM, 00:00-23:59")
    return [OpeningWindow(w.day, w.open, w.close) for w in hours]


def _known_zone(name: str) -> bool:
    try:
        return name in _ZONES and ZoneInfo(name) is not None
    except (ZoneInfoNotFoundError, ValueError):
        return False


@post("/restaurants", tags=["restaurants"], summary="Register a restaurant with its menu", status_code=201)
async def register_restaurant(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    data: JSONBody[RegisterRestaurant],
    idempotency_key: IdempotencyKey = None,
) -> Response[handlers.Restaurant]:
    data = await strict_body(request, RegisterRestaurant)
    rules = Rules()
    rules.length(data.name, "name", 1, 200)
    rules.length(data.address, "address", 1, 500)
    rules.check(-90 <= data.lat <= 90, "lat", "must be -90..90")
    rules.check(-180 <= data.lon <= 180, "lon", "must be -180..180")
    rules.check(0 < data.delivery_radius_km <= 1000, "delivery_radius_km", "must be > 0 (at most 1000)")
    rules.check(_known_zone(data.timezone), "timezone", "must be an IANA time zone name")
    hours = check_hours(rules, data.opening_hours)
    menu = check_menu(rules, data.menu)
    rules.raise_if_any()

    async def work(conn: Connection) -> tuple[int, Any]:
        restaurant = await handlers.register_restaurant(
            conn,
            services.clock,
            name=data.name,
            address=data.address,
            lat=data.lat,
            lon=data.lon,
            delivery_radius_km=data.delivery_radius_km,
            timezone=data.timezone,
            opening_hours=hours,
            menu=menu,
        )
        return 201, restaurant

    return await command(request, services, work, body=data, key=idempotency_key)


@put("/restaurants/{restaurant_id:uuid}/menu", tags=["restaurants"], summary="Replace the menu")
async def revise_menu(
    request: Request[Any, Any, Any],
    services: ServicesDep,
    restaurant_id: FromPath[UUID],
    data: JSONBody[ReviseMenu],
) -> Response[handlers.MenuState]:
    data = await strict_body(request, ReviseMenu)
    rules = Rules()
    menu = check_menu(rules, data.menu)
    rules.raise_if_any()

    async def work(conn: Connection) -> tuple[int, Any]:
        return 200, await handlers.revise_menu(conn, services.clock, restaurant_id, menu)

    return await command(request, services, work)


routes = [register_restaurant, revise_menu]
