"""Subscription runner: ordered, exactly-once delivery of committed events to one subscriber.

* The checkpoint is written in the same transaction as the subscriber's effects, as a
  compare-and-set on the previous value: two runners that overlap (a rolling deploy,
  a rebuild beside the live run) cannot both apply a batch; the loser hears about it.
* A batch that fails is split so the events before the bad one still land; the bad
  one is retried with backoff and, after `STALL_AFTER` attempts, the subscription is
  marked stalled (in the database, the logs, /health/ready and /metrics) while it keeps
  retrying slowly. An event is never skipped.
* One process at a time runs a subscription: it holds a PostgreSQL advisory lock on a
  dedicated connection. The others stand by and try again every few seconds, so a dead
  owner (whose connection, and lock, die with it) is replaced quickly.
"""

from __future__ import annotations

import bisect
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio
import anyio.abc
import asyncpg

from app.events import Event, event_type
from app.infra.bus import EventBus, Wakeup, collecting_types
from app.infra.consistency import ViewPositions
from app.infra.db import Connection, Pool, connect
from app.infra.metrics import FRESHNESS_BUCKETS, Histogram
from app.infra.outbox import (
    ORIGIN,
    Envelope,
    Position,
    Undecodable,
    Write,
    decode,
    not_read,
    read_again,
    read_next_rows,
    renumbered,
    row_position,
)

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Sequence[Envelope]], Awaitable[None]]
# (schema, batch) -> the batch as one statement over that schema's tables, or None.
OneStatement = Callable[[str, Sequence[Envelope]], Write | None]

LOCK_NAMESPACE = 7_340_001  # first key of pg_advisory_lock(int, int) for subscriptions


@dataclass(frozen=True)
class Subscription:
    """A named subscriber. `schema` is the search_path its SQL runs under; a view lists
    the `tables` it owns there so that it can be rebuilt into a shadow schema."""

    name: str
    handle: Handler
    schema: str
    tables: tuple[str, ...] = ()
    batch_size: int = 500
    # A process manager appends events of its own: their commit must wake the bus.
    emits_events: bool = False
    # The event types the handler acts on (empty: all). A batch with none of them runs
    # no transaction: the checkpoint moves past it in memory and is written later.
    handles: tuple[type[Event], ...] = ()
    # A view may also write a batch of some shapes (its commonest) as one statement, its
    # tables named in the schema it is given: the live runner then moves the checkpoint
    # in that same statement, one round trip instead of four (BEGIN, compare-and-set, the
    # batch, COMMIT). None for any other batch, which `handle` applies as usual (and a
    # rebuild always uses `handle`, so "the view equals a rebuild" holds the two equal).
    one_statement: OneStatement | None = None
    handled_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "handled_types", frozenset(event_type(t) for t in self.handles))
        if self.one_statement is not None and self.emits_events:
            raise ValueError(f"{self.name}: a process manager's batch appends events; it is never one statement")

    def acts_on(self, batch: Sequence[Envelope]) -> bool:
        return not self.handles or any(isinstance(e.event, self.handles) for e in batch) or bool(self.undecodable_in(batch))

    def undecodable_in(self, batch: Sequence[Envelope]) -> list[Envelope]:
        """The events of `batch` that this subscriber acts on but this code cannot decode."""
        return [
            e
            for e in batch
            if isinstance(e.event, Undecodable) and (not self.handles or e.event.stored_type in self.handled_types)
        ]


class UndecodableEvent(Exception):
    """An event a subscriber acts on cannot be decoded: it stops there until it can."""

    def __init__(self, envelope: Envelope) -> None:
        assert isinstance(envelope.event, Undecodable)
        super().__init__(
            f"cannot decode event {envelope.event_id} ({envelope.event.stored_type}) at "
            f"{envelope.position.token()}: {envelope.event.error}"
        )


