"""Kitchen's subscriber: a ticket waits for the order's payment, opens when it is
authorized, is dropped when it is declined, and is cancelled with the order."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from app.events.accounting import PaymentAuthorized, PaymentDeclined
from app.events.kitchen import TicketCancelled, TicketCreated
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra import outbox
from app.infra.batching import StatementRuns
from app.infra.db import Connection
from app.infra.subscriptions import Subscription

_json = msgspec.json.Encoder()

PREPARE = """
INSERT INTO command.kitchen_tickets (order_id, restaurant_id, line_items, status, updated_at)
VALUES ($1, $2, $3, 'AWAITING_PAYMENT', $4) ON CONFLICT (order_id) DO NOTHING
"""
MOVE = """
UPDATE command.kitchen_tickets SET status = $2, updated_at = $3
WHERE order_id = $1 AND status = ANY($4::text[]) RETURNING restaurant_id, status
"""
# Opens the tickets of a run of authorized payments in one statement.
OPEN_PAID = """
UPDATE command.kitchen_tickets t SET status = 'CREATED', updated_at = paid.at
FROM unnest($1::uuid[], $2::timestamptz[]) AS paid(order_id, at)
WHERE t.order_id = paid.order_id AND t.status = 'AWAITING_PAYMENT'
RETURNING t.order_id, t.restaurant_id
"""
OPEN = ["CREATED", "ACCEPTED", "PREPARING", "READY_FOR_PICKUP"]


async def _open_paid(conn: Connection, paid: list[PaymentAuthorized]) -> None:
    """Open the tickets of `paid` and report them, in event order: two round trips for
    the whole run instead of two per payment."""
    if not paid:
        return
    rows = await conn.fetch(OPEN_PAID, [e.order_id for e in paid], [e.at for e in paid])
    opened = {r["order_id"]: r["restaurant_id"] for r in rows}
    created = []
    for e in paid:
        restaurant_id = opened.pop(e.order_id, None)  # once, even if a payment came twice
        if restaurant_id is not None:
            created.append(TicketCreated(order_id=e.order_id, restaurant_id=restaurant_id, at=e.at))
    if created:
        await outbox.append(conn, created)
    paid.clear()


async def react(conn: Connection, batch: Sequence[outbox.Envelope]) -> None:
    runs = StatementRuns(conn)
    paid: list[PaymentAuthorized] = []
    for envelope in batch:
        event = envelope.event
        if isinstance(event, OrderPlaced | PaymentDeclined | OrderCancelled):
            await _open_paid(conn, paid)
        match event:
            case OrderPlaced() as e:
                await runs.add(PREPARE, e.order_id, e.restaurant_id, _json.encode(e.line_items).decode(), e.at)
            case PaymentAuthorized() as e:
                await runs.flush()
                paid.append(e)
            case PaymentDeclined() as e:
                await runs.add(MOVE, e.order_id, "REJECTED", e.at, ["AWAITING_PAYMENT"])
            case OrderCancelled() as e:
                await runs.flush()
                # Before the payment came through there is no ticket to report.
                if await conn.fetchrow(MOVE, e.order_id, "CANCELLED", e.at, ["AWAITING_PAYMENT"]):
                    continue
                if await conn.fetchrow(MOVE, e.order_id, "CANCELLED", e.at, OPEN):
                    await outbox.append(conn, [TicketCancelled(order_id=e.order_id, at=e.at)])
    await _open_paid(conn, paid)
    await runs.flush()


subscription = Subscription(
    "kitchen",
    react,
    schema="command",
    emits_events=True,
    handles=(OrderPlaced, PaymentAuthorized, PaymentDeclined, OrderCancelled),
)
