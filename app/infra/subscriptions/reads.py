"""One read of the outbox, shared by the subscriptions that want the same rows."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import asyncpg

from app.infra.db import Pool
from app.infra.outbox import Envelope, Position, decode, not_read, read_next_rows, row_position


@dataclass
class _Read:
    after: Position
    rows: list[asyncpg.Record]
    positions: list[Position]
    more: bool
    generation: int
    # Each row as decoded for the readers that act on its type, and as passed over
    # (NotRead) for the others: made once, when first asked for.
    decoded: dict[int, Envelope] = field(default_factory=dict)
    not_read: dict[int, Envelope] = field(default_factory=dict)

    def envelopes(self, start: int, stop: int, types: frozenset[str] | None) -> list[Envelope]:
        taken = []
        for i in range(start, min(stop, len(self.rows))):
            wanted = types is None or self.rows[i]["type"] in types
            made = self.decoded if wanted else self.not_read
            envelope = made.get(i)
            if envelope is None:
                envelope = made[i] = (decode if wanted else not_read)(self.rows[i], self.positions[i])
            taken.append(envelope)
        return taken


class SharedReads:
    """The subscriptions a commit wakes all want the same new rows: one of them reads them,
    the others take them from here. A read is complete up to its last row (no later commit
    can fall behind a committed row), so whoever stands inside it may take the rest of it;
    whether anything follows is known only if no commit has been heard of since
    (`generation`), else the taker is told to look again.

    A row is decoded only for a reader that acts on its type, once: most subscriptions pass
    over most events (each idle poll reads a second of them), and decoding was the largest
    cost of reading."""

    def __init__(self, pool: Pool, generation: Callable[[], int]) -> None:
        self._pool = pool
        self._generation = generation
        self._last: _Read | None = None
        self._lock = anyio.Lock()

    async def next(self, after: Position, limit: int, types: frozenset[str] | None = None) -> tuple[list[Envelope], bool]:
        """`types`: the event types the reader acts on (None: all); the others come NotRead."""
        async with self._lock:
            last = self._last
            if last is not None and last.after <= after < last.positions[-1]:
                start = bisect.bisect_right(last.positions, after)
                more = last.more or start + limit < len(last.rows) or self._generation() != last.generation
                return last.envelopes(start, start + limit, types), more
            generation = self._generation()
            async with self._pool.acquire() as conn:
                rows, more = await read_next_rows(conn, after, limit)
            if not rows:
                return [], more
            read = self._last = _Read(after, rows, [row_position(r) for r in rows], more, generation)
            return read.envelopes(0, limit, types), more
