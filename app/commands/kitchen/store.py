"""SQL on the kitchen module's table: command.kitchen_tickets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from app.events.orders import OrderLine
from app.infra.db import Connection

_json = msgspec.json.Encoder()

LOAD = "SELECT status, restaurant_id FROM command.kitchen_tickets WHERE order_id = $1 FOR UPDATE"
SAVE = """
UPDATE command.kitchen_tickets SET status = $2, ready_by = coalesce($3, ready_by), updated_at = $4
WHERE order_id = $1 RETURNING ready_by
"""
PREPARE = """
INSERT INTO command.kitchen_tickets (order_id, restaurant_id, line_items, status, updated_at)
VALUES ($1, $2, $3, 'AWAITING_PAYMENT', $4) ON CONFLICT (order_id) DO NOTHING
"""
MOVE = """
UPDATE command.kitchen_tickets SET status = $2, updated_at = $3
WHERE order_id = $1 AND status = ANY($4::text[]) RETURNING restaurant_id, status
"""
# Opens the tickets of a run of authorized payments in one statement.
OPEN_PAID = """
UPDATE command.kitchen_tickets t SET status = 'CREATED', updated_at = paid.at
FROM unnest($1::uuid[], $2::timestamptz[]) AS paid(order_id, at)
WHERE t.order_id = paid.order_id AND t.status = 'AWAITING_PAYMENT'
RETURNING t.order_id, t.restaurant_id
"""


async def load(conn: Connection, order_id: UUID) -> tuple[str, UUID] | None:
    """The ticket's status and restaurant."""
    row = await conn.fetchrow(LOAD, order_id)
    return None if row is None else (row["status"], row["restaurant_id"])


async def save(conn: Connection, order_id: UUID, status: str, ready_by: datetime | None, at: datetime) -> datetime | None:
    """Saves the new status (and `ready_by`, if given); returns the ticket's ready_by."""
    ready: datetime | None = await conn.fetchval(SAVE, order_id, status, ready_by, at)
    return ready


def prepare_args(order_id: UUID, restaurant_id: UUID, lines: list[OrderLine], at: datetime) -> tuple[object, ...]:
    """PREPARE's arguments (it runs in batches, see StatementRuns)."""
    return (order_id, restaurant_id, _json.encode(lines).decode(), at)


async def move(conn: Connection, order_id: UUID, status: str, at: datetime, allowed: Sequence[str]) -> bool:
    """Moves the ticket to `status` if it is in one of `allowed`; whether it did."""
    return await conn.fetchrow(MOVE, order_id, status, at, list(allowed)) is not None


async def open_paid(conn: Connection, paid: Sequence[tuple[UUID, datetime]]) -> dict[UUID, UUID]:
    """Opens the tickets of (order, paid at) awaiting payment; returns order -> restaurant
    of those it opened."""
    rows = await conn.fetch(OPEN_PAID, [order_id for order_id, _ in paid], [at for _, at in paid])
    return {r["order_id"]: r["restaurant_id"] for r in rows}
