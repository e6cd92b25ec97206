"""SQL on the delivery module's tables: couriers and deliveries."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.infra.db import Connection

# Every transaction that may assign a courier takes this lock first, so two of them
# never pick the same free courier (the unique index would refuse the second anyway).
SERIALIZE_ASSIGNMENT = "SELECT pg_advisory_xact_lock(7340100)"
FREE_COURIER = """
SELECT c.id, c.name FROM command.couriers c
WHERE c.available AND NOT EXISTS (
    SELECT 1 FROM command.deliveries d WHERE d.courier_id = c.id AND d.status IN ('ASSIGNED', 'PICKED_UP'))
ORDER BY c.name, c.id LIMIT 1
"""
IS_FREE = """
SELECT c.name FROM command.couriers c
WHERE c.id = $1 AND c.available AND NOT EXISTS (
    SELECT 1 FROM command.deliveries d WHERE d.courier_id = c.id AND d.status IN ('ASSIGNED', 'PICKED_UP'))
"""
OLDEST_WAITING = """
SELECT order_id FROM command.deliveries WHERE status = 'WAITING'
ORDER BY waiting_since, order_id LIMIT 1 FOR UPDATE
"""
OPEN_DELIVERY = """
INSERT INTO command.deliveries (order_id, status, waiting_since, updated_at) VALUES ($1, 'WAITING', $2, $2)
ON CONFLICT (order_id) DO NOTHING RETURNING true
"""
ASSIGN = "UPDATE command.deliveries SET status = 'ASSIGNED', courier_id = $2, updated_at = $3 WHERE order_id = $1"
LOAD = "SELECT status, courier_id, ready FROM command.deliveries WHERE order_id = $1 FOR UPDATE"
MARK_READY = "UPDATE command.deliveries SET ready = true WHERE order_id = $1"
PICKED_UP = "UPDATE command.deliveries SET status = 'PICKED_UP', picked_up_at = $2, updated_at = $2 WHERE order_id = $1"
DELIVERED = "UPDATE command.deliveries SET status = 'DELIVERED', delivered_at = $2, updated_at = $2 WHERE order_id = $1"
CANCEL = "UPDATE command.deliveries SET status = 'CANCELLED', updated_at = $2 WHERE order_id = $1"
CANCEL_UNSTARTED = """
INSERT INTO command.deliveries (order_id, status, updated_at) VALUES ($1, 'CANCELLED', $2)
ON CONFLICT (order_id) DO NOTHING
"""
INSERT_COURIER = "INSERT INTO command.couriers (id, name, available, created_at) VALUES ($1, $2, $3, $4)"
SET_AVAILABLE = "UPDATE command.couriers SET available = $2 WHERE id = $1 RETURNING name"


async def serialize_assignment(conn: Connection) -> None:
    """Taken first by every transaction that may assign a courier."""
    await conn.execute(SERIALIZE_ASSIGNMENT)


async def free_courier(conn: Connection) -> tuple[UUID, str] | None:
    row = await conn.fetchrow(FREE_COURIER)
    return None if row is None else (row["id"], row["name"])


async def courier_if_free(conn: Connection, courier_id: UUID) -> str | None:
    name = await conn.fetchval(IS_FREE, courier_id)
    return None if name is None else str(name)


async def oldest_waiting(conn: Connection) -> UUID | None:
    order_id = await conn.fetchval(OLDEST_WAITING)
    return None if order_id is None else UUID(str(order_id))


async def open_delivery(conn: Connection, order_id: UUID, at: datetime) -> bool:
    return bool(await conn.fetchval(OPEN_DELIVERY, order_id, at))


async def assign(conn: Connection, order_id: UUID, courier_id: UUID, at: datetime) -> None:
    await conn.execute(ASSIGN, order_id, courier_id, at)


async def load(conn: Connection, order_id: UUID) -> tuple[str, UUID | None, bool] | None:
    row = await conn.fetchrow(LOAD, order_id)
    return None if row is None else (row["status"], row["courier_id"], row["ready"])


async def mark_ready(conn: Connection, order_id: UUID) -> None:
    await conn.execute(MARK_READY, order_id)


async def picked_up(conn: Connection, order_id: UUID, at: datetime) -> None:
    await conn.execute(PICKED_UP, order_id, at)


async def delivered(conn: Connection, order_id: UUID, at: datetime) -> None:
    await conn.execute(DELIVERED, order_id, at)


async def cancel(conn: Connection, order_id: UUID, at: datetime) -> None:
    await conn.execute(CANCEL, order_id, at)


async def cancel_unstarted(conn: Connection, order_id: UUID, at: datetime) -> None:
    """A delivery cancelled before it was opened: it never opens."""
    await conn.execute(CANCEL_UNSTARTED, order_id, at)


async def insert_courier(conn: Connection, courier_id: UUID, name: str, available: bool, at: datetime) -> None:
    await conn.execute(INSERT_COURIER, courier_id, name, available, at)


async def set_available(conn: Connection, courier_id: UUID, available: bool) -> str | None:
    """The courier's name, or None if there is no such courier."""
    name = await conn.fetchval(SET_AVAILABLE, courier_id, available)
    return None if name is None else str(name)