class State(enum.Enum):
    STANDBY = "standby"
    RUNNING = "running"
    STALLED = "stalled"


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
# others act on and answer for: theirs wait.
ADVANCE = """
UPDATE command.subscriptions
SET xid = $4, id = $5, updated_at = now(), stalled = false, last_error = NULL
WHERE name = $1 AND xid = $2 AND id = $3
RETURNING set_config('search_path', $6, true), set_config('synchronous_commit', $7, true)
"""
_COMMIT_WAITS = {True: "on", False: "off"}
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
    handle: Handler,
    after: Position,
    batch: Sequence[Envelope],
    *,
    durable: bool = True,
) -> Position:
    """In the caller's transaction: move the checkpoint from `after` (compare-and-set),
    then apply `batch`. The checkpoint row is locked first, always, so that a rebuild's
    swap (which locks it too) never deadlocks with a runner. `durable=False`: see ADVANCE."""
    last = batch[-1].position
    moved = await conn.fetchval(ADVANCE, name, after.xid, after.id, last.xid, last.id, schema, _COMMIT_WAITS[durable])
    if moved is None:
        raise CheckpointMoved(f"{name}: checkpoint is no longer {after.token()}")
    await handle(conn, batch)
    return last


async def apply_batch(
    pool: Pool,
    name: str,
    schema: str,
    handle: Handler,
    after: Position,
    batch: Sequence[Envelope],
    *,
    durable: bool = True,
) -> Position:
    """Apply `batch` and move the checkpoint to its last position, in one transaction.

    BEGIN and COMMIT are sent by hand: asyncpg's transaction() takes the ROLLBACK that
    PostgreSQL answers to COMMIT in an aborted transaction (a handler that caught a failed
    statement) for success, and the runner would believe a batch applied that was not."""
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        try:
            last = await apply_in_transaction(conn, name, schema, handle, after, batch, durable=durable)
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


async def apply_as_one_statement(pool: Pool, name: str, schema: str, after: Position, last: Position, write: Write) -> Position:
    """Apply a view's batch, written as one statement, and move its checkpoint from `after`
    to `last` in that statement: atomic without BEGIN and COMMIT of its own."""
    sql = _one_statements.get(write.sql)
    if sql is None:
        sql = _one_statements[write.sql] = ONE_STATEMENT.format(write=renumbered(write.sql, _ONE_STATEMENT_ARGS))
    try:
        await pool.execute(sql, name, after.xid, after.id, last.xid, last.id, schema, _COMMIT_WAITS[False], *write.args)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == _CHECKPOINT_MOVED:
            raise CheckpointMoved(f"{name}: checkpoint is no longer {after.token()}") from None
        raise
    return last


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


@dataclass
class RunnerStats:
    state: State = State.STANDBY
    position: Position = ORIGIN
    events_applied: int = 0
    failures: int = 0
    checkpoint_conflicts: int = 0
    last_error: str | None = None
    freshness: Histogram = field(default_factory=lambda: Histogram.empty(FRESHNESS_BUCKETS))


