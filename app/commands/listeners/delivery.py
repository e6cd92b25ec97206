"""Delivering each listener's queue: in commit order, one event at a time per listener, at
least once (an attempt whose outcome was not recorded is made again, with the same
`webhook-id`). One process delivers at a time (an advisory lock on a dedicated
connection, which also LISTENs for new matches); the others stand by and take over.

A webhook is a POST of the document, signed per the Standard Webhooks specification, sent
only to an address the rules allow (the host resolved again at each attempt), never
following a redirect. A failed attempt is retried on the schedule; after its last step
the event is a dead letter and the next one goes. `410 Gone` disables the listener."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import anyio
import anyio.abc
import asyncpg
import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from yarl import URL

from app.commands.listeners import domain
from app.commands.listeners.handlers import checked_address
from app.config import Settings
from app.errors import Invalid
from app.infra.bus import Wakeup
from app.infra.db import Connection, Pool, connect
from app.infra.metrics import FRESHNESS_BUCKETS, Histogram
from app.infra.outbox import Position

log = logging.getLogger(__name__)

LOCK = (7_340_003, 0)  # pg_advisory_lock(int, int): the one delivering process
CHANNEL = "listener_queue"
STOP = "stop:"  # a NOTIFY payload: this listener was paused, changed or deleted
MAX_IN_FLIGHT = 200
AHEAD = 50  # a listener's events read at once (each still delivered, and recorded, alone)
EXCERPT = 200  # characters of a failed answer kept in the deliveries log

# Listeners with an event to deliver, and when their next one is due (an index probe each).
DUE = """
SELECT l.id, h.next_attempt_at
FROM command.listeners l
CROSS JOIN LATERAL (
    SELECT q.next_attempt_at FROM command.listener_queue q
    WHERE q.listener_id = l.id AND q.status = 'pending'
    ORDER BY q.redelivered DESC, q.xid, q.id LIMIT 1
) AS h
WHERE NOT l.paused AND NOT l.disabled AND NOT l.deleted AND l.id <> ALL ($1::uuid[])
"""
# A listener's next events: redelivered dead letters first, then commit order. The
# document's `data` is the payload, or the listener's fields evaluated by PostgreSQL.
HEADS = """
SELECT q.listener_id, q.xid, q.id, q.attempts, q.next_attempt_at, l.target, l.secret,
       o.event_id, o.type, o.recorded_at,
       CASE WHEN l.fields IS NULL THEN o.payload
            ELSE (SELECT coalesce(jsonb_object_agg(f.key, jsonb_path_query_first(o.payload, f.value::jsonpath, '{}', true)),
                                  '{}'::jsonb)
                  FROM jsonb_each_text(l.fields) AS f)
       END::text AS data
FROM command.listener_queue q
JOIN command.listeners l ON l.id = q.listener_id
JOIN command.outbox o ON o.xid = q.xid AND o.id = q.id
WHERE q.listener_id = $1 AND q.status = 'pending' AND NOT l.paused AND NOT l.disabled AND NOT l.deleted
ORDER BY q.redelivered DESC, q.xid, q.id LIMIT $2
"""
_LOG = """
INSERT INTO command.listener_deliveries (listener_id, event_id, type, xid, id, attempt, status, response_status,
    error, duration_ms, at)
