"""SQL on the listeners module's tables. Filters and fields are SQL/JSON path text that
PostgreSQL parses and evaluates on the stored payloads; Python never evaluates them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app.infra.db import Connection, Pool
from app.infra.outbox import ORIGIN, Position

_json = msgspec.json.Encoder()

# The subscription that fans the log out to the listeners (process.py).
FANOUT = "listeners"

# PostgreSQL's own parser: a filter must parse and be a predicate (on an empty payload it
# answers true or false, where a mere path answers "single boolean result is expected");
# a field must parse as a path. A filter may also name who acted, `$actor` (`$actor.sub`,
# `$actor.roles`: the metadata the command recorded; null for the saga's own steps).
# The check passes exactly the variables the filter will get when matched (see
# filter_uses_actor in migration 0007): a variable spelled another way (`$"\u0061ctor"`)
# is then refused here instead of failing at every event.
CHECK_FILTER = """
SELECT jsonb_path_match('{}'::jsonb, $1::text::jsonpath,
    CASE WHEN $1::text LIKE '%$actor%' OR $1::text LIKE '%$"actor"%'
         THEN '{"actor": {"sub": "", "roles": []}}' ELSE '{}' END::jsonb)
"""
CHECK_PATH = "SELECT jsonb_path_query_first('{}'::jsonb, $1::jsonpath, '{}', true)"

# The batch (first..last, in the log's order) matched against every listener at once. The
# queue gets the matches (its insert trigger NOTIFYs the delivery loop, in whichever process
# runs it). One statement: the runner puts the checkpoint's compare-and-set in front of it.
# A filter's variables (`$actor`) are built once per event (OFFSET 0 keeps the subquery
# from being folded into the join, which would build them once per event and listener),
# and passed only to the filters that name them: each halves an evaluation's cost
# (BENCHMARKS.md, "Figures behind the code's choices").
MATCH_BATCH = """
INSERT INTO command.listener_queue (listener_id, xid, id)
SELECT l.id, o.xid, o.id
FROM (SELECT xid, id, type, payload, recorded_at, jsonb_build_object('actor', metadata->'actor') AS vars
      FROM command.outbox WHERE (xid, id) >= ($1, $2) AND (xid, id) <= ($3, $4) OFFSET 0) AS o
JOIN command.listeners l ON o.type = ANY (l.event_types)
WHERE NOT l.deleted AND NOT l.disabled
  AND o.recorded_at >= l.starts_at AND (l.ends_at IS NULL OR o.recorded_at < l.ends_at)
  AND (l.filter_path IS NULL
       OR jsonb_path_match(o.payload, l.filter_path, CASE WHEN l.filter_uses_actor THEN o.vars ELSE '{}' END, true))
ON CONFLICT DO NOTHING
"""
# A filter that still cannot run on an event (PostgreSQL raises where `silent` does not
# reach) fails the batch statement; the fan-out then matches that event listener by listener
# and records the failure in the deliveries log of the listener whose filter raised.
MATCH_ONE = MATCH_BATCH.replace("WHERE NOT l.deleted", "WHERE l.id = $5 AND NOT l.deleted")
CANDIDATES = """
SELECT l.id FROM command.listeners l JOIN command.outbox o ON o.type = ANY (l.event_types)
WHERE (o.xid, o.id) = ($1, $2) AND NOT l.deleted AND NOT l.disabled ORDER BY l.id
"""
FILTER_FAILED = """
WITH counted AS (UPDATE command.listeners SET failed_attempts = failed_attempts + 1 WHERE id = $1)
INSERT INTO command.listener_deliveries (listener_id, event_id, type, xid, id, attempt, status, error, duration_ms, at)
SELECT $1, o.event_id, o.type, o.xid, o.id, 0, 'failed', $4, 0, now() FROM command.outbox o WHERE (o.xid, o.id) = ($2, $3)
"""
# One listener's matches in a window of the log (its backfill, or a new filter's rematch):
# the window's events read in the log's order with a limit, so that the primary key's range
# scan is the plan whatever the window's place in a long log.
MATCH_HISTORY = """
INSERT INTO command.listener_queue (listener_id, xid, id)
SELECT l.id, o.xid, o.id
FROM (SELECT xid, id, type, payload, metadata, recorded_at FROM command.outbox
      WHERE (xid, id) > ($2, $3) AND (xid, id) <= ($4, $5) ORDER BY xid, id LIMIT $6) AS o
