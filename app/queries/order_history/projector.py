"""A consumer's orders, newest first, with the words of the restaurant's name and of
the line item names kept as a lower-cased array for whole-word keyword search."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from app.events.consumers import ConsumerRegistered
from app.events.orders import OrderCancelled, OrderPlaced, OrderStateChanged
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription

VIEW = "order_history"
_json = msgspec.json.Encoder()
_WORD = re.compile(r"\w+")

# One statement for a whole batch of new orders (arrays in, one row each out). The words
# travel space-joined, as unnest cannot take an array of arrays of different lengths.
PLACED = """
INSERT INTO order_history (id, consumer_id, restaurant_id, restaurant_name, line_items, total,
    state, state_version, words, created_at)
SELECT id, consumer_id, restaurant_id, restaurant_name, line_items, total,
    'APPROVAL_PENDING', state_version, string_to_array(words, ' '), created_at
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::numeric[], $7::int[],
            $8::text[], $9::timestamptz[])
    AS placed(id, consumer_id, restaurant_id, restaurant_name, line_items, total, state_version, words, created_at)
ON CONFLICT (id) DO NOTHING
"""
STATE = "UPDATE order_history SET state = $2, state_version = $3 WHERE id = $1 AND state_version < $3"
CONSUMER = "INSERT INTO order_history_consumers (id) VALUES ($1) ON CONFLICT DO NOTHING"


def words(*texts: str) -> list[str]:
    return sorted({w.lower() for text in texts for w in _WORD.findall(text)})


async def project(conn: Connection, batch: Sequence[Envelope]) -> None:
    placed: list[tuple[object, ...]] = []
    states: list[tuple[object, ...]] = []
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
                        " ".join(words(e.restaurant_name, *(line.name for line in e.line_items))),
                        e.at,
                    )
                )
            case OrderStateChanged() as e:
                states.append((e.order_id, e.state, e.version))
            case OrderCancelled() as e:
                states.append((e.order_id, "CANCELLED", e.version))
            case ConsumerRegistered() as e:
                await conn.execute(CONSUMER, e.consumer_id)
    await _flush(conn, placed)
    # The batch's state changes after all its new orders, in one round trip: a change never
    # comes before its order in the log, and the version guard makes their order among
    # themselves irrelevant (the highest version wins).
    if states:
        await conn.executemany(STATE, states)


async def _flush(conn: Connection, placed: list[tuple[object, ...]]) -> None:
    if placed:
        await conn.execute(PLACED, *(list(column) for column in zip(*placed, strict=True)))
        placed.clear()


subscription = Subscription(
    VIEW,
    project,
    schema="query",
    tables=("order_history", "order_history_consumers"),
    event_types=(OrderPlaced, OrderStateChanged, OrderCancelled, ConsumerRegistered),
)
