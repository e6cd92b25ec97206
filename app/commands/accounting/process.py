"""Accounting: authorizes or declines an order's payment against the consumer's credit
(domain.decide), reverses it when the order is cancelled, settles it on delivery. Every
step is keyed by order id and only moves a payment forward, so a redelivered event
changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from app.commands.accounting import domain, store
from app.events.accounting import PaymentAuthorized, PaymentDeclined, PaymentReversed, PaymentSettled
from app.events.consumers import ConsumerRegistered
from app.events.delivery import DeliveryDelivered
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription
from app.infra.unit_of_work import UnitOfWork


async def authorize_or_decline(uow: UnitOfWork, orders: Sequence[OrderPlaced]) -> None:
    """A run of orders in two round trips: their consumers' standing, then the payments
    with their events."""
    available, decided = await store.standing(uow.conn, list({o.consumer_id for o in orders}), [o.order_id for o in orders])
    decisions = domain.decide(orders, available, decided)
    if not decisions:
        return
    now = uow.now()
    for d in decisions:
        o = d.order
        if d.authorized:
            uow.emit(PaymentAuthorized(order_id=o.order_id, consumer_id=o.consumer_id, amount=o.total, at=now))
        else:
            uow.emit(
                PaymentDeclined(order_id=o.order_id, consumer_id=o.consumer_id, amount=o.total, reason=d.reason or "", at=now)
            )
    store.record_payments(uow, decisions, now)
    await uow.flush()  # what follows in this batch (a cancellation, the next run's standing) reads these payments


async def close(uow: UnitOfWork, order_id: UUID, status: str, at: datetime) -> None:
    if await store.close(uow.conn, order_id, status, at):
        uow.emit(PaymentReversed(order_id=order_id, at=at) if status == "reversed" else PaymentSettled(order_id=order_id, at=at))


async def react(uow: UnitOfWork, batch: Sequence[Envelope]) -> None:
    placed: list[OrderPlaced] = []  # a run of them, decided together
    for envelope in batch:
        event = envelope.event
        if placed and isinstance(event, ConsumerRegistered | OrderCancelled | DeliveryDelivered):
            await authorize_or_decline(uow, placed)
            placed = []
        match event:
            case OrderPlaced() as e:
                placed.append(e)
            case ConsumerRegistered() as e:
                await store.open_account(uow.conn, e.consumer_id, e.credit_limit)
            case OrderCancelled() as e:
                await close(uow, e.order_id, "reversed", e.at)
            case DeliveryDelivered() as e:
                await close(uow, e.order_id, "settled", e.at)
    if placed:
        await authorize_or_decline(uow, placed)


subscription = Subscription(
    "accounting",
    schema="command",
    react=react,
    event_types=(ConsumerRegistered, OrderPlaced, OrderCancelled, DeliveryDelivered),
)
