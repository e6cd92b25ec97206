"""Accounting: authorizes or declines an order's payment against the consumer's credit,
reverses it when the order is cancelled, settles it on delivery.

Credit rule: authorized when the order total is at most the credit limit minus what is
already authorized and not yet settled (nor reversed). Every step is keyed by order id
and only moves a payment forward, so a redelivered event changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from app.events.accounting import PaymentAuthorized, PaymentDeclined, PaymentReversed, PaymentSettled
from app.events.consumers import ConsumerRegistered
from app.events.delivery import DeliveryDelivered
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra import outbox
from app.infra.db import Connection
from app.infra.subscriptions import Subscription

OPEN_ACCOUNT = """
INSERT INTO command.accounting_accounts (consumer_id, credit_limit) VALUES ($1, $2)
ON CONFLICT (consumer_id) DO NOTHING
"""
AVAILABLE = """
SELECT a.credit_limit - coalesce((
    SELECT sum(p.amount) FROM command.accounting_payments p
    WHERE p.consumer_id = a.consumer_id AND p.status = 'authorized'), 0)
FROM command.accounting_accounts a WHERE a.consumer_id = $1 FOR UPDATE
"""
RECORD = """
INSERT INTO command.accounting_payments (order_id, consumer_id, amount, status, updated_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING RETURNING true
"""
MOVE = """
UPDATE command.accounting_payments SET status = $2, updated_at = $3
WHERE order_id = $1 AND status = 'authorized' RETURNING true
"""


async def decide(conn: Connection, order: OrderPlaced) -> None:
    available: Decimal | None = await conn.fetchval(AVAILABLE, order.consumer_id)
    if available is not None and order.total <= available:
        status, reason = "authorized", ""
    else:
        status = "declined"
        reason = "no account" if available is None else f"exceeds available credit {available}"
    if not await conn.fetchval(RECORD, order.order_id, order.consumer_id, order.total, status, order.at):
        return  # already decided
    if status == "authorized":
        event: PaymentAuthorized | PaymentDeclined = PaymentAuthorized(
            order_id=order.order_id, consumer_id=order.consumer_id, amount=order.total, at=order.at
        )
    else:
        event = PaymentDeclined(
            order_id=order.order_id,
            consumer_id=order.consumer_id,
            amount=order.total,
            reason=reason,
            at=order.at,
        )
    await outbox.append(conn, [event])


async def close(conn: Connection, order_id: UUID, status: str, at: datetime) -> None:
    if await conn.fetchval(MOVE, order_id, status, at):
        event = PaymentReversed(order_id=order_id, at=at) if status == "reversed" else PaymentSettled(order_id=order_id, at=at)
        await outbox.append(conn, [event])


async def react(conn: Connection, batch: Sequence[outbox.Envelope]) -> None:
    for envelope in batch:
        match envelope.event:
            case ConsumerRegistered() as e:
                await conn.execute(OPEN_ACCOUNT, e.consumer_id, e.credit_limit)
            case OrderPlaced() as e:
                await decide(conn, e)
            case OrderCancelled() as e:
                await close(conn, e.order_id, "reversed", e.at)
            case DeliveryDelivered() as e:
                await close(conn, e.order_id, "settled", e.at)


subscription = Subscription(
    "accounting",
    react,
    schema="command",
    emits_events=True,
    handles=(ConsumerRegistered, OrderPlaced, OrderCancelled, DeliveryDelivered),
)
