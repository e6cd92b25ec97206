"""Blue/green rebuild of a view from the outbox, without downtime.

1. Copy the view's tables, empty, into a shadow schema `rebuild_<view>`
   (`LIKE ... INCLUDING ALL`: same columns, constraints and index names).
2. Replay the outbox into the shadow in batches from the origin, under a checkpoint
   of its own; the live view keeps serving and advancing meanwhile. Memory holds one
   batch at a time, however long the log.
3. Swap in one transaction: lock the live checkpoint row (the live runner waits), bring
   the shadow to exactly that position, drop the live tables, move the shadow tables
   into `query`, keep the checkpoint. Readers wait a moment on the table locks; nobody
   sees a half-built view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from app.infra.db import Connection, Pool
from app.infra.outbox import Envelope, Position, read_committed
from app.infra.subscriptions import (
    LOCK_NAMESPACE,
    Subscription,
    UndecodableEvent,
    apply_batch,
    apply_in_transaction,
    ensure_checkpoint,
)

BATCH = 2000


class RebuildError(Exception):
    pass


@dataclass
class Progress:
    done: int
    total: int
    started: float

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 and self.total > self.done else None


def shadow_schema(view: str) -> str:
    return f"rebuild_{view}"


def shadow_name(view: str) -> str:
    return f"{view}@rebuild"


def _quoted(identifier: str) -> str:
    if not identifier.replace("_", "").isalnum():
        raise RebuildError(f"unexpected identifier {identifier!r}")
    return f'"{identifier}"'


# Secondary indexes of the live tables (not unique ones, nor those behind a constraint: projectors'
# ON CONFLICT clauses need): the shadow is filled without them and they are built once,
# after the bulk load, which is much cheaper than maintaining them row by row.
SECONDARY_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid) AS definition, c.relname AS name
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = to_regclass($1)
  AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""


async def _secondary_indexes(conn: Connection, sub: Subscription) -> list[tuple[str, str]]:
    found = []
    for table in sub.tables:
        found += [(r["name"], r["definition"]) for r in await conn.fetch(SECONDARY_INDEXES, f"query.{table}")]
    return found


async def _prepare_shadow(conn: Connection, sub: Subscription) -> None:
    schema = _quoted(shadow_schema(sub.name))
    async with conn.transaction():
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f"CREATE SCHEMA {schema}")
        for table in sub.tables:
            t = _quoted(table)
            await conn.execute(f"CREATE TABLE {schema}.{t} (LIKE query.{t} INCLUDING ALL)")
        for name, _ in await _secondary_indexes(conn, sub):
            await conn.execute(f"DROP INDEX {schema}.{_quoted(name)}")
        await conn.execute("DELETE FROM command.subscriptions WHERE name = $1", shadow_name(sub.name))


async def _index_shadow(conn: Connection, sub: Subscription) -> None:
    """Build the secondary indexes on the filled shadow, under the live indexes' names."""
    schema = shadow_schema(sub.name)
    for _, definition in await _secondary_indexes(conn, sub):
        await conn.execute(definition.replace(" ON query.", f" ON {_quoted(schema)}.", 1))


