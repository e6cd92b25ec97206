"""Hot standbys for the views' reads (QUERY_DATABASE_URLS), and which one to read.

Every SAMPLE_S the primary's WAL position (`pg_current_wal_lsn()`) is sampled, and each
standby's replay position (`pg_last_wal_replay_lsn()`). A standby's lag is how long ago
the primary first wrote past what the standby has replayed: 0 when it has replayed all
the primary had written at the last sample. So an idle primary does not make a standby
look behind (as `now() - pg_last_xact_replay_timestamp()` would), and a paused replay
makes it look more behind with every second the primary keeps writing.

A read goes to the least-lagging standby that answers and lags at most QUERY_MAX_LAG_MS;
with none, to the primary. A standby that fails a read (down, or a replay conflict that
cancelled the statement) is marked down at once and the read runs again on the primary;
the next sample brings it back when it answers."""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio
import asyncpg

from app.infra.db import Pool, create_pool

log = logging.getLogger(__name__)

SAMPLE_S = 0.25
CONNECT_TIMEOUT_S = 2.0
PRIMARY_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
STANDBY_LSN = "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"

# What a read on a standby can fail with that the primary would answer: the standby is
# gone, or cancelled the statement for a WAL record it had to replay (a replay conflict,
# SQLSTATE 40001), or is shutting down.
STANDBY_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.TransactionRollbackError,  # 40001 and 40P01: "canceling statement due to conflict with recovery"
    asyncpg.OperatorInterventionError,  # shutting down, starting up
)


def standby_name(url: str) -> str:
    """How a standby is shown (/health/ready, /metrics, logs): host, port and database, and
    nothing of the credentials, wherever the URL carries them (user info or parameters)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port or 5432}{parts.path or '/'}"


@dataclass
class Standby:
    url: str
    name: str
    pool: Pool | None = None
    up: bool = False
    lag_s: float | None = None
    error: str | None = None
    reads: int = 0
    fallbacks: int = 0

    def state(self, max_lag_s: float) -> str:
        if not self.up:
            return "down"
        return "lagging" if self.lag_s is None or self.lag_s > max_lag_s else "up"


@dataclass
class Standbys:
    urls: tuple[str, ...]
    max_lag_ms: int
    pool_size: int = 4
    statement_timeout_ms: int = 0
    standbys: list[Standby] = field(init=False)
    primary_reads: int = 0
    # (monotonic time, primary WAL position) of the recent samples, oldest first
    _samples: collections.deque[tuple[float, int]] = field(init=False, default_factory=collections.deque)

    def __post_init__(self) -> None:
        self.standbys = [Standby(url, standby_name(url)) for url in self.urls]

    @property
    def max_lag_s(self) -> float:
        return self.max_lag_ms / 1000

    def choose(self) -> tuple[Standby, Pool] | None:
        """The least-lagging usable standby and its pool, or None: read the primary."""
        usable = [s for s in self.standbys if s.state(self.max_lag_s) == "up" and s.pool is not None]
        best = min(usable, key=lambda s: s.lag_s or 0.0, default=None)
        return None if best is None or best.pool is None else (best, best.pool)

    def lost(self, standby: Standby, exc: BaseException) -> None:
        """A read on `standby` failed: no read goes there until a sample finds it well."""
        if standby.up:
            log.warning("standby %s failed a read, reading the primary: %s", standby.name, exc)
        standby.up = False
        standby.error = f"{type(exc).__name__}: {exc}"
        standby.fallbacks += 1

    async def run(self, primary: Pool) -> None:
        try:
            while True:
                await self.sample(primary)
                await anyio.sleep(SAMPLE_S)
        finally:
            for standby in self.standbys:
                if standby.pool is not None:
                    await standby.pool.close()

    async def sample(self, primary: Pool) -> None:
        now = time.monotonic()
        try:
            self._samples.append((now, int(await primary.fetchval(PRIMARY_LSN))))
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot sample the primary's WAL position: %s", exc)
        # keep enough history to tell a lag of up to twice the limit
        while len(self._samples) > 2 and self._samples[1][0] < now - 2 * self.max_lag_s - SAMPLE_S:
            self._samples.popleft()
        async with anyio.create_task_group() as tg:
            for standby in self.standbys:
                tg.start_soon(self._sample_standby, standby)

    async def _sample_standby(self, standby: Standby) -> None:
        was_up = standby.up
        try:
            with anyio.fail_after(CONNECT_TIMEOUT_S):
                if standby.pool is None:
                    standby.pool = await create_pool(
                        standby.url,
                        min_size=1,
                        max_size=self.pool_size,
                        statement_timeout_ms=self.statement_timeout_ms,
                        connect_timeout_s=CONNECT_TIMEOUT_S,
                    )
                row = await standby.pool.fetchrow(STANDBY_LSN)
            assert row is not None
            in_recovery, replayed = row
            if not in_recovery:
                # A promoted standby takes writes of its own: its views are no longer the
                # primary's. Not read until an operator sees to it.
                raise RuntimeError("not in recovery (promoted?): not a standby of this primary")
            standby.lag_s = self._lag(int(replayed))
            standby.up, standby.error = True, None
        except Exception as exc:  # any failure: this standby is not read
            standby.up, standby.lag_s, standby.error = False, None, f"{type(exc).__name__}: {exc}"
        if was_up != standby.up:
            log.warning(
                "standby %s is %s%s",
                standby.name,
                "up" if standby.up else "down",
                f" ({standby.error})" if standby.error else "",
            )

    def _lag(self, replayed: int) -> float:
        """Seconds since the primary first wrote past `replayed` (0: caught up)."""
        now = time.monotonic()
        for at, written in self._samples:
            if written > replayed:
                return now - at
        return 0.0
