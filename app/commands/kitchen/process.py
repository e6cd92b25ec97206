"""Kitchen's subscriber: a ticket waits for the order's payment, opens when it is
authorized, is dropped when it is declined, and is cancelled with the order."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from app.events.accounting import PaymentAuthorized, PaymentDeclined
from app.events.kitchen import TicketCancelled, TicketCreated
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra import outbox
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
OPEN = ["CREATED", "ACCEPTED", "PREPARING", "READY_FOR_PICKUP"]


async def react(conn: Connection, batch: Sequence[outbox.Envelope]) -> None:
    for envelope in batch:
        match envelope.event:
            case OrderPlaced() as e:
                await conn.execute(PREPARE, e.order_id, e.restaurant_id, _json.encode(e.line_items).decode(), e.at)
            case PaymentAuthorized() as e:
                row = await conn.fetchrow(MOVE, e.order_id, "CREATED", e.at, ["AWAITING_PAYMENT"])
                if row is not None:
                    await outbox.append(
                        conn,
                        [TicketCreated(order_id=e.order_id, restaurant_id=row["restaurant_id"], at=e.at)],
                    )
            case PaymentDeclined() as e:
                await conn.execute(MOVE, e.order_id, "REJECTED", e.at, ["AWAITING_PAYMENT"])
            case OrderCancelled() as e:
                # Before the payment came through there is no ticket to report.
                if await conn.fetchrow(MOVE, e.order_id, "CANCELLED", e.at, ["AWAITING_PAYMENT"]):
                    continue
                if await conn.fetchrow(MOVE, e.order_id, "CANCELLED", e.at, OPEN):
                    await outbox.append(conn, [TicketCancelled(order_id=e.order_id, at=e.at)])


subscription = Subscription(
    "kitchen",
    react,
    schema="command",
    emits_events=True,
    handles=(OrderPlaced, PaymentAuthorized, PaymentDeclined, OrderCancelled),
)
