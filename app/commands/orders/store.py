"""SQL on the orders module's tables (its orders, and its copies of consumers and menus)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from app.events.orders import OrderPlaced
from app.events.restaurants import MenuItem
from app.infra.db import Connection
from app.infra.outbox import Write
from app.infra.unit_of_work import UnitOfWork

_json = msgspec.json.Encoder()

# The subscription that keeps this module's copies of consumers and menus (process.py).
SUBSCRIPTION = "orders"

# What placing an order reads, in one round trip (see OrderInputs).
INPUTS = """
SELECT EXISTS (SELECT 1 FROM command.order_consumers WHERE id = $1) AS consumer_known, r.name, r.menu
FROM (SELECT 1) AS one LEFT JOIN command.order_restaurants r ON r.id = $2
"""
INSERT = """
INSERT INTO command.orders (id, consumer_id, restaurant_id, line_items, total, delivery_address,
    state, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'APPROVAL_PENDING', 1, $7, $7)
"""
LOAD = "SELECT state, version, consumer_id FROM command.orders WHERE id = $1 FOR UPDATE"
SAVE_STATE = "UPDATE command.orders SET state = $2, version = $3, updated_at = $4 WHERE id = $1"
# A run of saga steps on distinct orders; `allowed`: the states each may move from, space-joined.
MOVE_STATES = """
UPDATE command.orders o SET state = step.target, version = o.version + 1, updated_at = step.at
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[]) AS step(id, target, at, allowed)
WHERE o.id = step.id AND o.state = ANY(string_to_array(step.allowed, ' '))
RETURNING o.id, o.version
"""
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


class OrderInputs(msgspec.Struct, frozen=True):
    """Whether the module knows the consumer, and the restaurant's name and menu (None if
    it does not know the restaurant), as committed when read.

    Read before the order is written, not in a transaction with it: the write is one
    statement and plain reads take no locks, so at READ COMMITTED a transaction around
    both would see and guarantee exactly the same, for two more round trips."""

    consumer_known: bool
    restaurant: tuple[str, dict[str, tuple[str, Decimal]]] | None

    @property
    def complete(self) -> bool:
        return self.consumer_known and self.restaurant is not None


async def order_inputs(conn: Connection, consumer_id: UUID, restaurant_id: UUID) -> OrderInputs:
    row = await conn.fetchrow(INPUTS, consumer_id, restaurant_id)
    assert row is not None
    if row["name"] is None:
        return OrderInputs(row["consumer_known"], None)
    menu = msgspec.json.decode(row["menu"], type=list[MenuItem])
    return OrderInputs(row["consumer_known"], (row["name"], {m.id: (m.name, m.price) for m in menu}))


def insert_order(uow: UnitOfWork, o: OrderPlaced) -> None:
    """The order, as its event tells it, saved to be written with its events in one statement."""
    line_items = _json.encode(o.line_items).decode()
    write = Write(INSERT, (o.order_id, o.consumer_id, o.restaurant_id, line_items, o.total, o.delivery_address, o.at))
    uow.save(write)


async def load_state(conn: Connection, order_id: UUID) -> tuple[str, int, UUID] | None:
    """The order's state, version and consumer."""
    row = await conn.fetchrow(LOAD, order_id)
    return None if row is None else (row["state"], row["version"], row["consumer_id"])


async def save_state(conn: Connection, order_id: UUID, state: str, version: int, at: Any) -> None:
    await conn.execute(SAVE_STATE, order_id, state, version, at)


async def move_states(conn: Connection, run: Sequence[tuple[UUID, str, Any]], allowed: list[str]) -> list[Any]:
    ids, targets, ats = zip(*run, strict=True)
    return await conn.fetch(MOVE_STATES, list(ids), list(targets), list(ats), allowed)


async def remember_consumer(conn: Connection, consumer_id: UUID) -> None:
    await conn.execute(REMEMBER_CONSUMER, consumer_id)


async def remember_menu(conn: Connection, restaurant_id: UUID, name: str, menu: list[MenuItem], revision: int) -> None:
    await conn.execute(REMEMBER_MENU, restaurant_id, name, _json.encode(menu).decode(), revision)


async def revise_menu(conn: Connection, restaurant_id: UUID, menu: list[MenuItem], revision: int) -> None:
    await conn.execute(REVISE_MENU, restaurant_id, _json.encode(menu).decode(), revision)
