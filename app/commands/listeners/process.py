"""The fan-out: every batch of the log, once, matched against every listener's event types,
window and filter in one statement (PostgreSQL evaluates the filters on the stored
payloads; no event is decoded in Python), its matches queued for delivery in the batch's
transaction with the checkpoint. Exactly once, like any subscription."""

from __future__ import annotations

from collections.abc import Sequence

from app.commands.listeners import store
from app.infra.db import Connection
from app.infra.outbox import Envelope, Write
from app.infra.subscriptions import Subscription


def _match(batch: Sequence[Envelope]) -> Write:
    first, last = batch[0].position, batch[-1].position
    return Write(store.MATCH_BATCH, (first.xid, first.id, last.xid, last.id))


async def fan_out(conn: Connection, batch: Sequence[Envelope]) -> None:
    write = _match(batch)
    await conn.execute(write.sql, *write.args)


def fan_out_as_one_statement(schema: str, batch: Sequence[Envelope]) -> Write:
    """Every batch: the runner moves the checkpoint in the same statement (one round trip)."""
    return _match(batch)


subscription = Subscription(store.FANOUT, fan_out, schema="command", reads_payloads=False, one_statement=fan_out_as_one_statement)
