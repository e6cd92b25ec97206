"""Delivery's subscriber: opens a delivery when the kitchen accepts, learns when the
food is ready, and releases the courier when the order is cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from app.commands.delivery import domain, store
from app.commands.delivery.handlers import give_courier_to_waiting
from app.events.delivery import CourierAssigned, DeliveryCancelled, DeliveryWaiting
from app.events.kitchen import TicketAccepted, TicketStatusChanged
from app.events.orders import OrderCancelled
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription
from app.infra.unit_of_work import UnitOfWork


async def open_delivery(uow: UnitOfWork, order_id: UUID, at: datetime) -> None:
    """Saga step on TicketAccepted: the first free courier by name, or wait for one."""
    await store.serialize_assignment(uow.conn)
    if not await store.open_delivery(uow.conn, order_id, at):
        return  # already opened (redelivery) or cancelled first
    courier = await store.free_courier(uow.conn)
    if courier is None:
        uow.emit(DeliveryWaiting(order_id=order_id, at=at))
        return
    await store.assign(uow.conn, order_id, courier[0], at)
    uow.emit(CourierAssigned(order_id=order_id, courier_id=courier[0], courier_name=courier[1], at=at))


async def cancel_delivery(uow: UnitOfWork, order_id: UUID, at: datetime) -> None:
    """Compensation on OrderCancelled: release the courier, who may take a waiting delivery."""
    await store.serialize_assignment(uow.conn)
    current = await store.load(uow.conn, order_id)
    if current is None:
        await store.cancel_unstarted(uow.conn, order_id, at)
        return
    status, courier_id, _ = current
    if status not in domain.CANCELLABLE:
        return
    await store.cancel(uow.conn, order_id, at)
    uow.emit(DeliveryCancelled(order_id=order_id, courier_id=courier_id, at=at))
    if courier_id is not None:
        await give_courier_to_waiting(uow, courier_id, at)


async def react(uow: UnitOfWork, batch: Sequence[Envelope]) -> None:
    for envelope in batch:
        match envelope.event:
            case TicketAccepted() as e:
                await open_delivery(uow, e.order_id, e.at)
            case TicketStatusChanged(status="READY_FOR_PICKUP") as e:
                await store.mark_ready(uow.conn, e.order_id)
            case OrderCancelled() as e:
                await cancel_delivery(uow, e.order_id, e.at)


subscription = Subscription(
    "delivery",
    schema="command",
    react=react,
    event_types=(TicketAccepted, TicketStatusChanged, OrderCancelled),
)