@dataclass
class Runner:
    """Runs one subscription while this process owns it."""

    subscription: Subscription
    pool: Pool
    wakeup: Wakeup
    positions: ViewPositions
    reads: SharedReads
    stats: RunnerStats = field(default_factory=RunnerStats)
    on_commit: Callable[[set[str]], None] | None = None
    idle_poll_s: float = 1.0
    retry_base_s: float = 0.05
    retry_max_s: float = 5.0
    stall_after: int = 5
    # The checkpoint as written in the database; `stats.position` runs ahead of it over
    # batches with no event the subscriber acts on, which cost no transaction.
    persisted: Position = ORIGIN

    async def run(self) -> None:
        sub = self.subscription
        self.stats.position = self.persisted = await ensure_checkpoint(self.pool, sub.name)
        self.stats.state = State.RUNNING
        log.info("subscription %s running from %s", sub.name, self.stats.position.token())
        held_back_delay = 0.0
        while True:
            batch, more = await self.reads.next(self.stats.position, sub.batch_size, sub.handled_types or None)
            if batch:
                if sub.acts_on(batch):
                    await self._apply_with_retries(batch)
                else:
                    self._pass_over(batch)
                held_back_delay = 0.0
            if not more and self.stats.position != self.persisted:
                await self._flush()  # caught up: write where we are, for readers waiting on it
            if more and not batch:
                # Committed events exist but an older open transaction holds them back:
                # poll again shortly (it may write no event, so nobody would wake us).
                # (After a batch with `more`, the loop reads again at once.)
                held_back_delay = min(max(held_back_delay * 2, 0.0005), 0.004)
                await self.wakeup.wait(timeout=held_back_delay)
            elif not more:
                await self.wakeup.wait(timeout=self.idle_poll_s)

    def _pass_over(self, batch: Sequence[Envelope]) -> None:
        self.stats.position = batch[-1].position
        self.stats.events_applied += len(batch)

    async def _flush(self) -> None:
        sub, target = self.subscription, self.stats.position
        moved = await self.pool.fetchval(
            ADVANCE, sub.name, self.persisted.xid, self.persisted.id, target.xid, target.id, sub.schema, _COMMIT_WAITS[False]
        )
        if moved is None:
            await self._reload(CheckpointMoved(f"{sub.name}: checkpoint is no longer {self.persisted.token()}"))
            return
        self.persisted = target
        self.positions.advanced(sub.name)

    async def _apply_with_retries(self, batch: Sequence[Envelope]) -> None:
        try:
            await self._apply(batch)
            return
        except CheckpointMoved as exc:
            await self._reload(exc)
            return
        except Exception:
            if len(batch) > 1:
                log.warning("subscription %s: batch failed, applying one by one", self.subscription.name)
        for envelope in batch:
            if envelope.position <= self.stats.position:
                continue
            if not await self._apply_one_until_done(envelope):
                return

    async def _apply_one_until_done(self, envelope: Envelope) -> bool:
        """Retries one event forever (stalled after a few tries); False if the checkpoint moved."""
        sub = self.subscription
        attempt = 0
        while True:
            try:
                await self._apply([envelope])
                if self.stats.state is State.STALLED:
                    log.info("subscription %s recovered at %s", sub.name, envelope.position.token())
                self.stats.state = State.RUNNING
                self.stats.last_error = None
                return True
            except CheckpointMoved as exc:
                await self._reload(exc)
                return False
            except Exception as exc:
                attempt += 1
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "subscription %s failed on event %s (%s) attempt %d: %s",
                    sub.name,
                    envelope.event_id,
                    envelope.position.token(),
                    attempt,
                    self.stats.last_error,
                )
                if attempt >= self.stall_after and self.stats.state is not State.STALLED:
                    self.stats.state = State.STALLED
                    log.error("subscription %s STALLED at event %s", sub.name, envelope.event_id)
                    await self._mark_stalled()
                await anyio.sleep(min(self.retry_base_s * 2 ** (attempt - 1), self.retry_max_s))

    async def _decoded(self, batch: Sequence[Envelope]) -> Sequence[Envelope]:
        """`batch`, its undecodable events read and decoded again (an operator may have
        fixed the row); raises UndecodableEvent for the first that still is not."""
        undecodable = self.subscription.undecodable_in(batch)
        if not undecodable:
            return batch
        again = {e.position: await read_again(self.pool, e.position) for e in undecodable}
        for envelope in again.values():
            if isinstance(envelope.event, Undecodable):
                raise UndecodableEvent(envelope)
        return [again.get(e.position, e) for e in batch]

    async def _apply(self, batch: Sequence[Envelope]) -> None:
        sub = self.subscription
        batch = await self._decoded(batch)
        write = sub.one_statement(sub.schema, batch) if sub.one_statement is not None else None
        with collecting_types() as appended:
            if write is not None:
                applied = await apply_as_one_statement(self.pool, sub.name, sub.schema, self.persisted, batch[-1].position, write)
            else:
                applied = await apply_batch(
                    self.pool, sub.name, sub.schema, sub.handle, self.persisted, batch, durable=sub.emits_events
                )
            self.stats.position = self.persisted = applied
        self.stats.events_applied += len(batch)
        self.positions.advanced(sub.name)
        applied_at = datetime.now(UTC)
        for envelope in batch:
            self.stats.freshness.observe((applied_at - envelope.recorded_at).total_seconds())
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "subscription %s applied %d events up to %s",
                sub.name,
                len(batch),
                self.stats.position.token(),
                extra={"subscription": sub.name, "event_ids": ",".join(str(e.event_id) for e in batch)},
            )
        if self.on_commit is not None and appended:
            self.on_commit(appended)

    async def _reload(self, exc: CheckpointMoved) -> None:
        self.stats.checkpoint_conflicts += 1
        log.error("subscription %s: %s; reloading the checkpoint", self.subscription.name, exc)
        self.stats.position = self.persisted = await ensure_checkpoint(self.pool, self.subscription.name)

    async def _mark_stalled(self) -> None:
        try:
            await self.pool.execute(MARK_STALLED, self.subscription.name, self.stats.last_error)
        except Exception as exc:
            log.error("subscription %s: cannot record the stall: %s", self.subscription.name, exc)


