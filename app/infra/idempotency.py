"""Idempotency-Key storage: a key is claimed in the command's own transaction, and the
answer is stored under it before the commit.

A concurrent request with the same key blocks on the key row's unique index until the
first commits, then replays its stored answer; if the first rolled back (or its process
died), the key is free again and the retry runs."""

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
INSERT INTO command.idempotency_keys (key, fingerprint, status, body)
VALUES ($1, $2, 0, '') ON CONFLICT (key) DO NOTHING RETURNING true
"""
STORED = "SELECT fingerprint, status, body, position FROM command.idempotency_keys WHERE key = $1"
RECORD = "UPDATE command.idempotency_keys SET status = $2, body = $3, position = $4 WHERE key = $1"


def fingerprint(method: str, path: str, command: Any) -> bytes:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(_encoder.encode(command))
    return digest.digest()


async def claim(conn: Connection, key: str, key_fingerprint: bytes) -> Answer | None:
    """In the command's transaction: None if the key is now ours, else the answer stored
    under it (waiting for a concurrent first use to end). Raises KeyReused."""
    if await conn.fetchval(CLAIM, key, key_fingerprint):
        return None
    row = await conn.fetchrow(STORED, key)
    assert row is not None
    if bytes(row["fingerprint"]) != key_fingerprint:
        raise KeyReused(key)
    return Answer(row["status"], bytes(row["body"]), row["position"], problem=row["status"] >= 400)


async def record(conn: Connection, key: str, answer: Answer) -> None:
    await conn.execute(RECORD, key, answer.status, answer.body, answer.position)
