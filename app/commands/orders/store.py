"""SQL on the orders module's tables (its orders, and its copies of consumers and menus)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from app.events.orders import OrderLine
from app.events.restaurants import MenuItem
from app.infra.db import Connection, Pool

_json = msgspec.json.Encoder()

KNOWS = """
SELECT EXISTS (SELECT 1 FROM command.order_consumers WHERE id = $1)
   AND EXISTS (SELECT 1 FROM command.order_restaurants WHERE id = $2)
"""
CONSUMER_EXISTS = "SELECT EXISTS (SELECT 1 FROM command.order_consumers WHERE id = $1)"
RESTAURANT = "SELECT name, menu FROM command.order_restaurants WHERE id = $1"
INSERT = """
INSERT INTO command.orders (id, consumer_id, restaurant_id, line_items, total, delivery_address,
    state, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'APPROVAL_PENDING', 1, $7, $7)
"""
LOAD = "SELECT state, version FROM command.orders WHERE id = $1 FOR UPDATE"
SAVE_STATE = "UPDATE command.orders SET state = $2, version = $3, updated_at = $4 WHERE id = $1"
REMEMBER_CONSUMER = "INSERT INTO command.order_consumers (id) VALUES ($1) ON CONFLICT DO NOTHING"
REMEMBER_MENU = """
INSERT INTO command.order_restaurants (id, name, menu, menu_revision) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET menu = EXCLUDED.menu, menu_revision = EXCLUDED.menu_revision
WHERE order_restaurants.menu_revision < EXCLUDED.menu_revision
"""
REVISE_MENU = """
UPDATE command.order_restaurants SET menu = $2, menu_revision = $3
WHERE id = $1 AND menu_revision < $3
"""


async def knows(pool: Pool | Connection, consumer_id: UUID, restaurant_id: UUID) -> bool:
    return bool(await pool.fetchval(KNOWS, consumer_id, restaurant_id))


async def consumer_exists(conn: Connection, consumer_id: UUID) -> bool:
    return bool(await conn.fetchval(CONSUMER_EXISTS, consumer_id))


async def restaurant_menu(conn: Connection, restaurant_id: UUID) -> tuple[str, dict[str, tuple[str, Decimal]]] | None:
    row = await conn.fetchrow(RESTAURANT, restaurant_id)
    if row is None:
        return None
    menu = msgspec.json.decode(row["menu"], type=list[MenuItem])
    return row["name"], {m.id: (m.name, m.price) for m in menu}


async def insert_order(
    conn: Connection,
    order_id: UUID,
    consumer_id: UUID,
    restaurant_id: UUID,
    lines: list[OrderLine],
    total: Decimal,
    address: str,
    at: Any,
) -> None:
    await conn.execute(INSERT, order_id, consumer_id, restaurant_id, _json.encode(lines).decode(), total, address, at)


async def load_state(conn: Connection, order_id: UUID) -> tuple[str, int] | None:
    row = await conn.fetchrow(LOAD, order_id)
    return None if row is None else (row["state"], row["version"])


async def save_state(conn: Connection, order_id: UUID, state: str, version: int, at: Any) -> None:
    await conn.execute(SAVE_STATE, order_id, state, version, at)


async def remember_consumer(conn: Connection, consumer_id: UUID) -> None:
    await conn.execute(REMEMBER_CONSUMER, consumer_id)


async def remember_menu(conn: Connection, restaurant_id: UUID, name: str, menu: list[MenuItem], revision: int) -> None:
    await conn.execute(REMEMBER_MENU, restaurant_id, name, _json.encode(menu).decode(), revision)


async def revise_menu(conn: Connection, restaurant_id: UUID, menu: list[MenuItem], revision: int) -> None:
    await conn.execute(REVISE_MENU, restaurant_id, _json.encode(menu).decode(), revision)