class SubscriptionHost:
    """Owns, runs and supervises this process's share of the subscriptions."""

    def __init__(
        self,
        subscriptions: Sequence[Subscription],
        pool: Pool,
        database_url: str,
        bus: EventBus,
        positions: ViewPositions,
        standby_retry_s: float = 1.0,
    ) -> None:
        self.subscriptions = list(subscriptions)
        self.pool = pool
        self.database_url = database_url
        self.bus = bus
        self.positions = positions
        self.standby_retry_s = standby_retry_s
        self.runners: dict[str, Runner] = {}
        self.reads = SharedReads(pool, lambda: bus.generation)

    def states(self) -> dict[str, RunnerStats]:
        return {s.name: (self.runners[s.name].stats if s.name in self.runners else RunnerStats()) for s in self.subscriptions}

    async def run(self) -> None:
        """Until cancelled: hold locks, run owned subscriptions, stand by for the rest."""
        while True:
            try:
                lock_conn = await connect(self.database_url)
            except Exception as exc:
                log.warning("subscriptions: cannot connect for ownership: %s", exc)
                await anyio.sleep(self.standby_retry_s)
                continue
            try:
                async with anyio.create_task_group() as tg:
                    await self._own(lock_conn, tg)
            except Exception as exc:
                log.error("subscriptions: ownership connection lost (%s); standing by", exc)
            finally:
                self.runners.clear()
                lock_conn.terminate()
            await anyio.sleep(self.standby_retry_s)

    async def _own(self, lock_conn: Connection, tg: anyio.abc.TaskGroup) -> None:
        while True:
            for sub in self.subscriptions:
                if sub.name in self.runners:
                    continue
                got = await lock_conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE, sub.name)
                if got:
                    runner = Runner(
                        sub,
                        self.pool,
                        self.bus.subscribe(sub.name, sub.handled_types or None),
                        self.positions,
                        self.reads,
                        on_commit=self.bus.committed if sub.emits_events else None,
                    )
                    self.runners[sub.name] = runner
                    tg.start_soon(self._supervise, runner)
            # Also proves the lock connection is alive: if it died, so did our locks.
            await lock_conn.execute("SELECT 1")
            await anyio.sleep(self.standby_retry_s)

    async def _supervise(self, runner: Runner) -> None:
        """Restart a runner whose loop broke (database restart, network), keeping the lock."""
        while True:
            try:
                await runner.run()
            except Exception as exc:
                runner.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.error("subscription %s crashed: %s; restarting", runner.subscription.name, exc)
                await anyio.sleep(1.0)
