"""The restaurants module's command endpoints."""

from __future__ import annotations

from app.commands.restaurants import handlers
from app.commands.restaurants.handlers import RegisterRestaurant, ReviseMenu
from app.errors import NotFound
from app.infra.web.commands import command
from app.roles import Role

_MENU = [{"id": "margherita", "name": "Pizza Margherita", "price": "9.50"}]

routes = [
    command(
        "POST",
        "/restaurants",
        RegisterRestaurant,
        handlers.register_restaurant,
        status=201,
        one_statement=True,
        operation_id="registerRestaurant",
        summary="Register a restaurant with its menu",
        description="Opening hours are local to `timezone`; a `close` earlier than `open` runs past midnight.",
        example={
            "name": "Pizza Roma",
            "address": "1 Via Roma",
            "lat": 48.85,
            "lon": 2.35,
            "delivery_radius_km": 5,
            "timezone": "Europe/Paris",
            "opening_hours": [{"day": 0, "open": "11:00", "close": "23:00"}],
            "menu": _MENU,
        },
    ),
    command(
        "PUT",
        "/restaurants/{restaurant_id:uuid}/menu",
        ReviseMenu,
        handlers.revise_menu,
        refusals=[NotFound],
        allow=[Role.RESTAURANT],
        caller_in_path="restaurant_id",
        operation_id="reviseMenu",
        summary="Replace the menu",
        description="Orders already placed keep the names and prices they were placed with.",
        example={"menu": _MENU},
    ),
]
