"""What a subscription is: a name, what it does with a batch, the schema it writes, the
event types it acts on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field

from app.events import Event, event_type
from app.infra.clock import SystemClock
from app.infra.db import Connection
from app.infra.outbox import Envelope, Undecodable, Write
from app.infra.unit_of_work import UnitOfWork

_clock = SystemClock()  # process managers take their times from the events they react to

# A view's projection: writes its own tables from a batch, on the batch's transaction.
Project = Callable[[Connection, Sequence[Envelope]], Awaitable[None]]
# A process manager: writes its module's tables and emits events of its own (the runner
# appends them in the batch's transaction and wakes the bus after the commit).
React = Callable[[UnitOfWork, Sequence[Envelope]], Awaitable[None]]
# A live batch as one statement over the view's tables, or None (a rebuild never asks).
OneStatement = Callable[[Sequence[Envelope]], Write | None]


@dataclass(frozen=True)
class Subscription:
    """A named subscriber: a view (`project`) or a process manager (`react`). `schema` is
    the search_path its SQL runs under; a view lists the `tables` it owns there so that
    it can be rebuilt into a shadow schema."""

    name: str
    project: Project | None = None
    _: KW_ONLY
    schema: str
    react: React | None = None
    tables: tuple[str, ...] = ()
    batch_size: int = 500
    # The event types it acts on (empty: all). A batch with none of them runs
    # no transaction: the checkpoint moves past it in memory and is written later.
    event_types: tuple[type[Event], ...] = ()
    # A view may also write a live batch of some shapes (its commonest) as one statement
    # (its tables named as everywhere: the pool's sessions resolve them in `query`): the
    # runner moves the checkpoint in that same statement, one round trip instead of four
    # (BEGIN, compare-and-set, the batch, COMMIT). None for any other batch, which
    # `project` applies as usual (and a rebuild always uses `project`, so "the view equals a
    # rebuild" holds the two equal).
    one_statement: OneStatement | None = None
    # False: the subscriber works on the batch's positions alone (in SQL over the outbox), so
    # no event is decoded for it.
    reads_payloads: bool = True
    event_type_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_type_names", frozenset(event_type(t) for t in self.event_types))
        if (self.project is None) == (self.react is None):
            raise ValueError(f"{self.name}: give a view's project or a process manager's react, one of them")
        if self.one_statement is not None and self.emits_events:
            raise ValueError(f"{self.name}: a process manager's batch appends events; it is never one statement")

    def projection(self) -> Project:
        """A view's `project` (views alone are rebuilt)."""
        if self.project is None:
            raise ValueError(f"{self.name} is a process manager, not a view")
        return self.project

    @property
    def emits_events(self) -> bool:
        """A process manager appends events of its own: their commit must wake the bus."""
        return self.react is not None

    async def apply(self, conn: Connection, batch: Sequence[Envelope]) -> set[str]:
        """Applies `batch` in `conn`'s transaction; returns the types of the events a process
        manager appended (the bus must hear of them once the transaction commits)."""
        if self.react is None:
            await self.projection()(conn, batch)
            return set()
        uow = UnitOfWork(conn, _clock)
        await self.react(uow, batch)
        await uow.flush()
        return uow.appended_types

    def acts_on(self, batch: Sequence[Envelope]) -> bool:
        return (
            not self.event_types or any(isinstance(e.event, self.event_types) for e in batch) or bool(self.undecodable_in(batch))
        )

    def undecodable_in(self, batch: Sequence[Envelope]) -> list[Envelope]:
        """The events of `batch` that this subscriber acts on but this code cannot decode."""
        return [
            e
            for e in batch
            if isinstance(e.event, Undecodable) and (not self.event_types or e.event.stored_type in self.event_type_names)
        ]


class UndecodableEvent(Exception):
    """An event a subscriber acts on cannot be decoded: it stops there until it can."""

    def __init__(self, envelope: Envelope) -> None:
        assert isinstance(envelope.event, Undecodable)
        super().__init__(
            f"cannot decode event {envelope.event_id} ({envelope.event.stored_type}) at "
            f"{envelope.position.token()}: {envelope.event.error}"
        )
