"""Which process runs which subscription: one at a time, the one holding its PostgreSQL
advisory lock on a dedicated connection. The others stand by and try again every few
seconds, so a dead owner (whose connection, and lock, die with it) is replaced quickly."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
import anyio.abc

from app.infra.bus import EventBus
from app.infra.consistency import ViewPositions
from app.infra.db import Connection, Pool, connect
from app.infra.subscriptions.reads import SharedReads
from app.infra.subscriptions.runner import Runner, RunnerStats
from app.infra.subscriptions.spec import Subscription

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 7_340_001  # first key of pg_advisory_lock(int, int) for subscriptions


# pg_stat_replication's rows are visible to every role (their details are not).
STREAMING = "SELECT EXISTS (SELECT 1 FROM pg_stat_replication WHERE state = 'streaming')"


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
        self.streamed = False  # a hot standby streams from the database (refreshed while we own)
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
                        self.bus.subscribe(sub.name, sub.event_type_names or None),
                        self.positions,
                        self.reads,
                        on_commit=self.bus.committed if sub.emits_events else None,
                        streamed=lambda: self.streamed,
                    )
                    self.runners[sub.name] = runner
                    tg.start_soon(self._supervise, runner)
            # Also proves the lock connection is alive: if it died, so did our locks.
            self.streamed = bool(await lock_conn.fetchval(STREAMING))
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
