"""Delivery transitions. Plain Python: no I/O.

A delivery is opened WAITING when the kitchen accepts the order and is ASSIGNED the first
free courier by name (store.FREE_COURIER); with none free it waits for the next courier
that becomes free. It is picked up once the food is ready, then delivered."""

from __future__ import annotations

from uuid import UUID

from app.errors import Conflict, NotFound

# Deliveries the saga may still cancel (their courier, if any, is released).
CANCELLABLE = ("WAITING", "ASSIGNED")


def check_exists(order_id: UUID, status: str | None) -> str:
    if status is None:
        raise NotFound(f"there is no delivery for order {order_id}")
    return status


def check_pick_up(status: str, ready: bool) -> None:
    if status != "ASSIGNED" or not ready:
        why = "the order is not ready for pickup" if status == "ASSIGNED" else f"the delivery is {status}"
        raise Conflict(f"cannot pick up: {why}", delivery_status=status)


def check_deliver(status: str) -> None:
    if status != "PICKED_UP":
        raise Conflict(f"cannot deliver: the delivery is {status}", delivery_status=status)
