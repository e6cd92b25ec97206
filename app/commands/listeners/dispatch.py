"""Dispatching each listener's queue to its target: in commit order, one event at a time per
listener, at least once (an attempt whose outcome was not recorded is made again, with the
same `webhook-id`). One process dispatches at a time (an advisory lock on a dedicated
connection, which also LISTENs for new matches); the others stand by and take over.
A failed attempt is retried on the schedule; after its last step the event is a dead
letter and the next one goes. `410 Gone` disables the listener. The sending itself is
sender.py's; the SQL, store.py's."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
import anyio.abc
import asyncpg
import msgspec

from app.commands.listeners import domain, store
from app.commands.listeners.sender import Attempt, Sender, document
from app.config import Settings
from app.infra.bus import Wakeup
from app.infra.db import Connection, Pool
from app.infra.leadership import while_holding
from app.infra.metrics import FRESHNESS_BUCKETS, Histogram

log = logging.getLogger(__name__)

LOCK = (7_340_003, 0)  # pg_advisory_lock(int, int): the one dispatching process
CHANNEL = "listener_queue"
STOP = "stop:"  # a NOTIFY payload: this listener was paused, changed or deleted
MAX_IN_FLIGHT = 200  # listeners sending at once
READ_AHEAD = 50  # a listener's events read at once (each still sent, and recorded, alone)


class Outcomes:
    """Records attempts' outcomes: those that arrive while a write is under way are written
    together next (one pipelined round trip for many listeners). Each caller returns once
    its own outcome is in the database, so a listener's next event is never sent before its
    last one's outcome is recorded."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._waiting: list[tuple[str, tuple[Any, ...], anyio.Event]] = []
        self._writing = False
        self._failed: dict[anyio.Event, BaseException] = {}

    async def record(self, sql: str, args: tuple[Any, ...]) -> None:
        done = anyio.Event()
        self._waiting.append((sql, args, done))
        if not self._writing:
            self._writing = True
            try:
                while self._waiting:
                    batch, self._waiting = self._waiting, []
                    await self._write(batch)
            finally:
                self._writing = False
        await done.wait()
        if (error := self._failed.pop(done, None)) is not None:
            raise error

    async def _write(self, batch: list[tuple[str, tuple[Any, ...], anyio.Event]]) -> None:
        groups: dict[str, list[tuple[Any, ...]]] = {}
        for sql, args, _ in batch:
            groups.setdefault(sql, []).append(args)
        try:
            async with self.pool.acquire() as conn:
                for sql, rows in groups.items():
                    await conn.executemany(sql, rows)
        except Exception as exc:
            for _, _, done in batch:
                self._failed[done] = exc
        finally:
            for _, _, done in batch:
                done.set()


class Dispatcher:
    def __init__(self, pool: Pool, database_url: str, settings: Settings) -> None:
        self.pool = pool
        self.database_url = database_url
        self.settings = settings
        self.schedule = settings.listener_retry_schedule
        self.standby_retry_s = settings.standby_retry_s
        self.wakeup = Wakeup()
        self.in_flight: set[UUID] = set()
        # Listeners paused, changed or deleted since their events were read: read them anew.
        self.stopped: set[UUID] = set()
        self.outcomes = Outcomes(pool)
        # From an event's commit to its acknowledgement, for the events sent from here.
        self.latency = Histogram.empty(FRESHNESS_BUCKETS)
        self.dispatching = False

    async def run(self) -> None:
        """Until cancelled: dispatch while this process holds the lock, else stand by."""
        await while_holding(self.database_url, LOCK, self._dispatch, retry_s=self.standby_retry_s, name="listener dispatch")

    async def _dispatch(self, lock_conn: Connection) -> None:
        await lock_conn.add_listener(CHANNEL, self._notified)
        self.dispatching = True
        try:
            await self._dispatch_all(lock_conn)
        finally:
            self.dispatching = False
            self.in_flight.clear()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if str(payload).startswith(STOP):
            self.stopped.add(UUID(str(payload)[len(STOP) :]))
        self.wakeup.set()

    async def _dispatch_all(self, lock_conn: Connection) -> None:
        allowed = domain.Allowed.of(self.settings.listener_allowed_hosts)
        async with (
            Sender(allowed, self.settings.listener_timeout_s, self.settings.nats_url) as sender,
            anyio.create_task_group() as tg,
        ):
            checked_at = time.monotonic()
            while True:
                # Matching the past goes first, a window at a time, between the sends.
                rematched = await store.rematch_window(self.pool)
                wait = await self._start_due(sender, tg)
                await self.wakeup.wait(timeout=0 if rematched else wait)
                if time.monotonic() - checked_at > 5:  # the lock lives with this connection
                    await lock_conn.execute("SELECT 1")
                    checked_at = time.monotonic()

    async def _start_due(self, sender: Sender, tg: anyio.abc.TaskGroup) -> float:
        """Starts sending for each listener whose next event is due; how long to sleep."""
        now = datetime.now(UTC)
        wait = 1.0
        for row in await store.due(self.pool, list(self.in_flight)):
            if len(self.in_flight) >= MAX_IN_FLIGHT:
                break
            due_in = (row["next_attempt_at"] - now).total_seconds()
            if due_in <= 0:
                self.in_flight.add(row["id"])
                tg.start_soon(self._dispatch_listener, sender, row["id"])
            else:
                wait = min(wait, due_in)
        return wait

    async def _dispatch_listener(self, sender: Sender, listener_id: UUID) -> None:
        """One listener's due events, one at a time, in order, until none is due, one fails,
        or the listener is paused, changed or deleted (then what is left is read anew)."""
        self.stopped.discard(listener_id)
        try:
            while True:
                heads = await store.heads(self.pool, listener_id, READ_AHEAD)
                for head in heads:
                    if head["next_attempt_at"] > datetime.now(UTC) or listener_id in self.stopped:
                        return
                    attempt = await sender.send(msgspec.json.decode(head["target"]), head, document(head))
                    await self._record(head, attempt)
                    if not attempt.ok:
                        return  # the next event waits behind this one
                if len(heads) < READ_AHEAD:
                    return
        except Exception as exc:
            log.error("listener %s: cannot dispatch: %s", listener_id, exc)
            await anyio.sleep(self.standby_retry_s)  # not at once again: the cause may still be there
        finally:
            self.in_flight.discard(listener_id)
            self.wakeup.set()

    async def _record(self, head: asyncpg.Record, attempt: Attempt) -> None:
        listener_id, event_id = head["listener_id"], head["event_id"]
        number = head["attempts"] + 1
        now = datetime.now(UTC)
        logged = (event_id, head["type"], number, attempt.response_status, attempt.error, attempt.duration_ms, now)
        if attempt.ok:
            await self.outcomes.record(store.DELIVERED, (listener_id, head["xid"], head["id"], *logged))
            self.latency.observe((now - head["recorded_at"]).total_seconds())
            return
        gone = attempt.response_status == 410
        delay = domain.retry_delay(self.schedule, number)
        status = "pending" if delay is not None else "dead"
        next_at = now + (delay or timedelta(0))
        await self.outcomes.record(store.FAILED, (listener_id, head["xid"], head["id"], *logged, status, next_at, gone))
        if gone:
            log.warning("listener %s disabled: its target answered 410 Gone", listener_id)
        elif delay is None:
            log.warning("listener %s: event %s is a dead letter after %d attempts", listener_id, event_id, number)
        else:
            log.info("listener %s: attempt %d of %s failed: %s", listener_id, number, event_id, attempt.error)
