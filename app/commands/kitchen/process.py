"""Kitchen's subscriber: a ticket waits for the order's payment, opens when it is
authorized, is dropped when it is declined, and is cancelled with the order."""

from __future__ import annotations

from collections.abc import Sequence

from app.commands.kitchen import domain, store
from app.events.accounting import PaymentAuthorized, PaymentDeclined
from app.events.kitchen import TicketCancelled, TicketCreated
from app.events.orders import OrderCancelled, OrderPlaced
from app.infra.batching import StatementRuns
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription
from app.infra.unit_of_work import UnitOfWork


async def open_paid(uow: UnitOfWork, paid: Sequence[PaymentAuthorized]) -> None:
    """Open the tickets of `paid` and report them, in event order: two round trips for
    the whole run instead of two per payment."""
    now = uow.now()
    opened = await store.open_paid(uow.conn, [(e.order_id, now) for e in paid])
    for e in paid:
        restaurant_id = opened.pop(e.order_id, None)  # once, even if a payment came twice
        if restaurant_id is not None:
            uow.emit(TicketCreated(order_id=e.order_id, restaurant_id=restaurant_id, at=now))


async def cancel(uow: UnitOfWork, e: OrderCancelled) -> None:
    # Before the payment came through there is no ticket to report.
    if await store.move(uow.conn, e.order_id, "CANCELLED", e.at, ["AWAITING_PAYMENT"]):
        return
    if await store.move(uow.conn, e.order_id, "CANCELLED", e.at, domain.OPEN):
        uow.emit(TicketCancelled(order_id=e.order_id, at=e.at))


async def react(uow: UnitOfWork, batch: Sequence[Envelope]) -> None:
    runs = StatementRuns(uow.conn)
    paid: list[PaymentAuthorized] = []  # a run of them, opened together
    for envelope in batch:
        event = envelope.event
        if paid and isinstance(event, OrderPlaced | PaymentDeclined | OrderCancelled):
            await open_paid(uow, paid)
            paid = []
        match event:
            case OrderPlaced() as e:
                await runs.add(store.PREPARE, *store.prepare_args(e.order_id, e.restaurant_id, e.line_items, e.at))
            case PaymentAuthorized() as e:
                await runs.flush()
                paid.append(e)
            case PaymentDeclined() as e:
                await runs.add(store.MOVE, e.order_id, "REJECTED", e.at, ["AWAITING_PAYMENT"])
            case OrderCancelled() as e:
                await runs.flush()
                await cancel(uow, e)
    if paid:
        await open_paid(uow, paid)
    await runs.flush()


subscription = Subscription(
    "kitchen",
    schema="command",
    react=react,
    event_types=(OrderPlaced, PaymentAuthorized, PaymentDeclined, OrderCancelled),
)
