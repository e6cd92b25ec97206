"""Events of the kitchen module. `status` is the ticket's status after the event."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.events import Event, register


class TicketCreated(Event, frozen=True, tag="kitchen.ticket_created"):
    STREAM = "order_id"
    order_id: UUID
    restaurant_id: UUID
    at: datetime


class TicketAccepted(Event, frozen=True, tag="kitchen.ticket_accepted"):
    STREAM = "order_id"
    order_id: UUID
    ready_by: datetime
    at: datetime


class TicketStatusChanged(Event, frozen=True, tag="kitchen.ticket_status_changed"):
    """PREPARING or READY_FOR_PICKUP."""

    STREAM = "order_id"
    order_id: UUID
    status: str
    at: datetime


class TicketCancelled(Event, frozen=True, tag="kitchen.ticket_cancelled"):
    STREAM = "order_id"
    order_id: UUID
    at: datetime


register(TicketCreated, TicketAccepted, TicketStatusChanged, TicketCancelled)
