"""The transactional outbox, kept forever as the event log.

Append runs inside the caller's transaction. Readers take committed events in an
order that a later commit can never fall behind: every row carries the id of the
transaction that wrote it (`xid`, from `pg_current_xact_id()`), and a reader only
takes rows whose xid is below the xmin of its own snapshot, i.e. rows of
transactions that are no longer running. A transaction still open holds back all
rows with a greater or equal xid, so nothing is ever skipped; rows come out ordered
by (xid, id), which is also the checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from app.events import Event, event_class, event_type
from app.infra.clock import uuid7
from app.infra.db import Connection, Pool


class Position(NamedTuple):
    """A place in the committed order of the outbox."""

    xid: int
    id: int

    def token(self) -> str:
        return f"{self.xid}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> Position:
        """Raises ValueError on anything that is not a token we issued."""
        xid, sep, id_ = token.strip().partition(".")
        if not sep or not xid.removeprefix("-").isdigit() or not id_.isdigit():
            raise ValueError(f"not a position token: {token!r}")
        return cls(int(xid), int(id_))


# Before every event; a log re-based after a restore into a new cluster has negative xids.
ORIGIN = Position(-(2**63), 0)


class Envelope(msgspec.Struct, frozen=True, gc=False):
    position: Position
    event_id: UUID
    recorded_at: datetime
    event: Event
    actor: str | None = None  # the `sub` of who acted (the command's caller); None: the service itself


_encoder = msgspec.json.Encoder()

APPEND = """
INSERT INTO command.outbox (event_id, type, version, stream_id, payload, metadata)
SELECT *, $6::jsonb FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::jsonb[])
RETURNING xid, id
"""


class Write(NamedTuple):
    """A data-modifying statement and its arguments, to be run later in a statement of
    someone else's: with an append (`append(..., along_with=...)`, a unit of work's saved
    write), or with a subscription's checkpoint (a view's one-statement batch). One round
    trip, atomic without BEGIN and COMMIT of its own."""

    sql: str
    args: tuple[Any, ...]


def renumbered(sql: str, after: int) -> str:
    """`sql` with its parameters $1, $2... renumbered to follow `after` others, so that
    it can run inside a statement that has parameters of its own."""
    return re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + after}", sql.strip())


_APPEND_ARGS = 6
_appends_with: dict[str, str] = {}


def _append_with(sql: str) -> str:
    """`WITH written AS (sql) <APPEND>`, the write's parameters renumbered after APPEND's."""
    combined = _appends_with.get(sql)
    if combined is None:
        combined = _appends_with[sql] = f"WITH written AS ({renumbered(sql, _APPEND_ARGS)}){APPEND}"
    return combined


async def append(
    conn: Connection, events: Sequence[Event], *, along_with: Write | None = None, metadata: bytes | None = None
) -> Position:
    """Append events in the caller's transaction; returns the position of the last one.

    `along_with` runs in the same statement: a command whose whole effect is one write
    and its events needs no explicit transaction (see UnitOfWork.flush).
    `metadata` (JSON) is stored with each: who acted, outside the business payload."""
    types = [event_type(type(e)) for e in events]
    columns = (
        [uuid7() for _ in events],
        types,
        [e.VERSION for e in events],
        [e.stream_id() for e in events],
        [_encoder.encode(e).decode() for e in events],
        None if metadata is None else metadata.decode(),
    )
    if along_with is None:
        rows = await conn.fetch(APPEND, *columns)
    else:
        rows = await conn.fetch(_append_with(along_with.sql), *columns, *along_with.args)
    return max(Position(r["xid"], r["id"]) for r in rows)


# Rows of finished transactions (`ready`: xid below the snapshot's xmin) come first in
# (xid, id) order, so one statement returns the next batch and tells whether committed
# rows after it are still held back by an older open transaction.
READ_COMMITTED = """
SELECT xid, id, event_id, type, payload, recorded_at, metadata->'actor'->>'sub' AS actor,
       xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS ready
FROM command.outbox
WHERE (xid, id) > ($1, $2) AND (xid, id) <= ($3, $4)
ORDER BY xid, id
LIMIT $5
"""

_END = Position(2**63 - 1, 2**63 - 1)


class Undecodable(Event, frozen=True, tag="infra.undecodable"):
    """Stands in for a row this code cannot decode: a type it does not know (written by
    a newer release) or a payload that does not match its type's schema. Subscribers
    that do not act on `stored_type` pass over it like any other event they ignore;
    the ones that do stop at it (see Subscription.undecodable_in): never skipped."""

    STREAM = "stored_type"
    stored_type: str
    error: str


class NotRead(Event, frozen=True, tag="infra.not_read"):
    """Stands in for an event of a type its reader does not act on (see `not_read`): it
    passes over it, so its payload is never decoded."""

    STREAM = "stored_type"
    stored_type: str


def row_position(r: Any) -> Position:
    # tuple.__new__ skips the Python-level __new__ a NamedTuple has: a subscription host
    # makes a few of these per event it reads (BENCHMARKS.md, "Figures behind the code's choices").
    return tuple.__new__(Position, (r["xid"], r["id"]))


def decode(row: object, position: Position | None = None) -> Envelope:
    """`position`: the row's, if the caller has it already."""
    r = row  # asyncpg.Record
    stored_type = r["type"]  # type: ignore[index]
    event: Event
    try:
        event = msgspec.json.decode(r["payload"], type=event_class(stored_type))  # type: ignore[index]
    except (LookupError, ImportError, msgspec.DecodeError) as exc:  # ValidationError is a DecodeError
        event = Undecodable(stored_type=stored_type, error=f"{type(exc).__name__}: {exc}")
    return _envelope(r, event, position)


