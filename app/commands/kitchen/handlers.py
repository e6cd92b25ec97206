"""Kitchen commands: accept (with ready_by), preparing, ready."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.events.kitchen import TicketAccepted, TicketStatusChanged
from app.infra import outbox
from app.infra.clock import Clock
from app.infra.db import Connection
from app.infra.problems import Conflict, NotFound

LOAD = "SELECT status FROM command.kitchen_tickets WHERE order_id = $1 FOR UPDATE"
SAVE = "UPDATE command.kitchen_tickets SET status = $2, ready_by = coalesce($3, ready_by), updated_at = $4 WHERE order_id = $1"

# command -> (required status, new status)
STEPS = {
    "accept": ("CREATED", "ACCEPTED"),
    "preparing": ("ACCEPTED", "PREPARING"),
    "ready": ("PREPARING", "READY_FOR_PICKUP"),
}


class TicketState(msgspec.Struct, frozen=True):
    order_id: UUID
    status: str
    ready_by: datetime | None
    position: str


async def advance_ticket(
    conn: Connection, clock: Clock, order_id: UUID, step: str, ready_by: datetime | None = None
) -> TicketState:
    status = await conn.fetchval(LOAD, order_id)
    if status is None or status in ("AWAITING_PAYMENT", "REJECTED"):
        raise NotFound(f"there is no kitchen ticket for order {order_id}")
    required, target = STEPS[step]
    if status != required:
        raise Conflict(f"a ticket in status {status} cannot go to {target}", ticket_status=status)
    now = clock.now()
    await conn.execute(SAVE, order_id, target, ready_by, now)
    if step == "accept":
        assert ready_by is not None
        event: TicketAccepted | TicketStatusChanged = TicketAccepted(order_id=order_id, ready_by=ready_by, at=now)
    else:
        event = TicketStatusChanged(order_id=order_id, status=target, at=now)
    position = await outbox.append(conn, [event])
    return TicketState(order_id, target, ready_by, position.token())
