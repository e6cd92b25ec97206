"""Register a restaurant; revise its menu (orders keep what they were placed with)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from app.commands.restaurants import domain, store
from app.errors import NotFound
from app.events.restaurants import MenuItem, MenuRevised, OpeningWindow, RestaurantRegistered
from app.infra.clock import uuid7
from app.infra.money import Money, money, parse_money
from app.infra.unit_of_work import UnitOfWork
from app.infra.web.decoding import text

HourMinute = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, 00:00-23:59", examples=["09:30"])]


class OpeningWindowIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    day: Annotated[int, Meta(ge=0, le=6, description="Monday = 0")]
    open: HourMinute
    close: Annotated[HourMinute, Meta(description="earlier than open: the window runs past midnight")]


class MenuItemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Annotated[str, text(100)]
    name: Annotated[str, text(200)]
    price: Money


TimeZoneName = Annotated[str, text(100, description="an IANA time zone name", examples=["Europe/Paris"])]
Menu = Annotated[list[MenuItemIn], Meta(max_length=1000)]


class RegisterRestaurant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, text(200)]
    address: Annotated[str, text(500)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]
    delivery_radius_km: Annotated[float, Meta(gt=0, le=1000)]
    timezone: Annotated[
        str, Meta(min_length=1, max_length=100, description="an IANA time zone name", examples=["Europe/Paris"])
    ] = "UTC"
    opening_hours: Annotated[list[OpeningWindowIn], Meta(max_length=100)] = []
    menu: Menu = []

    def check(self) -> None:
        domain.check_restaurant(self.timezone, [m.id for m in self.menu])


class ReviseMenu(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    restaurant_id: UUID
    menu: Menu

    def check(self) -> None:
        domain.check_menu([m.id for m in self.menu])


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
    position: str = ""


class MenuState(msgspec.Struct, frozen=True):
    id: UUID
    menu: list[MenuItemOut]
    menu_revision: int
    position: str = ""


def _menu(menu: list[MenuItemIn]) -> list[MenuItem]:
    return [MenuItem(m.id, m.name, parse_money(m.price)) for m in menu]


def _menu_out(menu: list[MenuItem]) -> list[MenuItemOut]:
    return [MenuItemOut(m.id, m.name, money(m.price)) for m in menu]


async def register_restaurant(cmd: RegisterRestaurant, uow: UnitOfWork) -> Restaurant:
    r = RestaurantRegistered(
        restaurant_id=uuid7(),
        name=cmd.name,
        address=cmd.address,
        lat=domain.coordinate(cmd.lat),
        lon=domain.coordinate(cmd.lon),
        delivery_radius_km=cmd.delivery_radius_km,
        timezone=cmd.timezone,
        opening_hours=[OpeningWindow(w.day, w.open, w.close) for w in cmd.opening_hours],
        menu=_menu(cmd.menu),
        menu_revision=1,
    )
    uow.emit(r)
    store.insert_restaurant(uow, r, uow.now())
    return Restaurant(
        r.restaurant_id,
        r.name,
        r.address,
        r.lat,
        r.lon,
        r.delivery_radius_km,
        r.timezone,
        r.opening_hours,
        _menu_out(r.menu),
        r.menu_revision,
    )


async def revise_menu(cmd: ReviseMenu, uow: UnitOfWork) -> MenuState:
    menu = _menu(cmd.menu)
    revision = await store.revise_menu(uow.conn, cmd.restaurant_id, menu, uow.now())
    if revision is None:
        raise NotFound(f"restaurant {cmd.restaurant_id} does not exist")
    uow.emit(MenuRevised(restaurant_id=cmd.restaurant_id, menu=menu, menu_revision=revision))
    return MenuState(cmd.restaurant_id, _menu_out(menu), revision)
