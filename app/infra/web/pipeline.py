"""The command pipeline: a decoded command's one way from request to answer.

    (the caller, admitted by the route's guard: access.py)
    idempotency claim (the caller's own keys) -> unit of work (one transaction) -> handler(cmd, uow)
    -> its events appended to the outbox -> commit -> bus woken -> the answer

With an `Idempotency-Key`, the key is claimed in the command's own transaction (see
idempotency.py) and the answer stored under it; a refusal (404, 409, 422) is stored too,
behind a savepoint, so a retry gets the same answer. A command whose whole effect is one
statement (one saved write and its events, see UnitOfWork.flush) runs without
BEGIN and COMMIT when no key is given: one round trip in all.

A transaction PostgreSQL aborts as a deadlock victim or a serialization failure runs again
from the start: two concurrent inserts that break one exclusion constraint wait for each
other, PostgreSQL aborts one, and its retry then meets the committed row and is refused
cleanly (409) instead of failing (500)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from app.errors import Conflict, Refusal
from app.infra import idempotency
from app.infra.auth import ANYONE, Principal
from app.infra.consistency import PositionNotReached
from app.infra.idempotency import Answer, KeyReused
from app.infra.outbox import committed_head
from app.infra.unit_of_work import CatchUp, UnitOfWork
from app.infra.web.problems import StoredProblem, refusal_body
from app.infra.web.services import Services

TRANSIENT_ATTEMPTS = 5
CATCH_UP_MS = 2000

C = TypeVar("C")
Handler = Callable[[C, UnitOfWork], Awaitable[Any]]


class KeptOut:
    """A secret in a command's answer that is not kept a second time under its
    Idempotency-Key: `strip` gives the body to store, `restore` the body to replay (the
    secret read again from where it is kept, e.g. the listener's row)."""

    def __init__(self, strip: Callable[[bytes], bytes], restore: Callable[[Any, Any, bytes], Awaitable[bytes]]) -> None:
        self.strip = strip
        self.restore = restore


_encoder = msgspec.json.Encoder()


async def run(
    services: Services,
    handler: Handler[C],
    cmd: C,
    *,
    status: int,
    instance: str,
    key: str | None = None,
    key_fingerprint: bytes = b"",
    one_statement: bool = False,
    principal: Principal = ANYONE,
    kept_out: KeptOut | None = None,
) -> Answer:
    """The answer to `cmd`; a refusal without a key is raised as it is, one stored under a
    key as StoredProblem."""
    caught_up: frozenset[str] = frozenset()
    attempt = 0
    while True:
        attempt += 1
        try:
            answer, uow = await _attempt(
                services, handler, cmd, status, instance, key, key_fingerprint, one_statement, caught_up, principal, kept_out
            )
            break
        except CatchUp as wanted:
            if wanted.subscription in caught_up:
                raise
            await _catch_up(services, wanted.subscription)
            caught_up |= {wanted.subscription}
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt >= TRANSIENT_ATTEMPTS:
                raise
    if uow.appended_types:
        services.bus.committed(uow.appended_types)
    if answer.problem:
        raise StoredProblem(answer.status, answer.body)
    return answer


async def _attempt(
    services: Services,
    handler: Handler[C],
    cmd: C,
    status: int,
    instance: str,
    key: str | None,
    key_fingerprint: bytes,
    one_statement: bool,
    caught_up: frozenset[str],
    principal: Principal,
    kept_out: KeptOut | None,
) -> tuple[Answer, UnitOfWork]:
    async with services.pool.acquire() as conn:
        uow = UnitOfWork(conn, services.clock, caught_up, services.settings, actor=principal)
        if key is None:
            if one_statement:
                reply = await handler(cmd, uow)
                await uow.flush(one_statement=True)
            else:
                async with conn.transaction():
                    reply = await handler(cmd, uow)
                    await uow.flush()
            return _success(status, reply, uow), uow
        async with conn.transaction():
            try:
                stored = await idempotency.claim(
                    conn, principal.sub, key, key_fingerprint, services.settings.idempotency_key_ttl_s
                )
            except KeyReused:
                raise Conflict("this Idempotency-Key was used with a different request", idempotency_key=key) from None
            if stored is not None:
                if kept_out is not None and not stored.problem:
                    stored = msgspec.structs.replace(stored, body=await kept_out.restore(conn, cmd, stored.body))
                return stored, UnitOfWork(conn, services.clock)
            try:
                async with conn.transaction():  # savepoint: a refusal undoes only the work
                    reply = await handler(cmd, uow)
                    await uow.flush()
                answer = _success(status, reply, uow)
            except Refusal as refusal:
                uow = UnitOfWork(conn, services.clock)  # its events were rolled back
                body = refusal_body(refusal, instance)
                answer = Answer(body["status"], _encoder.encode(body), None, problem=True)
            kept = answer
            if kept_out is not None and not answer.problem:
                kept = msgspec.structs.replace(answer, body=kept_out.strip(answer.body))
            await idempotency.record(conn, principal.sub, key, kept)
        return answer, uow


def _success(status: int, reply: Any, uow: UnitOfWork) -> Answer:
    """The reply, with the position of the command's last event (`"position"`)."""
    position = uow.position.token() if uow.position is not None else None
    if position is not None and hasattr(reply, "position"):
        reply = msgspec.structs.replace(reply, position=position)
    return Answer(status, b"" if reply is None else _encoder.encode(reply), position)


async def _catch_up(services: Services, subscription: str) -> None:
    """Wait (briefly) for `subscription` to apply everything committed so far; the
    handler then answers from what it knows, whether or not it got there."""
    async with services.pool.acquire() as conn:
        head = await committed_head(conn)
    try:
        await services.positions.wait_for(services.pool, subscription, head, CATCH_UP_MS)
    except PositionNotReached:
        pass