JOIN command.listeners l ON l.id = $1 AND o.type = ANY (l.event_types)
WHERE o.recorded_at >= l.starts_at AND (l.ends_at IS NULL OR o.recorded_at < l.ends_at)
  AND (l.filter_path IS NULL
       OR jsonb_path_match(o.payload, l.filter_path, jsonb_build_object('actor', o.metadata->'actor'), true))
ON CONFLICT DO NOTHING
"""
# The fan-out's checkpoint, locked: its next batch waits for this transaction, and then
# sees the listener as it is now.
FANOUT_CHECKPOINT = """
WITH ensured AS (INSERT INTO command.subscriptions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING)
SELECT xid, id FROM command.subscriptions WHERE name = $1 FOR UPDATE
"""
INSERT = """
INSERT INTO command.listeners (id, name, event_types, filter, fields, target, secret, starts_at, ends_at,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
"""
LOAD = "SELECT * FROM command.listeners WHERE id = $1 AND NOT deleted FOR UPDATE"
SAVE = """
UPDATE command.listeners SET name = $2, filter = $3, fields = $4, ends_at = $5, paused = $6,
    version = version + 1, updated_at = $7
WHERE id = $1 RETURNING version
"""
FORGET_PENDING = "DELETE FROM command.listener_queue WHERE listener_id = $1 AND status = 'pending'"
DELETE = "UPDATE command.listeners SET deleted = true, updated_at = $2 WHERE id = $1 AND NOT deleted RETURNING id"
DROP_QUEUE = "DELETE FROM command.listener_queue WHERE listener_id = $1"
ROTATE = """
UPDATE command.listeners SET secret = $2, updated_at = $3 WHERE id = $1 AND NOT deleted AND secret IS NOT NULL RETURNING id
"""
REDELIVER = """
UPDATE command.listener_queue q SET status = 'pending', attempts = 0, next_attempt_at = now(),
    redelivered = true, last_failed = false
FROM (SELECT DISTINCT xid, id FROM command.listener_deliveries WHERE listener_id = $1 AND event_id = $2) AS d
WHERE q.listener_id = $1 AND q.status = 'dead' AND (q.xid, q.id) = (d.xid, d.id)
RETURNING q.xid
"""
# Whether this listener ever matched the event: it was attempted, or it waits in the queue.
MATCHED = """
SELECT EXISTS (SELECT FROM command.listener_deliveries WHERE listener_id = $1 AND event_id = $2)
    OR EXISTS (SELECT FROM command.listener_queue q JOIN command.outbox o ON (o.xid, o.id) = (q.xid, q.id)
               WHERE q.listener_id = $1 AND o.event_id = $2)
"""


async def _refused_by_postgres(conn: Connection, sql: str, text: str) -> str | None:
    """None if PostgreSQL runs `sql` on `text`; else its reason. Behind a savepoint: the
    command's transaction goes on either way."""
    try:
        async with conn.transaction():
            await conn.fetchval(sql, text)
    except asyncpg.PostgresError as exc:
        return str(exc).splitlines()[0]
    return None


async def check_filter(conn: Connection, expression: str) -> str | None:
    """None if PostgreSQL takes `expression` as a predicate; else why not."""
    return await _refused_by_postgres(conn, CHECK_FILTER, expression)


async def check_path(conn: Connection, path: str) -> str | None:
    return await _refused_by_postgres(conn, CHECK_PATH, path)


async def fanout_position(conn: Connection) -> Position:
    row = await conn.fetchrow(FANOUT_CHECKPOINT, FANOUT)
    return ORIGIN if row is None else Position(row["xid"], row["id"])


async def insert(
    conn: Connection,
    listener_id: UUID,
    name: str,
    event_types: Sequence[str],
    filter_: str | None,
    fields: dict[str, str] | None,
    target: dict[str, Any],
    secret: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    at: datetime,
) -> None:
    fields_json = None if fields is None else _json.encode(fields).decode()
    target_json = _json.encode(target).decode()
    window = (starts_at, ends_at, at)
    await conn.execute(INSERT, listener_id, name, list(event_types), filter_, fields_json, target_json, secret, *window)


# Matching the past is left to the dispatching process, window by window (rematch_window):
# the listener says from where (exclusive) up to where (inclusive; the fan-out's position
# when it was asked), and is not dispatched until the window reaches it.
REMATCH = """
UPDATE command.listeners SET rematch_xid = $2, rematch_id = $3, rematch_until_xid = $4, rematch_until_id = $5
WHERE id = $1
"""
# NO KEY UPDATE: the fan-out's queue inserts (their foreign key's KEY SHARE) need not wait.
REMATCHING = """
SELECT id, rematch_xid, rematch_id, rematch_until_xid, rematch_until_id FROM command.listeners
WHERE rematch_xid IS NOT NULL AND NOT deleted ORDER BY id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED
"""
# The end of the next window: REMATCH_WINDOW events of the log after the listener's place
# (a primary-key range scan), or its goal if that comes first.
WINDOW_END = """
SELECT xid, id FROM command.outbox WHERE (xid, id) > ($1, $2) AND (xid, id) <= ($3, $4)
ORDER BY xid, id OFFSET $5 - 1 LIMIT 1
"""
REMATCHED_UP_TO = "UPDATE command.listeners SET rematch_xid = $2, rematch_id = $3 WHERE id = $1"
REMATCH_DONE = """
UPDATE command.listeners SET rematch_xid = NULL, rematch_id = NULL, rematch_until_xid = NULL, rematch_until_id = NULL
WHERE id = $1
"""
REMATCH_WINDOW = 50_000


async def rematch(conn: Connection, listener_id: UUID, after: Position, until: Position) -> None:
    """Ask for the listener to be matched against the log in (after, until]."""
    if after < until:
        await conn.execute(REMATCH, listener_id, after.xid, after.id, until.xid, until.id)


async def rematch_window(pool: Pool) -> bool:
    """One window of one listener's matching of the past, in its own transaction; whether
    there was one to do."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(REMATCHING)
        if row is None:
            return False
        after = Position(row["rematch_xid"], row["rematch_id"])
        until = Position(row["rematch_until_xid"], row["rematch_until_id"])
        end_row = await conn.fetchrow(WINDOW_END, after.xid, after.id, until.xid, until.id, REMATCH_WINDOW)
        end = until if end_row is None else Position(end_row["xid"], end_row["id"])
        await conn.execute(MATCH_HISTORY, row["id"], after.xid, after.id, end.xid, end.id, REMATCH_WINDOW)
        if end >= until:
            await conn.execute(REMATCH_DONE, row["id"])
        else:
            await conn.execute(REMATCHED_UP_TO, row["id"], end.xid, end.id)
        return True


async def load_for_update(conn: Connection, listener_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(LOAD, listener_id)


async def save(
    conn: Connection,
    listener_id: UUID,
    name: str,
    filter_: str | None,
    fields: dict[str, str] | None,
    ends_at: datetime | None,
    paused: bool,
    at: datetime,
) -> int:
    fields_json = None if fields is None else _json.encode(fields).decode()
    version = await conn.fetchval(SAVE, listener_id, name, filter_, fields_json, ends_at, paused, at)
    return int(version)


async def stop_deliveries(conn: Connection, listener_id: UUID) -> None:
    """Tells the delivery loop (on commit) to read this listener anew before its next send."""
    await conn.execute("SELECT pg_notify('listener_queue', $1)", f"stop:{listener_id}")


async def forget_pending(conn: Connection, listener_id: UUID) -> None:
    await conn.execute(FORGET_PENDING, listener_id)


async def delete(conn: Connection, listener_id: UUID, at: datetime) -> bool:
    if await conn.fetchval(DELETE, listener_id, at) is None:
        return False
    await conn.execute(DROP_QUEUE, listener_id)
    return True


async def rotate_secret(conn: Connection, listener_id: UUID, secret: str, at: datetime) -> bool:
    return await conn.fetchval(ROTATE, listener_id, secret, at) is not None


async def redeliver(conn: Connection, listener_id: UUID, event_id: UUID) -> bool:
    return await conn.fetchval(REDELIVER, listener_id, event_id) is not None


async def secret(conn: Connection, listener_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT secret FROM command.listeners WHERE id = $1", listener_id)
    return value


async def matched(conn: Connection, listener_id: UUID, event_id: UUID) -> bool:
    return bool(await conn.fetchval(MATCHED, listener_id, event_id))


# -- reads --------------------------------------------------------------------------------

_READ = """
SELECT l.id, l.name, l.event_types, l.filter, l.fields, l.target, l.starts_at, l.ends_at, l.paused, l.disabled,
       l.delivered, l.failed_attempts,
       (SELECT count(*) FROM command.listener_queue q WHERE q.listener_id = l.id AND q.status = 'dead') AS dead_letters,
       (SELECT count(*) FROM command.listener_queue q WHERE q.listener_id = l.id AND q.status = 'pending') AS pending,
       coalesce((SELECT q.last_failed FROM command.listener_queue q WHERE q.listener_id = l.id AND q.status = 'pending'
                 ORDER BY q.redelivered DESC, q.xid, q.id LIMIT 1), false) AS head_failed,
       l.last_xid, l.last_id, l.created_at
FROM command.listeners l
"""
LISTENER = _READ + "WHERE l.id = $1 AND NOT l.deleted"
LISTENERS_PAGE = _READ + "WHERE NOT l.deleted AND ($1::text IS NULL OR (l.name, l.id) > ($1, $2)) ORDER BY l.name, l.id LIMIT $3"
DELIVERIES = """
SELECT d.seq, d.event_id, d.type, d.xid, d.id, d.attempt, d.status, d.response_status, d.error, d.duration_ms, d.at
FROM command.listener_deliveries d
WHERE d.listener_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.seq < $3)
ORDER BY d.seq DESC LIMIT $4
"""
EXISTS = "SELECT true FROM command.listeners WHERE id = $1 AND NOT deleted"
# Per listener, for /metrics: what is left to deliver and how it went.
SAMPLES = """
SELECT l.id, l.name, l.paused, l.disabled, l.delivered, l.failed_attempts,
       count(*) FILTER (WHERE q.status = 'pending') AS pending,
       count(*) FILTER (WHERE q.status = 'dead') AS dead_letters
