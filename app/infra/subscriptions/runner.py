"""One subscription's loop while this process owns it: read the next committed events,
apply them with the checkpoint in one transaction, retry a failing event with backoff
and mark the subscription stalled after a few tries, never skip an event.

A batch that fails is split so the events before the bad one still land."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio

from app.infra.bus import Wakeup
from app.infra.consistency import ViewPositions
from app.infra.db import Connection, Pool
from app.infra.metrics import FRESHNESS_BUCKETS, Histogram
from app.infra.outbox import ORIGIN, Envelope, Position, Undecodable, read_again
from app.infra.subscriptions.checkpoint import (
    ADVANCE,
    MARK_STALLED,
    CheckpointMoved,
    apply_as_one_statement,
    apply_batch,
    commit_waits,
    ensure_checkpoint,
)
from app.infra.subscriptions.reads import SharedReads
from app.infra.subscriptions.spec import Subscription, UndecodableEvent

log = logging.getLogger(__name__)


class State(enum.Enum):
    STANDBY = "standby"  # this process does not run it (another may)
    STOPPED = "stopped"  # no process runs it
    RUNNING = "running"
    STALLED = "stalled"


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
    # Whether a hot standby streams from the database now (see checkpoint.ADVANCE)
    streamed: Callable[[], bool] = lambda: False
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
            types = (sub.event_type_names or None) if sub.reads_payloads else frozenset()
            batch, more = await self.reads.next(self.stats.position, sub.batch_size, types)
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
            ADVANCE,
            sub.name,
            self.persisted.xid,
            self.persisted.id,
            target.xid,
            target.id,
            sub.schema,
            commit_waits(False, self.streamed()),
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
                await self._apply([envelope], one_statement=False)
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

    async def _apply(self, batch: Sequence[Envelope], one_statement: bool = True) -> None:
        """`one_statement=False` (an event retried alone) takes the subscriber's own path, in a
        transaction, where a subscription can contain a failure (the listeners' fan-out does)."""
        sub = self.subscription
        batch = await self._decoded(batch)
        write = sub.one_statement(batch) if sub.one_statement is not None and one_statement else None
        appended: set[str] = set()
        if write is not None:
            applied = await apply_as_one_statement(
                self.pool, sub.name, sub.schema, self.persisted, batch[-1].position, write, streamed=self.streamed()
            )
        else:

            async def apply(conn: Connection, events: Sequence[Envelope]) -> None:
                appended.update(await sub.apply(conn, events))

            durable = sub.emits_events  # see ADVANCE: a view's commit need not wait for the WAL
            applied = await apply_batch(
                self.pool, sub.name, sub.schema, apply, self.persisted, batch, durable=durable, streamed=self.streamed()
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
