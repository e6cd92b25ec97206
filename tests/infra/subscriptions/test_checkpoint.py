"""A batch and its checkpoint commit together or not at all (DESIGN.md: exactly-once),
whatever the subscriber does; `apply_batch` opens and ends the transaction by hand, so
each way out of it is held here. And which transactions wait for the WAL at commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from app.events.reservations import RoomAdded
from app.infra.db import Connection, Pool
from app.infra.outbox import Envelope, Position, committed_head
from app.infra.subscriptions import CheckpointMoved, Subscription, apply_batch, ensure_checkpoint
from tests.helpers import add_room, async_equals, eventually, running_host

BATCH = [
    Envelope(
        Position(10, i),
        uuid.uuid4(),
        datetime.now(UTC),
        RoomAdded(room_id=uuid.uuid4(), name=f"room {i}", capacity=1, location=None),
    )
    for i in (1, 2)
]


async def write_names(conn: Connection, batch: Sequence[Envelope]) -> None:
    await conn.executemany(
        "INSERT INTO applied (name) VALUES ($1)", [(e.event.name,) for e in batch if isinstance(e.event, RoomAdded)]
    )


async def swallow_a_failure(conn: Connection, batch: Sequence[Envelope]) -> None:
    await write_names(conn, batch)
    try:
        await conn.execute("SELECT 1 / 0")
    except asyncpg.DivisionByZeroError:
        pass


async def fail_after_writing(conn: Connection, batch: Sequence[Envelope]) -> None:
    await write_names(conn, batch)
    raise RuntimeError("the subscriber broke")


@pytest.fixture
async def subscription(pool: Pool) -> str:
    await pool.execute("DROP TABLE IF EXISTS query.applied; CREATE TABLE query.applied (name text)")
    name = f"it's {uuid.uuid4().hex[:8]}"  # a quote in the name: it goes into the SQL text as a literal
    await ensure_checkpoint(pool, name)
    return name


async def state(pool: Pool, name: str) -> tuple[Position, list[str]]:
    row = await pool.fetchrow("SELECT xid, id FROM command.subscriptions WHERE name = $1", name)
    assert row is not None
    return Position(row["xid"], row["id"]), [r["name"] for r in await pool.fetch("SELECT name FROM query.applied")]


async def test_the_batch_and_the_checkpoint_commit_together(pool: Pool, subscription: str) -> None:
    start = await ensure_checkpoint(pool, subscription)
    last = await apply_batch(pool, subscription, "query", write_names, start, BATCH)
    assert last == BATCH[-1].position
    assert await state(pool, subscription) == (last, ["room 1", "room 2"])


async def test_a_stale_checkpoint_applies_nothing(pool: Pool, subscription: str) -> None:
    start = await ensure_checkpoint(pool, subscription)
    await apply_batch(pool, subscription, "query", write_names, start, BATCH[:1])
    with pytest.raises(CheckpointMoved):
        await apply_batch(pool, subscription, "query", write_names, start, BATCH)
    assert await state(pool, subscription) == (BATCH[0].position, ["room 1"])


@pytest.mark.parametrize("handler", [fail_after_writing, swallow_a_failure])
async def test_a_failed_batch_leaves_no_trace(pool: Pool, subscription: str, handler: object) -> None:
    start = await ensure_checkpoint(pool, subscription)
    with pytest.raises((RuntimeError, asyncpg.PostgresError)):
        await apply_batch(pool, subscription, "query", handler, start, BATCH)  # type: ignore[arg-type]
    assert await state(pool, subscription) == (start, [])
    # Every connection went back to the pool outside any transaction.
    async with AsyncExitStack() as held:
        connections = [await held.enter_async_context(pool.acquire()) for _ in range(pool.get_max_size())]
        assert not any(c.is_in_transaction() for c in connections)
    await apply_batch(pool, subscription, "query", write_names, start, BATCH)
    assert await state(pool, subscription) == (BATCH[-1].position, ["room 1", "room 2"])


async def commit_setting(conn: Connection, batch: Sequence[Envelope]) -> None:
    await conn.execute("INSERT INTO commit_waits (setting) VALUES (current_setting('synchronous_commit'))")


async def test_views_commit_without_waiting_for_the_wal_process_managers_wait(client: Any, pool: Pool, database_url: str) -> None:
    await pool.execute("CREATE TABLE query.commit_waits (setting text); CREATE TABLE command.commit_waits (setting text)")
    subscriptions = [
        Subscription("a view", commit_setting, schema="query"),
        Subscription("a process manager", schema="command", react=lambda uow, batch: commit_setting(uow.conn, batch)),
    ]

    async def both_applied() -> bool:
        counts = await pool.fetchrow(
            "SELECT (SELECT count(*) FROM query.commit_waits), (SELECT count(*) FROM command.commit_waits)"
        )
        return all(counts)

    async with running_host(subscriptions, pool, database_url) as host:
        await add_room(client, "waits")
        host.bus.committed()
        await eventually(both_applied)
    assert {r["setting"] for r in await pool.fetch("SELECT setting FROM query.commit_waits")} == {"off"}
    assert {r["setting"] for r in await pool.fetch("SELECT setting FROM command.commit_waits")} == {"on"}


held = {"b"}


async def picky(conn: Connection, batch: Sequence[Envelope]) -> None:
    for e in batch:
        if isinstance(e.event, RoomAdded):
            if e.event.name in held:
                raise RuntimeError("not yet")
            await conn.execute("INSERT INTO picky_seen (name) VALUES ($1)", e.event.name)


async def test_a_checkpoint_moved_by_another_runner_is_reloaded_and_nothing_applied_twice(
    client: Any, pool: Pool, database_url: str
) -> None:
    await pool.execute("CREATE TABLE query.picky_seen (name text)")
    head = await committed_head(pool)  # rooms other tests added are not this test's
    await pool.execute("INSERT INTO command.subscriptions (name, xid, id) VALUES ('picky', $1, $2)", head.xid, head.id)

    async def seen() -> list[str]:
        return [r["name"] for r in await pool.fetch("SELECT name FROM query.picky_seen ORDER BY ctid")]

    async with running_host([Subscription("picky", picky, schema="query", batch_size=1)], pool, database_url) as host:
        runner = await eventually(lambda: host.runners.get("picky"))
        runner.retry_base_s = runner.retry_max_s = 0.02
        await add_room(client, "a")
        host.bus.committed()
        await eventually(async_equals(seen, ["a"]))
        await add_room(client, "b")
        c = await add_room(client, "c")
        host.bus.committed()
        await eventually(lambda: runner.stats.failures >= 3)  # b keeps failing, c waits behind it
        # Another runner (say, a rolling deploy's) applied b and c and moved the checkpoint.
        moved = Position.parse(c["position"])
        await pool.execute("UPDATE command.subscriptions SET xid = $1, id = $2 WHERE name = 'picky'", moved.xid, moved.id)
        await eventually(lambda: runner.stats.checkpoint_conflicts > 0)
        d = await add_room(client, "d")
        host.bus.committed()
        await eventually(lambda: runner.persisted == Position.parse(d["position"]))
    assert await seen() == ["a", "d"]