FROM command.listeners l LEFT JOIN command.listener_queue q ON q.listener_id = l.id
WHERE NOT l.deleted GROUP BY l.id ORDER BY l.name, l.id
"""


async def samples(conn: Connection | Pool) -> list[asyncpg.Record]:
    return await conn.fetch(SAMPLES)


async def one(conn: Connection | Pool, listener_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(LISTENER, listener_id)


async def page(conn: Connection | Pool, after: tuple[str, UUID] | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(LISTENERS_PAGE, after[0] if after else None, after[1] if after else None, limit)


async def exists(conn: Connection | Pool, listener_id: UUID) -> bool:
    return bool(await conn.fetchval(EXISTS, listener_id))


async def deliveries(
    conn: Connection | Pool, listener_id: UUID, status: str | None, before: int | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(DELIVERIES, listener_id, status, before, limit)


# -- dispatch: what to send next, and each attempt's outcome --------------------------------

# Listeners with an event to deliver, and when their next one is due (an index probe each).
DUE_LISTENERS = """
SELECT l.id, h.next_attempt_at
FROM command.listeners l
CROSS JOIN LATERAL (
    SELECT q.next_attempt_at FROM command.listener_queue q
    WHERE q.listener_id = l.id AND q.status = 'pending'
    ORDER BY q.redelivered DESC, q.xid, q.id LIMIT 1
) AS h
WHERE NOT l.paused AND NOT l.disabled AND NOT l.deleted AND l.rematch_xid IS NULL AND l.id <> ALL ($1::uuid[])
"""
# A listener's next events: redelivered dead letters first, then commit order. The
# document's `data` is the payload, or the listener's fields evaluated by PostgreSQL.
NEXT_EVENTS = """
SELECT q.listener_id, q.xid, q.id, q.attempts, q.next_attempt_at, l.target, l.secret,
       o.event_id, o.type, o.recorded_at,
       CASE WHEN l.fields IS NULL THEN o.payload
            ELSE (SELECT coalesce(jsonb_object_agg(f.key, jsonb_path_query_first(o.payload, f.value::jsonpath, '{}', true)),
                                  '{}'::jsonb)
                  FROM jsonb_each_text(l.fields) AS f)
       END::text AS data
