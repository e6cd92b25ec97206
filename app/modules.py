"""The one list of modules. The HTTP app takes their routes, the subscription host their
subscriptions, the OpenAPI document their tags, the tokens their roles. Adding a module is
writing its package (with a `module.py` saying what it contributes), a migration for its
tables, and one line here."""

from __future__ import annotations

from importlib import import_module

from app.infra.modules import Module
from app.infra.purger import IDEMPOTENCY_KEYS, Purge
from app.infra.subscriptions import Subscription

MODULES: list[Module] = [
    import_module(declared).module
    for declared in (
        # command modules
        "app.commands.reservations.module",
        "app.commands.consumers.module",
        "app.commands.restaurants.module",
        "app.commands.orders.module",
        "app.commands.accounting.module",
        "app.commands.kitchen.module",
        "app.commands.delivery.module",
        "app.commands.listeners.module",
        # views
        "app.queries.rooms.module",
        "app.queries.user_reservations.module",
        "app.queries.reservation_history.module",
        "app.queries.room_popularity.module",
        "app.queries.order_details.module",
        "app.queries.order_history.module",
        "app.queries.available_restaurants.module",
        # health, readiness, metrics
        "app.operations",
    )
]

SUBSCRIPTIONS: list[Subscription] = [s for m in MODULES for s in m.subscriptions]
# The views: the subscriptions that write the query schema (they alone are rebuilt).
VIEWS: dict[str, Subscription] = {s.name: s for s in SUBSCRIPTIONS if s.schema == "query"}
ROLES: list[str] = [r for m in MODULES for r in m.roles]
PURGES: list[Purge] = [IDEMPOTENCY_KEYS, *(p for m in MODULES for p in m.purges)]
TAGS = list({m.tag.name: m.tag for m in MODULES if m.tag is not None}.values())
