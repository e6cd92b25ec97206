"""The orders module's subscriber: keeps its copies of consumers and menus, and moves
orders along the saga as accounting, kitchen and delivery report back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from app.commands.orders import handlers, store
from app.events.accounting import PaymentDeclined
from app.events.consumers import ConsumerRegistered
from app.events.delivery import DeliveryDelivered, DeliveryPickedUp
from app.events.kitchen import TicketAccepted, TicketCreated, TicketStatusChanged
from app.events.restaurants import MenuRevised, RestaurantRegistered
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

NAME = "orders"


async def react(conn: Connection, batch: Sequence[Envelope]) -> None:
    steps: list[tuple[UUID, str, datetime]] = []  # the saga's, applied together at the end
    for envelope in batch:
        match envelope.event:
            case ConsumerRegistered(consumer_id=consumer_id):
                await store.remember_consumer(conn, consumer_id)
            case RestaurantRegistered() as e:
                await store.remember_menu(conn, e.restaurant_id, e.name, e.menu, e.menu_revision)
            case MenuRevised() as e:
                await store.revise_menu(conn, e.restaurant_id, e.menu, e.menu_revision)
            case TicketCreated() as e:
                steps.append((e.order_id, "APPROVED", e.at))
            case PaymentDeclined() as e:
                steps.append((e.order_id, "REJECTED", e.at))
            case TicketAccepted() as e:
                steps.append((e.order_id, "ACCEPTED", e.at))
            case TicketStatusChanged() as e:
                steps.append((e.order_id, e.status, e.at))
            case DeliveryPickedUp() as e:
                steps.append((e.order_id, "PICKED_UP", e.at))
            case DeliveryDelivered() as e:
                steps.append((e.order_id, "DELIVERED", e.at))
    await handlers.move_orders(conn, steps)


subscription = Subscription(
    NAME,
    react,
    schema="command",
    emits_events=True,
    handles=(
        ConsumerRegistered,
        RestaurantRegistered,
        MenuRevised,
        TicketCreated,
        PaymentDeclined,
        TicketAccepted,
        TicketStatusChanged,
        DeliveryPickedUp,
        DeliveryDelivered,
    ),
)
