"""Register a consumer with a credit limit."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import msgspec

from app.events.consumers import ConsumerRegistered
from app.infra import outbox
from app.infra.clock import Clock, uuid7
from app.infra.db import Connection
from app.infra.money import money

INSERT = "INSERT INTO command.consumers (id, name, credit_limit, created_at) VALUES ($1, $2, $3, $4)"


class ConsumerCreated(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    credit_limit: str
    position: str


async def register_consumer(conn: Connection, clock: Clock, name: str, credit_limit: Decimal) -> ConsumerCreated:
    consumer_id = uuid7()
    await conn.execute(INSERT, consumer_id, name, credit_limit, clock.now())
    event = ConsumerRegistered(consumer_id=consumer_id, name=name, credit_limit=credit_limit)
    position = await outbox.append(conn, [event])
    return ConsumerCreated(consumer_id, name, money(credit_limit), position.token())
