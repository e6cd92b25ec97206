"""A consumer's orders, newest first, with the words of the restaurant's name and of
the line item names kept as a lower-cased array for whole-word keyword search."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from app.events.orders import OrderCancelled, OrderPlaced, OrderStateChanged
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "order_history"
_json = msgspec.json.Encoder()
_WORD = re.compile(r"\w+")

PLACED = """
INSERT INTO order_history (id, consumer_id, restaurant_id, restaurant_name, line_items, total,
    state, state_version, words, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'APPROVAL_PENDING', $7, $8, $9)
ON CONFLICT (id) DO NOTHING
"""
STATE = "UPDATE order_history SET state = $2, state_version = $3 WHERE id = $1 AND state_version < $3"


def words(*texts: str) -> list[str]:
    return sorted({w.lower() for text in texts for w in _WORD.findall(text)})


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    placed: list[tuple[object, ...]] = []
    for envelope in batch:
        match envelope.event:
            case OrderPlaced() as e:
                placed.append(
                    (
                        e.order_id,
                        e.consumer_id,
                        e.restaurant_id,
                        e.restaurant_name,
                        _json.encode(e.line_items).decode(),
                        e.total,
                        e.version,
                        words(e.restaurant_name, *(line.name for line in e.line_items)),
                        e.at,
                    )
                )
            case OrderStateChanged() as e:
                await _flush(conn, placed)
                await conn.execute(STATE, e.order_id, e.state, e.version)
            case OrderCancelled() as e:
                await _flush(conn, placed)
                await conn.execute(STATE, e.order_id, "CANCELLED", e.version)
    await _flush(conn, placed)


async def _flush(conn: Connection, placed: list[tuple[object, ...]]) -> None:
    if placed:
        await conn.executemany(PLACED, placed)
        placed.clear()


subscription = Subscription(
    VIEW, project, schema="query", tables=("order_history",), handles=(OrderPlaced, OrderStateChanged, OrderCancelled)
)
