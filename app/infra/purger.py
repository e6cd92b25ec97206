"""Removing what the service no longer needs (expired idempotency keys, old listener delivery
attempts), gently: one process at a time (an advisory lock), in small batches with a pause
between them, each batch one statement that skips rows someone holds (FOR UPDATE SKIP LOCKED),
so no command ever waits on it. What each purge removed, in total and in its last run, and
when it last ran, is kept in `command.purges` for /metrics and `app projections status`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio

from app.config import Settings
from app.infra.db import Connection, Pool
from app.infra.leadership import while_holding

log = logging.getLogger(__name__)

LOCK = (7_340_004, 0)  # pg_advisory_lock(int, int): the one purging process
BATCH = 1000
PAUSE_S = 0.05  # between batches: others' statements go first

RECORD = """
INSERT INTO command.purges AS p (name, removed, last_removed, last_run_at) VALUES ($1, $2, $2, now())
ON CONFLICT (name) DO UPDATE SET removed = p.removed + $2, last_removed = $2, last_run_at = now()
"""
PURGES = "SELECT name, removed, last_removed, last_run_at FROM command.purges ORDER BY name"


@dataclass(frozen=True)
class Purge:
    """`sql` deletes at most $1 rows (a batch) and takes `args(settings)` after it."""

    name: str
    sql: str
    args: Callable[[Settings], tuple[object, ...]] = lambda _: ()


IDEMPOTENCY_KEYS = Purge(
    "idempotency_keys",
    """
    DELETE FROM command.idempotency_keys k USING (
        SELECT caller, key FROM command.idempotency_keys
        WHERE created_at < now() - make_interval(secs => $2) LIMIT $1 FOR UPDATE SKIP LOCKED) AS old
    WHERE (k.caller, k.key) = (old.caller, old.key)
    """,
    lambda settings: (settings.idempotency_key_ttl_s,),
)


class Purger:
    def __init__(self, pool: Pool, database_url: str, purges: Sequence[Purge], settings: Settings) -> None:
        self.pool = pool
        self.database_url = database_url
        self.purges = purges
        self.settings = settings

    async def run(self) -> None:
        """Until cancelled: purge every PURGE_EVERY_S while this process holds the lock."""
        await while_holding(self.database_url, LOCK, self._purge, retry_s=self.settings.standby_retry_s, name="purger")

    async def _purge(self, lock_conn: Connection) -> None:
        while True:
            await self.purge_all()
            await anyio.sleep(self.settings.purge_every_s)
            await lock_conn.execute("SELECT 1")  # the lock lives with this connection

    async def purge_all(self) -> dict[str, int]:
        """One run of every purge, batch after batch until a batch finds fewer than BATCH."""
        removed: dict[str, int] = {}
        for purge in self.purges:
            total = 0
            while True:
                status = await self.pool.execute(purge.sql, BATCH, *purge.args(self.settings))
                count = int(status.rsplit(" ", 1)[-1])
                total += count
                if count < BATCH:
                    break
                await anyio.sleep(PAUSE_S)
            await self.pool.execute(RECORD, purge.name, total)
            removed[purge.name] = total
            if total:
                log.info("purged %d rows (%s)", total, purge.name, extra={"purge": purge.name, "removed": total})
        return removed
