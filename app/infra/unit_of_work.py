"""The unit of work a handler runs in: one connection (in a transaction, or a single
statement that is atomic on its own), the clock, and the events the handler decided.

A handler emits events; the runner that opened the unit (the command pipeline, or a
process manager's subscription runner) appends them to the outbox before the commit and,
after it, wakes the bus for the types that were appended. A store whose write can carry
the append in the same statement (one round trip) calls `write_with_events`."""

from __future__ import annotations

from datetime import datetime

import msgspec

from app.config import Settings
from app.events import Event, event_type
from app.infra import outbox
from app.infra.auth import ANYONE, Principal
from app.infra.clock import Clock
from app.infra.db import Connection
from app.infra.outbox import Position, Write

_encoder = msgspec.json.Encoder()
_DEFAULTS = Settings()  # a process manager's unit: no setting of the operator's is read there


class CatchUp(Exception):
    """A handler found its module does not know an id yet (it learns it from events): the
    pipeline rolls back, waits for `subscription` to apply everything committed so far,
    and runs the handler once more."""

    def __init__(self, subscription: str) -> None:
        super().__init__(subscription)
        self.subscription = subscription


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
        # What was appended: the last position (the command's answer) and the types
        # (which subscribers the commit must wake).
        self.position: Position | None = None
        self.appended_types: set[str] = set()

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, *events: Event) -> None:
        self._pending.extend(events)

    @property
    def has_unwritten_events(self) -> bool:
        return bool(self._pending)

    def catch_up(self, subscription: str) -> None:
        """Raises CatchUp, unless the pipeline has already waited for `subscription`."""
        if subscription not in self._caught_up:
            raise CatchUp(subscription)

    async def write_with_events(self, write: Write) -> None:
        """Run `write` and append the events emitted so far, in one statement."""
        await self._append(write)

    async def flush(self) -> None:
        """Append the events emitted since the last append (called by the runner)."""
        if self._pending:
            await self._append(None)

    async def _append(self, write: Write | None) -> None:
        events, self._pending = self._pending, []
        self.position = await outbox.append(self.conn, events, along_with=write, metadata=self._metadata)
        self.appended_types.update(event_type(type(e)) for e in events)
