"""Delivery's subscriber: opens a delivery when the kitchen accepts, learns when the
food is ready, and releases the courier when the order is cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from app.commands.delivery import handlers, store
from app.events.kitchen import TicketAccepted, TicketStatusChanged
from app.events.orders import OrderCancelled
from app.infra import outbox
from app.infra.db import Connection
from app.infra.subscriptions import Subscription


async def react(conn: Connection, batch: Sequence[outbox.Envelope]) -> None:
    for envelope in batch:
        match envelope.event:
            case TicketAccepted() as e:
                events = await handlers.open_delivery(conn, e.order_id, e.at)
            case TicketStatusChanged(status="READY_FOR_PICKUP") as e:
                await conn.execute(store.MARK_READY, e.order_id)
                events = []
            case OrderCancelled() as e:
                events = await handlers.cancel_delivery(conn, e.order_id, e.at)
            case _:
                events = []
        if events:
            await outbox.append(conn, events)


subscription = Subscription(
    "delivery",
    react,
    schema="command",
    emits_events=True,
    handles=(TicketAccepted, TicketStatusChanged, OrderCancelled),
)
