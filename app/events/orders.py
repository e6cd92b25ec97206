"""Events of the orders module. `version` orders an order's own state changes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from app.events import Event, register


class OrderLine(msgspec.Struct, frozen=True, gc=False):
    menu_item_id: str
    name: str
    price: Decimal
    quantity: int


class OrderPlaced(Event, frozen=True, tag="orders.order_placed"):
    STREAM = "order_id"
    order_id: UUID
    consumer_id: UUID
    restaurant_id: UUID
    restaurant_name: str
    line_items: list[OrderLine]
    total: Decimal
    delivery_address: str
    version: int
    at: datetime


class OrderStateChanged(Event, frozen=True, tag="orders.order_state_changed"):
    """APPROVED, REJECTED, ACCEPTED, PREPARING, READY_FOR_PICKUP, PICKED_UP, DELIVERED."""

    STREAM = "order_id"
    order_id: UUID
    state: str
    version: int
    at: datetime


class OrderCancelled(Event, frozen=True, tag="orders.order_cancelled"):
    STREAM = "order_id"
    order_id: UUID
    previous_state: str
    version: int
    at: datetime


register(OrderPlaced, OrderStateChanged, OrderCancelled)