def not_read(row: object, position: Position | None = None) -> Envelope:
    """The row as its reader passes over it: its payload left undecoded."""
    return _envelope(row, NotRead(stored_type=row["type"]), position)  # type: ignore[index]


def _envelope(r: Any, event: Event, position: Position | None) -> Envelope:
    at = row_position(r) if position is None else position
    return Envelope(position=at, event_id=r["event_id"], recorded_at=r["recorded_at"], event=event, actor=r["actor"])


READ_ONE = """
SELECT xid, id, event_id, type, payload, recorded_at, metadata->'actor'->>'sub' AS actor
FROM command.outbox WHERE xid = $1 AND id = $2
"""


async def read_again(conn: Connection | Pool, at: Position) -> Envelope:
    """The event at `at` read and decoded anew (its row or this code may have been fixed)."""
    row = await conn.fetchrow(READ_ONE, at.xid, at.id)
    assert row is not None, f"no event at {at.token()}"
    return decode(row)


async def read_next_rows(
    conn: Connection, after: Position, limit: int, until: Position | None = None
) -> tuple[list[asyncpg.Record], bool]:
    """`read_next`, its rows not yet decoded."""
    end = _END if until is None else until
    rows = await conn.fetch(READ_COMMITTED, after.xid, after.id, end.xid, end.id, limit + 1)
    ready = [r for r in rows[:limit] if r["ready"]]
    return ready, len(rows) > len(ready)


async def read_next(conn: Connection, after: Position, limit: int, until: Position | None = None) -> tuple[list[Envelope], bool]:
    """The next committed events after `after`, in order, at most `limit` (and <= `until`);
    and whether more are known to follow: a full batch, or committed rows held back by an
    older open transaction (their writer has already woken us, so poll again soon: the
    transaction holding them back may write no event and wake nobody)."""
    rows, more = await read_next_rows(conn, after, limit, until)
    return [decode(r) for r in rows], more


async def read_committed(conn: Connection, after: Position, limit: int, until: Position | None = None) -> list[Envelope]:
    """The next committed events after `after`, in order, at most `limit` (and <= `until`)."""
    return (await read_next(conn, after, limit, until))[0]


# Every row this statement's snapshot sees is committed; some may still be held back
# from readers by an older open transaction. Waiting for a subscription to reach this
# position waits for all of them.
HEAD = "SELECT xid, id FROM command.outbox ORDER BY xid DESC, id DESC LIMIT 1"


async def committed_head(conn: Connection) -> Position:
    """The position of the last committed event (readers will reach it, in order)."""
    row = await conn.fetchrow(HEAD)
    return ORIGIN if row is None else Position(row["xid"], row["id"])


# One row per subscriber, in one statement (a scrape of /metrics under load must not queue
# once per subscriber). `types`: the event types it acts on, space-joined (NULL: all).
# Events it ignores are not lag: it passes over them without a transaction when it next wakes.
LAGS = """
SELECT
  (SELECT count(*) FROM (
     SELECT 1 FROM command.outbox o
     WHERE (o.xid, o.id) > (s.xid, s.id) AND (s.types IS NULL OR o.type = ANY(string_to_array(s.types, ' ')))
     LIMIT $4) AS behind) AS events,
  (SELECT extract(epoch FROM clock_timestamp() - o.recorded_at)::float8
     FROM command.outbox o
     WHERE (o.xid, o.id) > (s.xid, s.id) AND (s.types IS NULL OR o.type = ANY(string_to_array(s.types, ' ')))
     ORDER BY o.xid, o.id LIMIT 1) AS seconds
FROM unnest($1::bigint[], $2::bigint[], $3::text[]) WITH ORDINALITY AS s(xid, id, types, n)
ORDER BY s.n
"""


async def lags(
    conn: Connection | Pool, subscribers: Sequence[tuple[Position, list[str] | None]], cap: int = 1_000_000
) -> list[tuple[int, float]]:
    """For each (position, event types or None for all): the events of those types after
    the position, counted up to `cap`, and the age in seconds of the oldest."""
    rows = await conn.fetch(
        LAGS,
        [p.xid for p, _ in subscribers],
        [p.id for p, _ in subscribers],
        [" ".join(types) if types else None for _, types in subscribers],
        cap,
    )
    return [(int(r["events"]), max(0.0, float(r["seconds"] or 0.0))) for r in rows]
