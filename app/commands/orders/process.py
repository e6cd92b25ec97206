"""The orders module's subscriber: keeps its copies of consumers and menus, and moves
orders along the saga as accounting, kitchen and delivery report back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from app.commands.orders import domain, store
from app.events.accounting import PaymentDeclined
from app.events.consumers import ConsumerRegistered
from app.events.delivery import DeliveryDelivered, DeliveryPickedUp
from app.events.kitchen import TicketAccepted, TicketCreated, TicketStatusChanged
from app.events.orders import OrderStateChanged
from app.events.restaurants import MenuRevised, RestaurantRegistered
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription
from app.infra.unit_of_work import UnitOfWork


async def move_orders(uow: UnitOfWork, moves: Sequence[tuple[UUID, str, datetime]]) -> None:
    """Saga steps (order, target state, when), in order: each order moves if that is
    legal now, otherwise (cancelled, or the event was already applied) it stays. One
    statement per run of distinct orders."""
    start = 0
    while start < len(moves):
        end, seen = start, set()
        while end < len(moves) and moves[end][0] not in seen:  # an order twice: its second step waits
            seen.add(moves[end][0])
            end += 1
        run = moves[start:end]
        allowed = [" ".join(domain.TRANSITIONS[target]) for _, target, _ in run]
        moved = {r["id"]: r["version"] for r in await store.move_states(uow.conn, run, allowed)}
        uow.emit(
            *(
                OrderStateChanged(order_id=order_id, state=target, version=moved[order_id], at=at)
                for order_id, target, at in run
                if order_id in moved
            )
        )
        start = end


async def react(uow: UnitOfWork, batch: Sequence[Envelope]) -> None:
    conn = uow.conn
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
    await move_orders(uow, steps)


subscription = Subscription(
    store.SUBSCRIPTION,
    schema="command",
    react=react,
    event_types=(
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
