"""The order state machine. Plain Python: no I/O."""

from __future__ import annotations

from decimal import Decimal

from app.errors import Conflict, Invalid
from app.events.orders import OrderLine

APPROVAL_PENDING = "APPROVAL_PENDING"
CANCELLED = "CANCELLED"
_PRE_PICKUP = ("APPROVED", "ACCEPTED", "PREPARING", "READY_FOR_PICKUP")

# target state -> the states an event may move an order from; anything else is illegal or
# already done (a redelivered event). process.move_orders has the database check it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "APPROVED": (APPROVAL_PENDING,),
    "REJECTED": (APPROVAL_PENDING,),
    "ACCEPTED": ("APPROVED",),
    "PREPARING": ("ACCEPTED",),
    "READY_FOR_PICKUP": ("PREPARING",),
    "PICKED_UP": _PRE_PICKUP,
    "DELIVERED": ("PICKED_UP",),
}
CANCELLABLE = (APPROVAL_PENDING, *_PRE_PICKUP)
# What an order's total (numeric(12, 2)) can hold.
MAX_TOTAL = Decimal("9999999999.99")


def check_cancel(current: str) -> None:
    if current not in CANCELLABLE:
        raise Conflict(f"an order in state {current} cannot be cancelled", state=current)


def price_lines(menu: dict[str, tuple[str, Decimal]], wanted: list[tuple[str, int]]) -> tuple[list[OrderLine], Decimal]:
    """Lines with the names and prices of the menu as the orders module knows it now."""
    unknown = [item for item, _ in wanted if item not in menu]
    if unknown:
        raise Invalid(
            f"not on the menu: {', '.join(unknown)}",
            errors=[{"field": "line_items", "message": f"unknown menu item {i!r}"} for i in unknown],
        )
    lines = [OrderLine(item, menu[item][0], menu[item][1], quantity) for item, quantity in wanted]
    total = sum((line.price * line.quantity for line in lines), Decimal("0.00"))
    if total > MAX_TOTAL:
        raise Invalid(
            f"the order's total {total} is more than {MAX_TOTAL}",
            errors=[{"field": "line_items", "message": f"the total may be at most {MAX_TOTAL}"}],
        )
    return lines, total
