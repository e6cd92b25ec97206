"""Events of the accounting module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from app.events import Event, register


class PaymentAuthorized(Event, frozen=True, tag="accounting.payment_authorized"):
    STREAM = "order_id"
    order_id: UUID
    consumer_id: UUID
    amount: Decimal
    at: datetime


class PaymentDeclined(Event, frozen=True, tag="accounting.payment_declined"):
    STREAM = "order_id"
    order_id: UUID
    consumer_id: UUID
    amount: Decimal
    reason: str
    at: datetime


class PaymentReversed(Event, frozen=True, tag="accounting.payment_reversed"):
    STREAM = "order_id"
    order_id: UUID
    at: datetime


class PaymentSettled(Event, frozen=True, tag="accounting.payment_settled"):
    STREAM = "order_id"
    order_id: UUID
    at: datetime


register(PaymentAuthorized, PaymentDeclined, PaymentReversed, PaymentSettled)
