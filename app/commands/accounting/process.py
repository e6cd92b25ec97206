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

from app.events import Event
from app.events.accounting import PaymentAuthorized, PaymentDeclined, PaymentReversed, PaymentSettled
from app.events.consumers import ConsumerRegistered
from app.events.delivery import DeliveryDelivered
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra import outbox
from app.infra.db import Connection
from app.infra.outbox import Write
from app.infra.subscriptions import Subscription

OPEN_ACCOUNT = """
INSERT INTO command.accounting_accounts (consumer_id, credit_limit) VALUES ($1, $2)
ON CONFLICT (consumer_id) DO NOTHING
"""
# For a run of orders: each consumer's account, locked, with what it has available; and
# which of the orders already have a payment (a redelivered event changes nothing).
STANDING = """
WITH accounts AS (
    SELECT a.consumer_id, a.credit_limit - coalesce((
        SELECT sum(p.amount) FROM command.accounting_payments p
        WHERE p.consumer_id = a.consumer_id AND p.status = 'authorized'), 0) AS available
    FROM command.accounting_accounts a WHERE a.consumer_id = ANY($1::uuid[])
    ORDER BY a.consumer_id FOR UPDATE
)
SELECT consumer_id, available, NULL::uuid AS decided FROM accounts
UNION ALL
SELECT NULL, NULL, order_id FROM command.accounting_payments WHERE order_id = ANY($2::uuid[])
"""
RECORD = """
INSERT INTO command.accounting_payments (order_id, consumer_id, amount, status, updated_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::text[], $5::timestamptz[])
ON CONFLICT (order_id) DO NOTHING
"""
MOVE = """
UPDATE command.accounting_payments SET status = $2, updated_at = $3
WHERE order_id = $1 AND status = 'authorized' RETURNING true
"""


async def decide(conn: Connection, orders: list[OrderPlaced]) -> None:
    """Authorize or decline a run of orders, in their order, each against what its
    consumer has left after the ones before: two round trips for the whole run."""
    if not orders:
        return
    rows = await conn.fetch(STANDING, list({o.consumer_id for o in orders}), [o.order_id for o in orders])
    available: dict[UUID, Decimal] = {r["consumer_id"]: r["available"] for r in rows if r["decided"] is None}
    decided = {r["decided"] for r in rows if r["decided"] is not None}
    payments: list[tuple[UUID, UUID, Decimal, str, datetime]] = []
    events: list[Event] = []
    for order in orders:
        if order.order_id in decided:
            continue
        decided.add(order.order_id)
        left = available.get(order.consumer_id)
        if left is not None and order.total <= left:
            available[order.consumer_id] = left - order.total
            status = "authorized"
            events.append(
                PaymentAuthorized(order_id=order.order_id, consumer_id=order.consumer_id, amount=order.total, at=order.at)
            )
        else:
            status = "declined"
            reason = "no account" if left is None else f"exceeds available credit {left}"
            events.append(
                PaymentDeclined(
                    order_id=order.order_id, consumer_id=order.consumer_id, amount=order.total, reason=reason, at=order.at
                )
            )
        payments.append((order.order_id, order.consumer_id, order.total, status, order.at))
    orders.clear()
    if payments:
        await outbox.append(conn, events, along_with=Write(RECORD, tuple(list(column) for column in zip(*payments, strict=True))))


async def close(conn: Connection, order_id: UUID, status: str, at: datetime) -> None:
    if await conn.fetchval(MOVE, order_id, status, at):
        event = PaymentReversed(order_id=order_id, at=at) if status == "reversed" else PaymentSettled(order_id=order_id, at=at)
        await outbox.append(conn, [event])


async def react(conn: Connection, batch: Sequence[outbox.Envelope]) -> None:
    placed: list[OrderPlaced] = []
    for envelope in batch:
        match envelope.event:
            case OrderPlaced() as e:
                placed.append(e)
            case ConsumerRegistered() as e:
                await decide(conn, placed)
                await conn.execute(OPEN_ACCOUNT, e.consumer_id, e.credit_limit)
            case OrderCancelled() as e:
                await decide(conn, placed)
                await close(conn, e.order_id, "reversed", e.at)
            case DeliveryDelivered() as e:
                await decide(conn, placed)
                await close(conn, e.order_id, "settled", e.at)
    await decide(conn, placed)


subscription = Subscription(
    "accounting",
    react,
    schema="command",
    emits_events=True,
    handles=(ConsumerRegistered, OrderPlaced, OrderCancelled, DeliveryDelivered),
)
