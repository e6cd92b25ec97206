"""One process at a time: work that must run in a single process of all the replicas (the
listeners' dispatch, the purger) runs while this process holds a PostgreSQL advisory lock on
a dedicated connection; the others stand by and take over when it dies (its connection
goes, and the lock with it)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from app.infra.db import Connection, connect

log = logging.getLogger(__name__)


async def while_holding(
    database_url: str, lock: tuple[int, int], work: Callable[[Connection], Awaitable[None]], *, retry_s: float, name: str
) -> None:
    """Until cancelled: `work(conn)` while this process holds `lock` on `conn` (work that
    runs long should use `conn` now and then: the lock lives with it); else stand by,
    trying again every `retry_s`."""
    while True:
        try:
            conn = await connect(database_url)
        except Exception as exc:
            log.warning("%s: cannot connect: %s", name, exc)
            await anyio.sleep(retry_s)
            continue
        try:
            if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *lock):
                await work(conn)
        except Exception as exc:
            log.error("%s stopped (%s); standing by", name, exc)
        finally:
            conn.terminate()
        await anyio.sleep(retry_s)