async def build_shadow(
    pool: Pool,
    sub: Subscription,
    *,
    until: Position | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    batch_size: int = BATCH,
) -> Position:
    """Fill the shadow schema from the origin up to `until` (or the committed head)."""
    async with pool.acquire() as conn:
        await _prepare_shadow(conn, sub)
        position = await ensure_checkpoint(conn, shadow_name(sub.name))
        total = await conn.fetchval(
            "SELECT count(*) FROM command.outbox WHERE ($1::bigint IS NULL OR (xid, id) <= ($1, $2))",
            until.xid if until else None,
            until.id if until else None,
        )
    progress = Progress(0, int(total), time.monotonic())
    # The next batch is read and decoded while this one is written: Python and PostgreSQL
    # work at once. The stream holds one batch, so memory stays at a few batches.
    send, receive = anyio.create_memory_object_stream[list[Envelope]](1)

    async def read_ahead(after: Position) -> None:
        async with send:
            while True:
                async with pool.acquire() as conn:
                    batch = await read_committed(conn, after, batch_size, until)
                await send.send(batch)
                if not batch:
                    return
                after = batch[-1].position

    refused: RebuildError | None = None
    async with anyio.create_task_group() as tg, receive:
        tg.start_soon(read_ahead, position)
        async for batch in receive:
            if not batch:
                break
            if refused := _undecodable(sub, batch):
                tg.cancel_scope.cancel()  # raised below, unwrapped from the task group's errors
                break
            # Not durable one by one: the swap's commit, which waits for the WAL, covers them all.
            position = await apply_batch(
                pool, shadow_name(sub.name), shadow_schema(sub.name), sub.projection(), position, batch, durable=False
            )
            progress.done += len(batch)
            progress.total = max(progress.total, progress.done)
            if on_progress:
                on_progress(progress)
    if refused:
        raise refused
    async with pool.acquire() as conn:
        await _index_shadow(conn, sub)
    return position


def _undecodable(sub: Subscription, batch: list[Envelope]) -> RebuildError | None:
    """A view rebuilt past an event it cannot read would silently differ from the log."""
    undecodable = sub.undecodable_in(batch)
    return RebuildError(str(UndecodableEvent(undecodable[0]))) if undecodable else None


async def _catch_up_in(conn: Connection, sub: Subscription, position: Position, until: Position) -> Position:
    while position < until:
        batch = await read_committed(conn, position, BATCH, until)
        if not batch:
            raise RebuildError(f"events up to {until.token()} are not readable yet")
        if refused := _undecodable(sub, batch):
            raise refused
        position = await apply_in_transaction(
            conn, shadow_name(sub.name), shadow_schema(sub.name), sub.projection(), position, batch
        )
    return position


async def swap(pool: Pool, sub: Subscription, shadow_position: Position) -> Position:
    """Replace the live tables by the shadow ones; returns the view's position after."""
    schema = _quoted(shadow_schema(sub.name))
    async with pool.acquire() as conn, conn.transaction():
        await ensure_checkpoint(conn, sub.name)
        row = await conn.fetchrow("SELECT xid, id FROM command.subscriptions WHERE name = $1 FOR UPDATE", sub.name)
        assert row is not None
        live = Position(row["xid"], row["id"])
        position = await _catch_up_in(conn, sub, shadow_position, live)
        # The search_path was pointed at the shadow by the catch-up; name everything fully.
        for table in sub.tables:
            t = _quoted(table)
            await conn.execute(f"DROP TABLE query.{t}")
            await conn.execute(f"ALTER TABLE {schema}.{t} SET SCHEMA query")
        await conn.execute(f"DROP SCHEMA {schema}")
        if position != live:  # the live run was behind (e.g. stalled): the shadow is ahead
            await conn.execute(
                "UPDATE command.subscriptions SET xid = $2, id = $3, stalled = false, "
                "last_error = NULL, updated_at = now() WHERE name = $1",
                sub.name,
                position.xid,
                position.id,
            )
        await conn.execute("DELETE FROM command.subscriptions WHERE name = $1", shadow_name(sub.name))
    return position


async def rebuild(pool: Pool, sub: Subscription, on_progress: Callable[[Progress], None] | None = None) -> Position:
    """The whole blue/green rebuild; one at a time per view (a second one fails at once)."""
    if not sub.tables:
        raise RebuildError(f"{sub.name} has no tables to rebuild")
    async with pool.acquire() as guard:
        got = await guard.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE + 1, sub.name)
        if not got:
            raise RebuildError(f"a rebuild of {sub.name} is already running")
        try:
            shadow = await build_shadow(pool, sub, on_progress=on_progress)
            return await swap(pool, sub, shadow)
        finally:
            await guard.execute("SELECT pg_advisory_unlock($1, hashtext($2))", LOCK_NAMESPACE + 1, sub.name)
            await guard.execute(f"DROP SCHEMA IF EXISTS {_quoted(shadow_schema(sub.name))} CASCADE")
