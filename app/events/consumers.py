"""Events of the consumers module."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from app.events import Event, register


class ConsumerRegistered(Event, frozen=True, tag="consumers.consumer_registered"):
    STREAM = "consumer_id"
    consumer_id: UUID
    name: str
    credit_limit: Decimal


register(ConsumerRegistered)
