"""One document per order, composed from the events of orders, accounting, kitchen and
delivery. Every statement is an upsert of only the fields its event owns, so events of
one order from different modules can arrive in any relative order without overwriting
each other; the order's state moves only to a higher version, and the payment status
only forward, so a replayed event changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from app.events.accounting import PaymentAuthorized, PaymentDeclined, PaymentReversed, PaymentSettled
from app.events.delivery import (
    CourierAssigned,
    DeliveryCancelled,
    DeliveryDelivered,
    DeliveryPickedUp,
    DeliveryWaiting,
)
from app.events.kitchen import TicketAccepted, TicketCancelled, TicketCreated, TicketStatusChanged
from app.events.orders import OrderCancelled, OrderPlaced, OrderStateChanged
from app.infra.batching import StatementRuns
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "order_details"
_json = msgspec.json.Encoder()

PLACED = """
INSERT INTO order_details AS d (id, consumer_id, restaurant_id, restaurant_name, line_items, total,
    state, state_version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'APPROVAL_PENDING', $7, $8, $8)
ON CONFLICT (id) DO UPDATE SET
    consumer_id = EXCLUDED.consumer_id, restaurant_id = EXCLUDED.restaurant_id,
    restaurant_name = EXCLUDED.restaurant_name, line_items = EXCLUDED.line_items,
    total = EXCLUDED.total, created_at = EXCLUDED.created_at,
    state = CASE WHEN d.state_version < EXCLUDED.state_version THEN EXCLUDED.state ELSE d.state END,
    state_version = greatest(d.state_version, EXCLUDED.state_version),
    updated_at = greatest(d.updated_at, EXCLUDED.updated_at)
"""
STATE = """
INSERT INTO order_details AS d (id, state, state_version, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET
    state = CASE WHEN d.state_version < EXCLUDED.state_version THEN EXCLUDED.state ELSE d.state END,
    state_version = greatest(d.state_version, EXCLUDED.state_version),
    updated_at = greatest(d.updated_at, EXCLUDED.updated_at)
"""
# pending < authorized | declined < reversed | settled (an authorized payment ends one way)
PAYMENT = """
INSERT INTO order_details AS d (id, payment_status, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET
    payment_status = CASE WHEN array_position('{pending,authorized,declined,reversed,settled}'::text[], d.payment_status)
                            < array_position('{pending,authorized,declined,reversed,settled}'::text[], EXCLUDED.payment_status)
                          THEN EXCLUDED.payment_status ELSE d.payment_status END,
    updated_at = greatest(d.updated_at, EXCLUDED.updated_at)
"""
TICKET = """
INSERT INTO order_details AS d (id, ticket_status, ticket_ready_by, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET
    ticket_status = EXCLUDED.ticket_status,
    ticket_ready_by = coalesce(EXCLUDED.ticket_ready_by, d.ticket_ready_by),
    updated_at = greatest(d.updated_at, EXCLUDED.updated_at)
"""
DELIVERY = """
INSERT INTO order_details AS d (id, delivery_status, courier_id, courier_name, picked_up_at, delivered_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    delivery_status = EXCLUDED.delivery_status,
    courier_id = coalesce(EXCLUDED.courier_id, d.courier_id),
    courier_name = coalesce(EXCLUDED.courier_name, d.courier_name),
    picked_up_at = coalesce(EXCLUDED.picked_up_at, d.picked_up_at),
    delivered_at = coalesce(EXCLUDED.delivered_at, d.delivered_at),
    updated_at = greatest(d.updated_at, EXCLUDED.updated_at)
"""


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    runs = StatementRuns(conn)
    for envelope in batch:
        match envelope.event:
            case OrderPlaced() as e:
                await runs.add(
                    PLACED,
                    e.order_id,
                    e.consumer_id,
                    e.restaurant_id,
                    e.restaurant_name,
                    _json.encode(e.line_items).decode(),
                    e.total,
                    e.version,
                    e.at,
                )
            case OrderStateChanged() as e:
                await runs.add(STATE, e.order_id, e.state, e.version, e.at)
            case OrderCancelled() as e:
                await runs.add(STATE, e.order_id, "CANCELLED", e.version, e.at)
            case PaymentAuthorized() as e:
                await runs.add(PAYMENT, e.order_id, "authorized", e.at)
            case PaymentDeclined() as e:
                await runs.add(PAYMENT, e.order_id, "declined", e.at)
            case PaymentReversed() as e:
                await runs.add(PAYMENT, e.order_id, "reversed", e.at)
            case PaymentSettled() as e:
                await runs.add(PAYMENT, e.order_id, "settled", e.at)
            case TicketCreated() as e:
                await runs.add(TICKET, e.order_id, "CREATED", None, e.at)
            case TicketAccepted() as e:
                await runs.add(TICKET, e.order_id, "ACCEPTED", e.ready_by, e.at)
            case TicketStatusChanged() as e:
                await runs.add(TICKET, e.order_id, e.status, None, e.at)
            case TicketCancelled() as e:
                await runs.add(TICKET, e.order_id, "CANCELLED", None, e.at)
            case DeliveryWaiting() as e:
                await runs.add(DELIVERY, e.order_id, "WAITING", None, None, None, None, e.at)
            case CourierAssigned() as e:
                await runs.add(DELIVERY, e.order_id, "ASSIGNED", e.courier_id, e.courier_name, None, None, e.at)
            case DeliveryPickedUp() as e:
                await runs.add(DELIVERY, e.order_id, "PICKED_UP", None, None, e.at, None, e.at)
            case DeliveryDelivered() as e:
                await runs.add(DELIVERY, e.order_id, "DELIVERED", None, None, None, e.at, e.at)
            case DeliveryCancelled() as e:
                await runs.add(DELIVERY, e.order_id, "CANCELLED", None, None, None, None, e.at)
    await runs.flush()


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("order_details",),
    event_types=(
        OrderPlaced,
        OrderStateChanged,
        OrderCancelled,
        PaymentAuthorized,
        PaymentDeclined,
        PaymentReversed,
        PaymentSettled,
        TicketCreated,
        TicketAccepted,
        TicketStatusChanged,
        TicketCancelled,
        DeliveryWaiting,
        CourierAssigned,
        DeliveryPickedUp,
        DeliveryDelivered,
        DeliveryCancelled,
    ),
)
