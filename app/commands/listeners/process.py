"""The fan-out: every batch of the log, once, matched against every listener's event types,
window and filter in one statement (PostgreSQL evaluates the filters on the stored
payloads; no event is decoded in Python), its matches queued for delivery in the batch's
transaction with the checkpoint. Exactly once, like any subscription."""

from __future__ import annotations

from collections.abc import Sequence

from app.commands.listeners import store
from app.infra.db import Connection
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription


async def fan_out(conn: Connection, batch: Sequence[Envelope]) -> None:
    first, last = batch[0].position, batch[-1].position
    await conn.execute(store.MATCH_BATCH, first.xid, first.id, last.xid, last.id)


subscription = Subscription(store.FANOUT, fan_out, schema="command", reads_payloads=False)
