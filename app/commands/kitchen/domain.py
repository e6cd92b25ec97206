"""Kitchen ticket transitions. Plain Python: no I/O."""

from __future__ import annotations

from uuid import UUID

from app.errors import Conflict, NotFound

# A ticket waits for the order's payment; only then does it exist for the kitchen.
NOT_YET_A_TICKET = "AWAITING_PAYMENT"
# What the saga may cancel: a ticket that is open (and so reported as cancelled).
OPEN = ("CREATED", "ACCEPTED", "PREPARING", "READY_FOR_PICKUP")

# kitchen command -> (the status it requires, the status it moves to)
STEPS = {
    "accept": ("CREATED", "ACCEPTED"),
    "preparing": ("ACCEPTED", "PREPARING"),
    "ready": ("PREPARING", "READY_FOR_PICKUP"),
}


def advance(order_id: UUID, status: str | None, step: str) -> str:
    """The status a ticket in `status` (None: no ticket) moves to on `step`, or a refusal."""
    if status is None or status == NOT_YET_A_TICKET:
        raise NotFound(f"there is no kitchen ticket for order {order_id}")
    if status == "REJECTED":
        raise Conflict(f"order {order_id} was rejected (its payment was declined)", ticket_status=status)
    required, target = STEPS[step]
    if status != required:
        raise Conflict(f"a ticket in status {status} cannot go to {target}", ticket_status=status)
    return target
