"""The unit of work a handler runs in: one connection (in a transaction, or a single
statement that is atomic on its own), the clock, and what the handler decided: its events
and the writes saved for the commit.

A handler records events (`emit`) and saves writes (`save`) in any order. The runner that
opened the unit (the command pipeline, or a process manager's subscription runner) then
flushes it before the commit: the saved writes run in the order saved, the last one in the
same statement as the append of every recorded event, in record order (one round trip for
a command whose whole effect is one write). A saved write is not seen by the handler's own
reads before that flush: a handler that reads what it saved flushes first (accounting's
reaction does, between runs of orders). After the commit the runner wakes the bus for the
types that were appended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import asyncpg
import msgspec

from app.config import Settings
from app.events import Event, event_type
from app.infra import outbox
from app.infra.auth import ANYONE, Principal
from app.infra.clock import Clock
from app.infra.db import Connection
from app.infra.outbox import Position, Write

T = TypeVar("T")
_encoder = msgspec.json.Encoder()
_DEFAULTS = Settings()  # a process manager's unit: no setting of the operator's is read there


class CatchUp(Exception):
    """A handler found its module does not know an id yet (it learns it from events): the
    pipeline rolls back, waits for `subscription` to apply everything committed so far,
    and runs the handler once more."""

    def __init__(self, subscription: str) -> None:
        super().__init__(subscription)
        self.subscription = subscription


# What a saved write's failure means to the handler: a refusal to raise instead (e.g. an
# exclusion constraint's violation is a 409), or None for an error that stays one.
Refused = Callable[[asyncpg.PostgresError], Exception | None]


class UnitOfWork:
    def __init__(
        self,
        conn: Connection,
        clock: Clock,
        caught_up: frozenset[str] = frozenset(),
        settings: Settings | None = None,
        *,
        actor: Principal | None = None,
    ) -> None:
        self.conn = conn
        # Who the command is for (None: a process manager's reaction, the service itself).
        # Handlers check the rows they load against it; the events record it.
        self.actor = actor or ANYONE
        self._metadata = None if actor is None else _encoder.encode({"actor": actor.actor()})
        self.clock = clock
        self.settings = settings or _DEFAULTS  # the operator's configuration (e.g. listeners' allowed hosts)
        self._caught_up = caught_up
        self._pending: list[Event] = []
        self._saved: list[tuple[Write, Refused | None]] = []
        # What was appended: the last position (the command's answer) and the types
        # (which subscribers the commit must wake).
        self.position: Position | None = None
        self.appended_types: set[str] = set()

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, *events: Event) -> None:
        self._pending.extend(events)

    def save(self, write: Write, refused: Refused | None = None) -> None:
        """Run `write` at the flush, with the events recorded before or after this call."""
        self._saved.append((write, refused))

    def catch_up(self, subscription: str) -> None:
        """Raises CatchUp, unless the pipeline has already waited for `subscription`."""
        if subscription not in self._caught_up:
            raise CatchUp(subscription)

    async def flush(self, *, one_statement: bool = False) -> None:
        """The saved writes, then the events appended with the last of them. `one_statement`:
        the unit runs outside a transaction, so all of it must be that one statement."""
        saved, self._saved = self._saved, []
        events, self._pending = self._pending, []
        if one_statement and (len(saved) > 1 or (events and not saved)):
            raise RuntimeError("declared one statement, but its unit of work is not one saved write and its events")
        for write, refused in saved[:-1]:
            await _refusing(refused, self.conn.execute(write.sql, *write.args))
        last, refused = saved[-1] if saved else (None, None)
        if events:
            self.position = await _refusing(refused, outbox.append(self.conn, events, along_with=last, metadata=self._metadata))
            self.appended_types.update(event_type(type(e)) for e in events)
        elif last is not None:
            await _refusing(refused, self.conn.execute(last.sql, *last.args))


async def _refusing(refused: Refused | None, statement: Awaitable[T]) -> T:
    try:
        return await statement
    except asyncpg.PostgresError as exc:
        refusal = refused(exc) if refused is not None else None
        if refusal is None:
            raise
        raise refusal from None
