"""Every subscriber of the event bus, by name: the views (projectors) and, later, the
process managers. The one place that knows them all."""

from __future__ import annotations

from app.infra.subscriptions import Subscription
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
    )
}

ALL: list[Subscription] = [*VIEWS.values()]
