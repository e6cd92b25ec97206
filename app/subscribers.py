"""Every subscriber of the event bus, by name: the views (projectors), the command
modules' process managers, and the listeners' fan-out. The one place that knows them all."""

from __future__ import annotations

from app.commands.accounting import process as accounting
from app.commands.delivery import process as delivery
from app.commands.kitchen import process as kitchen
from app.commands.listeners import process as listeners
from app.commands.orders import process as orders
from app.infra.subscriptions import Subscription
from app.queries.available_restaurants import projector as available_restaurants
from app.queries.order_details import projector as order_details
from app.queries.order_history import projector as order_history
from app.queries.reservation_history import projector as reservation_history
from app.queries.room_popularity import projector as room_popularity
from app.queries.rooms import projector as rooms
from app.queries.user_reservations import projector as user_reservations

VIEWS: dict[str, Subscription] = {
    s.name: s
    for s in (
        rooms.subscription,
        user_reservations.subscription,
        reservation_history.subscription,
        room_popularity.subscription,
        order_details.subscription,
        order_history.subscription,
        available_restaurants.subscription,
    )
}

PROCESS_MANAGERS: dict[str, Subscription] = {
    s.name: s for s in (orders.subscription, accounting.subscription, kitchen.subscription, delivery.subscription)
}

# Matches each batch of the log against every registered listener (event listeners).
FANOUT = listeners.subscription

ALL: list[Subscription] = [*VIEWS.values(), *PROCESS_MANAGERS.values(), FANOUT]
