"""Idempotency-Key storage: a key is claimed in the command's own transaction, and the
answer is stored under it before the commit.

A concurrent request with the same key blocks on the key row's unique index until the
first commits, then replays its stored answer; if the first rolled back (or its process
died), the key is free again and the retry runs. A key expires `ttl_s` after its first use
(IDEMPOTENCY_KEY_TTL_S): a repeat after that takes it over as a new request, in the same
statement that would have claimed a free key; the purger removes expired keys later."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from app.infra.db import Connection

MAX_KEY_LENGTH = 200


class Answer(msgspec.Struct, frozen=True):
    """A command's answer as sent (and as stored under its key)."""

    status: int
    body: bytes
    position: str | None
    problem: bool = False


class KeyReused(Exception):
    """The key was used before with a different request."""


_encoder = msgspec.json.Encoder()

CLAIM = """
INSERT INTO command.idempotency_keys AS k (caller, key, fingerprint, status, body, created_at)
VALUES ($1, $2, $3, 0, '', now())
ON CONFLICT (caller, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, status = 0, body = '', position = NULL, created_at = now()
    WHERE k.created_at < now() - make_interval(secs => $4)
RETURNING true
"""
STORED = "SELECT fingerprint, status, body, position FROM command.idempotency_keys WHERE caller = $1 AND key = $2"
RECORD = "UPDATE command.idempotency_keys SET status = $3, body = $4, position = $5 WHERE caller = $1 AND key = $2"


def fingerprint(method: str, path: str, command: Any) -> bytes:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(_encoder.encode(command))
    return digest.digest()


async def claim(conn: Connection, caller: str, key: str, key_fingerprint: bytes, ttl_s: float) -> Answer | None:
    """In the command's transaction: None if `caller`'s key is now taken by this request,
    else the answer stored under it (waiting for a concurrent first use to end). Raises
    KeyReused. Keys are the caller's own: two callers never see each other's answers."""
    if await conn.fetchval(CLAIM, caller, key, key_fingerprint, ttl_s):
        return None
    row = await conn.fetchrow(STORED, caller, key)
    assert row is not None
    if bytes(row["fingerprint"]) != key_fingerprint:
        raise KeyReused(key)
    return Answer(row["status"], bytes(row["body"]), row["position"], problem=row["status"] >= 400)


async def record(conn: Connection, caller: str, key: str, answer: Answer) -> None:
    await conn.execute(RECORD, caller, key, answer.status, answer.body, answer.position)
