"""Sending one event to one listener's target: a webhook (a POST of the document, signed per
the Standard Webhooks specification, to the very address that was checked, never following
a redirect) or a NATS JetStream subject (with `Nats-Msg-Id`, so the stream's duplicate
window drops a repeat). Whatever goes wrong is an unsuccessful `Attempt`, never an
exception: the dispatch loop records it and retries on the schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import anyio
import asyncpg
import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from yarl import URL

from app.commands.listeners import domain
from app.commands.listeners.addresses import checked_address
from app.errors import Invalid
from app.infra.outbox import Position

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 200
EXCERPT = 200  # characters of a failed answer kept in the deliveries log


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


class Sender:
    """One HTTP client (pooled connections, a timeout per attempt) and one NATS connection,
    for the process that dispatches."""

    def __init__(self, allowed: domain.Allowed, timeout_s: float, nats_url: str) -> None:
        self.allowed = allowed
        self.timeout_s = timeout_s
        self.nats_url = nats_url
        self._nats: NatsClient | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        self._http = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
        return self

    async def __aexit__(self, *_: object) -> None:
        with anyio.CancelScope(shield=True):  # also when the dispatch loop is cancelled
            if self._http is not None:
                await self._http.close()
            if self._nats is not None:
                await self._nats.close()
                self._nats = None

    async def send(self, target: dict[str, Any], head: asyncpg.Record, body: bytes) -> Attempt:
        """Any failure is an unsuccessful attempt: whatever a target's answer or a stored
        listener's settings raise (not only network errors)."""
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        try:
            if target["kind"] == "nats":
                return await self._publish(target["subject"], head, body, took)
            return await self._post(target, head, body, took)
        except Exception as exc:
            log.warning("listener %s: attempt failed unexpectedly: %r", head["listener_id"], exc)
            return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:EXCERPT], took())

    async def _post(self, target: dict[str, Any], head: asyncpg.Record, body: bytes, took: Callable[[], float]) -> Attempt:
        assert self._http is not None, "used outside its async with"
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
            async with self._http.post(
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
