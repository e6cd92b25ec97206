"""A subscription's checkpoint: written in the same transaction as the subscriber's
effects, as a compare-and-set on the previous value, so two runners that overlap (a
rolling deploy, a rebuild beside the live run) cannot both apply a batch."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import asyncpg

from app.infra.db import Connection, Pool
from app.infra.outbox import Envelope, Position, Write, renumbered
from app.infra.subscriptions.spec import Project


class CheckpointMoved(Exception):
    """Someone else advanced the checkpoint: this runner's batch must not be applied."""


ENSURE = "INSERT INTO command.subscriptions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"
LOAD = "SELECT xid, id FROM command.subscriptions WHERE name = $1"
# The compare-and-set also sets, for its transaction, the search_path (the subscriber's
# schema) and whether COMMIT waits for the WAL to reach disk: one round trip for all.
# A view's transaction need not wait: if a crash loses it, it loses its checkpoint with
# it (WAL is replayed in order, all or nothing per transaction), and the view applies the
# same events again from the outbox, whose rows were committed durably by their commands.
# A later durable commit (any command) flushes it anyway. Process managers append events
# others act on and answer for: theirs wait. While a hot standby streams from the primary
# (`streamed`), a view's commit waits for the local flush ('local', not for the standby):
# the WAL sender only sends flushed WAL, and the WAL writer flushes an unwaited commit up to
# 200 ms later (wal_writer_delay), which a read-your-writes read on the standby would wait.
ADVANCE = """
UPDATE command.subscriptions
SET xid = $4, id = $5, updated_at = now(), stalled = false, last_error = NULL
WHERE name = $1 AND xid = $2 AND id = $3
RETURNING set_config('search_path', $6, true), set_config('synchronous_commit', $7, true)
"""


def commit_waits(durable: bool, streamed: bool) -> str:
    return "on" if durable else "local" if streamed else "off"


MARK_STALLED = "UPDATE command.subscriptions SET stalled = true, last_error = $2 WHERE name = $1"


async def ensure_checkpoint(conn: Connection | Pool, name: str) -> Position:
    await conn.execute(ENSURE, name)
    row = await conn.fetchrow(LOAD, name)
    assert row is not None
    return Position(row["xid"], row["id"])


async def apply_in_transaction(
    conn: Connection,
    name: str,
    schema: str,
    apply: Project,
    after: Position,
    batch: Sequence[Envelope],
    *,
    durable: bool = True,
    streamed: bool = False,
) -> Position:
    """In the caller's transaction: move the checkpoint from `after` (compare-and-set),
    then apply `batch`. The checkpoint row is locked first, always, so that a rebuild's
    swap (which locks it too) never deadlocks with a runner. `durable=False`: see ADVANCE."""
    last = batch[-1].position
    moved = await conn.fetchval(ADVANCE, name, after.xid, after.id, last.xid, last.id, schema, commit_waits(durable, streamed))
    if moved is None:
        raise CheckpointMoved(f"{name}: checkpoint is no longer {after.token()}")
    await apply(conn, batch)
    return last


async def apply_batch(
    pool: Pool,
    name: str,
    schema: str,
    apply: Project,
    after: Position,
    batch: Sequence[Envelope],
    *,
    durable: bool = True,
    streamed: bool = False,
) -> Position:
    """Apply `batch` and move the checkpoint to its last position, in one transaction.

    BEGIN and COMMIT are sent by hand: asyncpg's transaction() takes the ROLLBACK that
    PostgreSQL answers to COMMIT in an aborted transaction (a subscriber that caught a failed
    statement) for success, and the runner would believe a batch applied that was not."""
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        try:
            last = await apply_in_transaction(conn, name, schema, apply, after, batch, durable=durable, streamed=streamed)
        except BaseException:
            with anyio.CancelScope(shield=True):
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
            raise
        if (status := await conn.execute("COMMIT")) != "COMMIT":
            raise RuntimeError(f"{name}: the batch's transaction ended in {status}")
    return last


# ADVANCE as the head of a view's one statement (whose commit does not wait for the WAL).
# Data-modifying CTEs run once each, to the end, in one snapshot. If the checkpoint did not
# move, checkpoint_moved() raises and the whole statement, the batch's writes included,
# rolls back. The main query reads `advanced`, and the unreferenced `written` runs after
# it: the checkpoint row is locked first, as in apply_in_transaction, so a rebuild's swap
# never deadlocks with it. (PostgreSQL does not promise that order; if it ever changed, a
# deadlock would be an error it detects, and the batch would be retried.)
ONE_STATEMENT = (
    f"WITH advanced AS ({ADVANCE.strip()}), written AS ({{write}}) "
    "SELECT command.checkpoint_moved($1) FROM (SELECT 1) AS one WHERE NOT EXISTS (SELECT FROM advanced)"
)
_ONE_STATEMENT_ARGS = 7  # ADVANCE's
_CHECKPOINT_MOVED = "CQ001"  # the SQLSTATE of command.checkpoint_moved()
_one_statements: dict[str, str] = {}


async def apply_as_one_statement(
    pool: Pool, name: str, schema: str, after: Position, last: Position, write: Write, *, streamed: bool = False
) -> Position:
    """Apply a view's batch, written as one statement, and move its checkpoint from `after`
    to `last` in that statement: atomic without BEGIN and COMMIT of its own."""
    sql = _one_statements.get(write.sql)
    if sql is None:
        sql = _one_statements[write.sql] = ONE_STATEMENT.format(write=renumbered(write.sql, _ONE_STATEMENT_ARGS))
    try:
        await pool.execute(sql, name, after.xid, after.id, last.xid, last.id, schema, commit_waits(False, streamed), *write.args)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == _CHECKPOINT_MOVED:
            raise CheckpointMoved(f"{name}: checkpoint is no longer {after.token()}") from None
        raise
    return last
