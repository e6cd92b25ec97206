"""Running a command: one transaction, idempotency keys, wake-up after commit.

With an `Idempotency-Key`, the key row is inserted in the command's own transaction.
A concurrent request with the same key blocks on that row's unique index until the
first commits, then replays its stored response; if the first rolled back (or its
process died), the key is free again and the retry runs. A business refusal (404,
409, 422) is stored too, behind a savepoint, so a retry gets the same answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from app.infra.bus import EventBus, collecting_types
from app.infra.db import Connection, Pool
from app.infra.problems import BadRequest, Conflict, Problem

MAX_KEY_LENGTH = 200
TRANSIENT_ATTEMPTS = 5

Work = Callable[[Connection], Awaitable[tuple[int, Any]]]


class Outcome(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    position: str | None
    problem: bool = False


_encoder = msgspec.json.Encoder()

CLAIM = """
INSERT INTO command.idempotency_keys (key, fingerprint, status, body)
VALUES ($1, $2, 0, '') ON CONFLICT (key) DO NOTHING RETURNING true
"""
STORED = "SELECT fingerprint, status, body, position FROM command.idempotency_keys WHERE key = $1"
RECORD = "UPDATE command.idempotency_keys SET status = $2, body = $3, position = $4 WHERE key = $1"


def fingerprint(method: str, path: str, body: Any) -> bytes:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(_encoder.encode(body))
    return digest.digest()


def check_key(key: str | None) -> str | None:
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters",
            errors=[{"field": "Idempotency-Key", "message": "length must be 1-200"}],
        )
    return key


def _success(status: int, result: Any) -> Outcome:
    position = getattr(result, "position", None)
    return Outcome(status, _encoder.encode(result), position)


def _refusal(problem: Problem, instance: str) -> Outcome:
    return Outcome(problem.status, _encoder.encode(problem.to_dict(instance)), None, problem=True)


async def run_command(
    pool: Pool,
    bus: EventBus,
    work: Work,
    *,
    instance: str,
    key: str | None = None,
    key_fingerprint: bytes = b"",
    single_statement: bool = False,
) -> Outcome:
    """Run `work(conn)` in a transaction; it returns (status, response) or raises a Problem.

    `single_statement`: the work issues exactly one statement (its writes and its events,
    see outbox.append's `along_with`), which PostgreSQL runs atomically on its own; without
    an Idempotency-Key it then runs with no BEGIN and COMMIT, one round trip in all.

    A transaction PostgreSQL aborts as a deadlock victim or a serialization failure is run
    again from the start: two concurrent inserts that break one exclusion constraint wait
    for each other, PostgreSQL aborts one, and its retry then meets the committed row and
    is refused cleanly (409) instead of failing (500)."""
    with collecting_types() as appended:
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                outcome = await _attempt(pool, work, instance, key, key_fingerprint, single_statement)
                break
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
                if attempt == TRANSIENT_ATTEMPTS:
                    raise
    if appended:
        bus.committed(appended)
    if outcome.problem:
        raise StoredProblem(outcome)
    return outcome


async def _attempt(pool: Pool, work: Work, instance: str, key: str | None, fp: bytes, single_statement: bool) -> Outcome:
    async with pool.acquire() as conn:
        if key is None:
            if single_statement:
                status, result = await work(conn)
            else:
                async with conn.transaction():
                    status, result = await work(conn)
            return _success(status, result)
        return await _run_once(conn, work, instance, key, fp)


async def _run_once(conn: Connection, work: Work, instance: str, key: str, fp: bytes) -> Outcome:
    async with conn.transaction():
        if not await conn.fetchval(CLAIM, key, fp):
            row = await conn.fetchrow(STORED, key)
            assert row is not None
            if bytes(row["fingerprint"]) != fp:
                raise Conflict(
                    "this Idempotency-Key was used with a different request",
                    idempotency_key=key,
                )
            return Outcome(row["status"], bytes(row["body"]), row["position"], problem=row["status"] >= 400)
        try:
            async with conn.transaction():  # savepoint: a refusal undoes only the work
                status, result = await work(conn)
            outcome = _success(status, result)
        except Problem as problem:
            outcome = _refusal(problem, instance)
        await conn.execute(RECORD, key, outcome.status, outcome.body, outcome.position)
    return outcome


class StoredProblem(Exception):
    """A refusal whose body is already rendered (and maybe stored under a key)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome
