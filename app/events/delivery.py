"""Events of the delivery module."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.events import Event, register


class CourierRegistered(Event, frozen=True, tag="delivery.courier_registered"):
    STREAM = "courier_id"
    courier_id: UUID
    name: str


class CourierAvailabilityChanged(Event, frozen=True, tag="delivery.courier_availability_changed"):
    STREAM = "courier_id"
    courier_id: UUID
    available: bool


class DeliveryWaiting(Event, frozen=True, tag="delivery.delivery_waiting"):
    """The kitchen accepted the order and no courier is free yet."""

    STREAM = "order_id"
    order_id: UUID
    at: datetime


class CourierAssigned(Event, frozen=True, tag="delivery.courier_assigned"):
    STREAM = "order_id"
    order_id: UUID
    courier_id: UUID
    courier_name: str
    at: datetime


class DeliveryPickedUp(Event, frozen=True, tag="delivery.delivery_picked_up"):
    STREAM = "order_id"
    order_id: UUID
    at: datetime


class DeliveryDelivered(Event, frozen=True, tag="delivery.delivery_delivered"):
    STREAM = "order_id"
    order_id: UUID
    at: datetime


class DeliveryCancelled(Event, frozen=True, tag="delivery.delivery_cancelled"):
    """Compensation: the courier (if any) is released."""

    STREAM = "order_id"
    order_id: UUID
    courier_id: UUID | None
    at: datetime


register(
    CourierRegistered,
    CourierAvailabilityChanged,
    DeliveryWaiting,
    CourierAssigned,
    DeliveryPickedUp,
    DeliveryDelivered,
    DeliveryCancelled,
)
