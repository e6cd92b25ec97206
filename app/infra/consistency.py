"""Read-your-writes: wait until a view has applied a position."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from app.infra.bus import Wakeup
from app.infra.db import Connection, Pool
from app.infra.outbox import ORIGIN, Position

DEFAULT_WAIT_MS = 2000
MAX_WAIT_MS = 10_000

CHECKPOINT = "SELECT xid, id FROM command.subscriptions WHERE name = $1"


class PositionNotReached(Exception):
    def __init__(self, view: str, view_position: Position) -> None:
        super().__init__(f"view {view} is at {view_position.token()}")
        self.view = view
        self.view_position = view_position


async def view_position(conn: Connection | Pool, view: str) -> Position:
    row = await conn.fetchrow(CHECKPOINT, view)
    return ORIGIN if row is None else Position(row["xid"], row["id"])


@lru_cache(maxsize=256)
def _with_position(sql: str, view_parameter: int) -> str:
    # The page joins the checkpoint's one row (LEFT JOIN ... ON true has no join clause, so
    # it is a nested loop with the page inside, scanned once, in its own order), so even an
    # empty page answers with a row: the checkpoint, and NULL where the page's mark would be.
    return (
        "SELECT (page.row__).*, ARRAY[checkpoint.xid, checkpoint.id, page.found__] AS view_position__ "
        "FROM (SELECT 1) AS one "
        f"LEFT JOIN command.subscriptions AS checkpoint ON checkpoint.name = ${view_parameter} "
        f"LEFT JOIN (SELECT query AS row__, 1::bigint AS found__ FROM ({sql}) AS query) AS page ON true"
    )


class Fallback(NamedTuple):
    """Where a read on a standby goes again when the standby fails it."""

    pool: Pool
    failures: tuple[type[BaseException], ...]
    failed: Callable[[BaseException], None]


class ViewRead:
    """A query of a view that also reads the view's checkpoint, in the same statement.

    One snapshot makes `position` exactly the position the rows reflect, in one round
    trip instead of two, whether or not the page is empty. A store reads through it as it
    would through the pool; the rows come back as tuples of the query's columns, in its
    order (`Struct(*row)`), and the position beside them, in `position`.
    """

    def __init__(self, pool: Pool, view: str, fallback: Fallback | None = None) -> None:
        self._pool = pool
        self._view = view
        self._fallback = fallback
        self.position: Position | None = None

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        statement = _with_position(sql, len(args) + 1)
        fallback = self._fallback
        failures = fallback.failures if fallback is not None else ()
        try:
            rows = await self._pool.fetch(statement, *args, self._view)
        except failures as exc:
            # The primary has applied at least what the standby had: the read stays as
            # fresh as asked, only not from the standby.
            assert fallback is not None
            fallback.failed(exc)
            rows = await fallback.pool.fetch(statement, *args, self._view)
        xid, id_, found = rows[0]["view_position__"]
        self.position = ORIGIN if xid is None else Position(xid, id_)
        return [row[:-1] for row in rows] if found is not None else []

    async def fetchrow(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None


class _Checkpoint:
    """What this process last read of one view's checkpoint on one database, and the read
    under way, which every waiter shares."""

    def __init__(self) -> None:
        self.position: Position | None = None
        self.read_at = 0.0
        self.reading: asyncio.Future[Position] | None = None


class ViewPositions:
    """Wake-ups for waiters when a subscription running in this process advances.

    A view run by another process is seen by polling its checkpoint row (a primary-key
    lookup) every few milliseconds while someone waits: one read at a time per view and
    database, shared by every waiting request (20 waiters are one poll, not 20).
    """

    POLL_S = 0.01
    STANDBY_FIRST_POLL_S = 0.001

    POKE_EVERY_S = 0.25

    def __init__(self, poke: Callable[[str], None] | None = None) -> None:
        self._advanced: dict[str, Wakeup] = {}
        self._checkpoints: dict[tuple[int, str], _Checkpoint] = {}
        # Wakes the view's runner, in whichever process: it may hold a checkpoint past
        # events it ignores, which it writes once woken and caught up (see Runner.persisted).
        self._poke = poke

    def advanced(self, view: str) -> None:
        for (_, name), checkpoint in self._checkpoints.items():
            if name == view:
                checkpoint.read_at = 0.0  # what was read is stale: the next waiter reads again
        self._wakeup(view).set()

    async def _read(self, pool: Pool, view: str, fresh_s: float) -> Position:
        """The view's checkpoint as read at most `fresh_s` ago, or by the read under way, or
        by a new read that the waiters arriving meanwhile share."""
        checkpoint = self._checkpoints.setdefault((id(pool), view), _Checkpoint())
        if checkpoint.position is not None and time.monotonic() - checkpoint.read_at < fresh_s:
            return checkpoint.position
        if checkpoint.reading is None:
            started = time.monotonic()
            reading = asyncio.ensure_future(view_position(pool, view))
            checkpoint.reading = reading

            def done(future: asyncio.Future[Position]) -> None:
                checkpoint.reading = None
                if not future.cancelled() and future.exception() is None:
                    checkpoint.position, checkpoint.read_at = future.result(), started

            reading.add_done_callback(done)
        # Shielded: a waiter that gives up does not cancel the read the others wait for.
        return await asyncio.shield(checkpoint.reading)

    def _wakeup(self, view: str) -> Wakeup:
        return self._advanced.setdefault(view, Wakeup())

    async def wait_for(self, pool: Pool, view: str, target: Position, wait_ms: int, *, standby: bool = False) -> Position:
        """`standby`: `pool` is a hot standby, which no NOTIFY reaches; its checkpoint row
        arrives by replication a little after the primary's moved (which wakes us here),
        so it is polled soon after each wake-up, then less and less often."""
        deadline = time.monotonic() + wait_ms / 1000
        poked_at = 0.0
        poll = self.STANDBY_FIRST_POLL_S if standby else self.POLL_S
        while True:
            current = await self._read(pool, view, poll)
            if current >= target:
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PositionNotReached(view, current)
            if self._poke is not None and time.monotonic() - poked_at >= self.POKE_EVERY_S:
                self._poke(view)
                poked_at = time.monotonic()
            woken = await self._wakeup(view).wait(timeout=min(remaining, poll))
            if standby:
                poll = self.STANDBY_FIRST_POLL_S if woken else min(poll * 2, self.POLL_S)


def parse_wait_ms(raw: str | None) -> int:
    """Raises ValueError for anything but an integer 0..MAX_WAIT_MS."""
    if raw is None:
        return DEFAULT_WAIT_MS
    value = int(raw)
    if not 0 <= value <= MAX_WAIT_MS:
        raise ValueError(f"X-Wait-Ms must be 0-{MAX_WAIT_MS}")
    return value