SELECT $1, $4, $5, $2, $3, $6, {status}, $7, $8, $9, $10 FROM {source}
"""
# An attempt's outcome and its log row, one statement each (atomic without a transaction).
DELIVERED = f"""
WITH done AS (
    DELETE FROM command.listener_queue WHERE listener_id = $1 AND xid = $2 AND id = $3 RETURNING xid, id
), moved AS (
    UPDATE command.listeners l SET delivered = l.delivered + 1,
        last_xid = CASE WHEN l.last_xid IS NULL OR (d.xid, d.id) > (l.last_xid, l.last_id) THEN d.xid ELSE l.last_xid END,
        last_id = CASE WHEN l.last_xid IS NULL OR (d.xid, d.id) > (l.last_xid, l.last_id) THEN d.id ELSE l.last_id END
    FROM done d WHERE l.id = $1
)
{_LOG.format(status="'delivered'", source="done")}
"""
FAILED = f"""
WITH q AS (
    UPDATE command.listener_queue SET attempts = attempts + 1, last_failed = true, status = $11, next_attempt_at = $12
    WHERE listener_id = $1 AND xid = $2 AND id = $3 AND status = 'pending' RETURNING 1
), counted AS (
    UPDATE command.listeners SET failed_attempts = failed_attempts + 1, disabled = disabled OR $13
    WHERE id = $1 AND EXISTS (SELECT FROM q)
)
{_LOG.format(status="CASE WHEN $11 = 'dead' THEN 'dead' ELSE 'failed' END", source="q")}
"""


class Attempt(msgspec.Struct, frozen=True):
    ok: bool
    response_status: int | None
    error: str | None
    duration_ms: float


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key
    being the secret's bytes after "whsec_", base64-decoded."""
    key = base64.b64decode(secret.removeprefix(domain.SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def document(head: asyncpg.Record) -> bytes:
    position = Position(head["xid"], head["id"])
    return msgspec.json.encode(
        {
            "id": str(head["event_id"]),
            "type": head["type"],
            "position": position.token(),
            "occurred_at": head["recorded_at"],
            "listener_id": str(head["listener_id"]),
            "data": msgspec.Raw(head["data"].encode()),
        }
    )


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


class Deliveries:
    def __init__(self, pool: Pool, database_url: str, settings: Settings) -> None:
        self.pool = pool
        self.database_url = database_url
        self.allowed = domain.Allowed.of(settings.listener_allowed_hosts)
        self.timeout_s = settings.listener_timeout_s
        self.schedule = settings.listener_retry_schedule
        self.standby_retry_s = settings.standby_retry_s
        self.nats_url = settings.nats_url
        self._nats: NatsClient | None = None
        self.wakeup = Wakeup()
        self.in_flight: set[UUID] = set()
        # Listeners paused, changed or deleted since their events were read: read them anew.
        self.stopped: set[UUID] = set()
        self.outcomes = Outcomes(pool)
        # From an event's commit to its delivery's acknowledgement, deliveries made here.
        self.latency = Histogram.empty(FRESHNESS_BUCKETS)
        self.delivering = False

    async def run(self) -> None:
        """Until cancelled: deliver while this process holds the lock, else stand by."""
        while True:
            try:
                conn = await connect(self.database_url)
            except Exception as exc:
                log.warning("listener deliveries: cannot connect: %s", exc)
                await anyio.sleep(self.standby_retry_s)
                continue
            try:
                if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *LOCK):
                    await conn.add_listener(CHANNEL, self._notified)
                    self.delivering = True
                    await self._deliver_all(conn)
            except Exception as exc:
                log.error("listener deliveries stopped (%s); standing by", exc)
            finally:
                self.delivering = False
                self.in_flight.clear()
                conn.terminate()
                if self._nats is not None:
                    with anyio.CancelScope(shield=True):
                        await self._nats.close()
                    self._nats = None
            await anyio.sleep(self.standby_retry_s)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if str(payload).startswith(STOP):
            self.stopped.add(UUID(str(payload)[len(STOP) :]))
        self.wakeup.set()

    async def _deliver_all(self, lock_conn: Connection) -> None:
        connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, limit_per_host=MAX_IN_FLIGHT)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as client,
            anyio.create_task_group() as tg,
        ):
            checked_at = time.monotonic()
            while True:
                wait = await self._start_due(client, tg)
                await self.wakeup.wait(timeout=wait)
                if time.monotonic() - checked_at > 5:  # the lock lives with this connection
                    await lock_conn.execute("SELECT 1")
                    checked_at = time.monotonic()

    async def _start_due(self, client: aiohttp.ClientSession, tg: anyio.abc.TaskGroup) -> float:
        """Starts a delivery loop for each listener whose next event is due; how long to sleep."""
        now = datetime.now(UTC)
        wait = 1.0
        for row in await self.pool.fetch(DUE, list(self.in_flight)):
            if len(self.in_flight) >= MAX_IN_FLIGHT:
                break
            due_in = (row["next_attempt_at"] - now).total_seconds()
            if due_in <= 0:
                self.in_flight.add(row["id"])
                tg.start_soon(self._deliver_listener, client, row["id"])
            else:
                wait = min(wait, due_in)
        return wait

    async def _deliver_listener(self, client: aiohttp.ClientSession, listener_id: UUID) -> None:
        """One listener's due events, one at a time, in order, until none is due, it fails,
        or the listener is paused, changed or deleted (then what is left is read anew)."""
        self.stopped.discard(listener_id)
        try:
            while True:
                heads = await self.pool.fetch(HEADS, listener_id, AHEAD)
                for head in heads:
                    if head["next_attempt_at"] > datetime.now(UTC) or listener_id in self.stopped:
                        return
                    attempt = await self._attempt(client, msgspec.json.decode(head["target"]), head, document(head))
                    await self._record(head, attempt)
                    if not attempt.ok:
                        return  # the next event waits behind this one
                if len(heads) < AHEAD:
                    return
        except Exception as exc:
            log.error("listener %s: cannot deliver: %s", listener_id, exc)
            await anyio.sleep(self.standby_retry_s)  # not at once again: the cause may still be there
        finally:
            self.in_flight.discard(listener_id)
            self.wakeup.set()

    async def _attempt(self, client: aiohttp.ClientSession, target: dict[str, Any], head: asyncpg.Record, body: bytes) -> Attempt:
        """Any failure is a failed attempt, recorded and retried on the schedule: whatever a
        target's answer or a stored listener's settings raise (not only network errors)."""
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        try:
            return await self._send(client, target, head, body, took)
        except Exception as exc:
            log.warning("listener %s: attempt failed unexpectedly: %r", head["listener_id"], exc)
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:EXCERPT], took())

    async def _send(
        self, client: aiohttp.ClientSession, target: dict[str, Any], head: asyncpg.Record, body: bytes, took: Callable[[], float]
    ) -> Attempt:
        if target["kind"] == "nats":
            return await self._publish(target["subject"], head, body, took)
        try:
            pinned = await checked_address(target["url"], self.allowed)
        except Invalid as refused:
            return Attempt(False, None, refused.detail, took())
        message_id = str(head["event_id"])
        timestamp = int(time.time())
        headers = {
            **domain.own_headers(target.get("headers") or {}),
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(head["secret"], message_id, timestamp, body),
        }
        url = URL(target["url"])
        server_hostname = None
        if pinned is not None:
            # To the very address just checked (a DNS answer that changed since cannot
            # send us elsewhere), under the URL's own name: Host, and SNI for TLS.
            headers["host"] = url.raw_authority
            if url.scheme == "https":
                server_hostname = url.raw_host
            url = url.with_host(pinned)
        try:
            async with client.post(
                url, data=body, headers=headers, allow_redirects=False, server_hostname=server_hostname
            ) as response:
                status = response.status
                excerpt = "" if 200 <= status < 300 else (await response.content.read(EXCERPT)).decode(errors="replace")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:EXCERPT], took())
        if 200 <= status < 300:
            return Attempt(True, status, None, took())
        return Attempt(False, status, f"HTTP {status} {excerpt}".strip(), took())

    async def _publish(self, subject: str, head: asyncpg.Record, body: bytes, took: Callable[[], float]) -> Attempt:
        """To JetStream, with `Nats-Msg-Id` (the stream's duplicate window drops a redelivery);
        success is the stream's acknowledgement."""
        if not domain.NATS_SUBJECT.match(subject):  # stored before such subjects were refused
            return Attempt(False, None, f"subject {subject!r} is not one a listener may publish to", took())
        try:
            if self._nats is None or self._nats.is_closed:
                self._nats = await nats.connect(self.nats_url, connect_timeout=self.timeout_s, allow_reconnect=True)
            headers = {"Nats-Msg-Id": f"{head['listener_id']}:{head['event_id']}"}
            await self._nats.jetstream().publish(subject, body, headers=headers, timeout=self.timeout_s)
        except (NatsError, OSError, TimeoutError) as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:EXCERPT], took())
        return Attempt(True, None, None, took())

    async def _record(self, head: asyncpg.Record, attempt: Attempt) -> None:
        listener_id, event_id = head["listener_id"], head["event_id"]
        number = head["attempts"] + 1
        now = datetime.now(UTC)
        logged = (event_id, head["type"], number, attempt.response_status, attempt.error, attempt.duration_ms, now)
        if attempt.ok:
            await self.outcomes.record(DELIVERED, (listener_id, head["xid"], head["id"], *logged))
            self.latency.observe((now - head["recorded_at"]).total_seconds())
            return
        gone = attempt.response_status == 410
        delay = domain.retry_delay(self.schedule, number)
        status = "pending" if delay is not None else "dead"
        next_at = now + (delay or timedelta(0))
        await self.outcomes.record(FAILED, (listener_id, head["xid"], head["id"], *logged, status, next_at, gone))
        if gone:
            log.warning("listener %s disabled: its target answered 410 Gone", listener_id)
        elif delay is None:
            log.warning("listener %s: event %s is a dead letter after %d attempts", listener_id, event_id, number)
        else:
            log.info("listener %s: attempt %d of %s failed: %s", listener_id, number, event_id, attempt.error)