FROM command.listener_queue q
JOIN command.listeners l ON l.id = q.listener_id
JOIN command.outbox o ON o.xid = q.xid AND o.id = q.id
WHERE q.listener_id = $1 AND q.status = 'pending' AND NOT l.paused AND NOT l.disabled AND NOT l.deleted
ORDER BY q.redelivered DESC, q.xid, q.id LIMIT $2
"""
_LOG = """
INSERT INTO command.listener_deliveries (listener_id, event_id, type, xid, id, attempt, status, response_status,
    error, duration_ms, at)
SELECT $1, $4, $5, $2, $3, $6, {status}, $7, $8, $9, $10 FROM {source}
"""
# An attempt's outcome and its log row, one statement each (atomic without a transaction).
DELIVERED = f"""
WITH done AS (
    DELETE FROM command.listener_queue WHERE listener_id = $1 AND xid = $2 AND id = $3 RETURNING xid, id
), moved AS (
    UPDATE command.listeners l SET delivered = l.delivered + 1,
        last_xid = CASE WHEN l.last_xid IS NULL OR (d.xid, d.id) > (l.last_xid, l.last_id) THEN d.xid ELSE l.last_xid END,
        last_id = CASE WHEN l.last_xid IS NULL OR (d.xid, d.id) > (l.last_xid, l.last_id) THEN d.id ELSE l.last_id END
    FROM done d WHERE l.id = $1
)
{_LOG.format(status="'delivered'", source="done")}
"""
FAILED = f"""
WITH q AS (
    UPDATE command.listener_queue SET attempts = attempts + 1, last_failed = true, status = $11, next_attempt_at = $12
    WHERE listener_id = $1 AND xid = $2 AND id = $3 AND status = 'pending' RETURNING 1
), counted AS (
    UPDATE command.listeners SET failed_attempts = failed_attempts + 1, disabled = disabled OR $13
    WHERE id = $1 AND EXISTS (SELECT FROM q)
)
{_LOG.format(status="CASE WHEN $11 = 'dead' THEN 'dead' ELSE 'failed' END", source="q")}
"""


async def due(pool: Pool, busy: list[UUID]) -> list[Any]:
    """Listeners (not in `busy`) with a pending event, and when their next one is due."""
    return await pool.fetch(DUE_LISTENERS, busy)


async def heads(pool: Pool, listener_id: UUID, count: int) -> list[Any]:
    """A listener's next `count` events to send, each with its document's data."""
    return await pool.fetch(NEXT_EVENTS, listener_id, count)


# -- retention: what the purger removes (app/infra/purger.py) -------------------------------

# Attempts older than LISTENER_ATTEMPTS_RETENTION_S, but those of a dead letter not yet
# redelivered (the operator still needs to see why it died). The listener's stats are
# counters on its row: they keep counting what is removed here.
OLD_ATTEMPTS = """
DELETE FROM command.listener_deliveries d USING (
    SELECT a.seq FROM command.listener_deliveries a
    WHERE a.at < now() - make_interval(secs => $2)
      AND NOT EXISTS (SELECT FROM command.listener_queue q
                      WHERE q.listener_id = a.listener_id AND (q.xid, q.id) = (a.xid, a.id) AND q.status = 'dead')
    LIMIT $1 FOR UPDATE SKIP LOCKED) AS old
WHERE d.seq = old.seq
"""
# A deleted listener's rows go with it: its attempts in batches, then the listener (its
# queue rows go by the foreign key's cascade) once no attempt is left.
DELETED_LISTENERS_ATTEMPTS = """
DELETE FROM command.listener_deliveries d USING (
    SELECT a.seq FROM command.listener_deliveries a JOIN command.listeners l ON l.id = a.listener_id
    WHERE l.deleted LIMIT $1 FOR UPDATE OF a SKIP LOCKED) AS old
WHERE d.seq = old.seq
"""
DELETED_LISTENERS = """
DELETE FROM command.listeners l USING (
    SELECT id FROM command.listeners x
    WHERE x.deleted AND NOT EXISTS (SELECT FROM command.listener_deliveries a WHERE a.listener_id = x.id)
    LIMIT $1 FOR UPDATE SKIP LOCKED) AS old
WHERE l.id = old.id
"""
