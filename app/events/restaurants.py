"""Events of the restaurants module."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import msgspec

from app.events import Event, register


class OpeningWindow(msgspec.Struct, frozen=True, gc=False):
    day: int  # Monday = 0
    open: str  # "HH:MM", local time of the restaurant
    close: str  # earlier than `open`: the window runs past midnight


class MenuItem(msgspec.Struct, frozen=True, gc=False):
    id: str
    name: str
    price: Decimal


class RestaurantRegistered(Event, frozen=True, tag="restaurants.restaurant_registered"):
    STREAM = "restaurant_id"
    restaurant_id: UUID
    name: str
    address: str
    lat: float
    lon: float
    delivery_radius_km: float
    timezone: str
    opening_hours: list[OpeningWindow]
    menu: list[MenuItem]
    menu_revision: int


class MenuRevised(Event, frozen=True, tag="restaurants.menu_revised"):
    STREAM = "restaurant_id"
    restaurant_id: UUID
    menu: list[MenuItem]
    menu_revision: int


register(RestaurantRegistered, MenuRevised)
