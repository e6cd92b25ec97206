"""The one list of modules. The HTTP app takes their routes, the subscription host their
subscriptions, the OpenAPI document their tags, the tokens their roles. Adding a module is
writing its package (with a `module.py` saying what it contributes) and one line here."""

from __future__ import annotations

from app import operations
from app.commands.accounting.module import module as accounting
from app.commands.consumers.module import module as consumers
from app.commands.delivery.module import module as delivery
from app.commands.kitchen.module import module as kitchen
from app.commands.listeners.module import module as listeners
from app.commands.orders.module import module as orders
from app.commands.reservations.module import module as reservations
from app.commands.restaurants.module import module as restaurants
from app.infra.modules import Module
from app.infra.subscriptions import Subscription
from app.queries.available_restaurants.module import module as available_restaurants
from app.queries.order_details.module import module as order_details
from app.queries.order_history.module import module as order_history
from app.queries.reservation_history.module import module as reservation_history
from app.queries.room_popularity.module import module as room_popularity
from app.queries.rooms.module import module as rooms
from app.queries.user_reservations.module import module as user_reservations

MODULES: list[Module] = [
    # command modules
    reservations,
    consumers,
    restaurants,
    orders,
    accounting,
    kitchen,
    delivery,
    listeners,
    # views
    rooms,
    user_reservations,
    reservation_history,
    room_popularity,
    order_details,
    order_history,
    available_restaurants,
    # health, readiness, metrics
    operations.module,
]

SUBSCRIPTIONS: list[Subscription] = [s for m in MODULES for s in m.subscriptions]
# The views: the subscriptions that write the query schema (they alone are rebuilt).
VIEWS: dict[str, Subscription] = {s.name: s for s in SUBSCRIPTIONS if s.schema == "query"}
ROLES: list[str] = [r for m in MODULES for r in m.roles]
TAGS = list({m.tag.name: m.tag for m in MODULES if m.tag is not None}.values())
