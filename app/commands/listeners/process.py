"""The fan-out: every batch of the log, once, matched against every listener's event types,
window and filter in one statement (PostgreSQL evaluates the filters on the stored
payloads; no event is decoded in Python), its matches queued for delivery in the batch's
transaction with the checkpoint. Exactly once, like any subscription."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from app.commands.listeners import store
from app.infra.db import Connection
from app.infra.outbox import Envelope, Write
from app.infra.subscriptions import Subscription


def _match(batch: Sequence[Envelope]) -> Write:
    first, last = batch[0].position, batch[-1].position
    return Write(store.MATCH_BATCH, (first.xid, first.id, last.xid, last.id))


log = logging.getLogger(__name__)

# What a filter raises on an event (a data exception, or a variable it was not given):
# that listener's problem, never the fan-out's.
FILTER_ERRORS = (asyncpg.DataError, asyncpg.UndefinedObjectError)


async def fan_out(conn: Connection, batch: Sequence[Envelope]) -> None:
    """The batch in one statement; if a filter raises, event by event and then listener by
    listener (each behind a savepoint), the failing filter's listener getting a failed
    attempt in its log for the event, the others their matches."""
    write = _match(batch)
    try:
        await _behind_a_savepoint(conn, write.sql, *write.args)
        return
    except FILTER_ERRORS:
        pass
    for envelope in batch:
        at = envelope.position
        for (listener_id,) in await conn.fetch(store.CANDIDATES, at.xid, at.id):
            try:
                await _behind_a_savepoint(conn, store.MATCH_ONE, at.xid, at.id, at.xid, at.id, listener_id)
            except FILTER_ERRORS as exc:
                why = f"the filter cannot run on this event: {exc}"[:200]
                log.warning("listener %s: %s (event %s)", listener_id, why, envelope.event_id)
                await conn.execute(store.FILTER_FAILED, listener_id, at.xid, at.id, why)


async def _behind_a_savepoint(conn: Connection, sql: str, *args: object) -> None:
    """`sql` undone alone if it fails (the runner's transaction is begun by hand, so
    asyncpg's nested transaction() cannot be used)."""
    await conn.execute("SAVEPOINT fan_out")
    try:
        await conn.execute(sql, *args)
    except Exception:
        await conn.execute("ROLLBACK TO SAVEPOINT fan_out")
        raise
    await conn.execute("RELEASE SAVEPOINT fan_out")


def fan_out_as_one_statement(batch: Sequence[Envelope]) -> Write:
    """Every batch: the runner moves the checkpoint in the same statement (one round trip)."""
    return _match(batch)


subscription = Subscription(store.FANOUT, fan_out, schema="command", reads_payloads=False, one_statement=fan_out_as_one_statement)
