"""DESIGN.md item 2: no event is ever lost to a transaction that commits late.

A subscription records what it is handed into a table without any uniqueness, so
a duplicate delivery would show up as a second row."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.lowlevel
import asyncpg
import pytest

from app.events.reservations import RoomAdded
from app.infra import outbox
from app.infra.bus import EventBus
from app.infra.db import Connection, Pool
from app.infra.outbox import Envelope
from app.infra.subscriptions import Subscription
from tests.helpers import async_equals, eventually, running_host


async def record(conn: Connection, batch: Sequence[Envelope]) -> None:
    await conn.executemany(
        "INSERT INTO seen (name, xid, id) VALUES ($1, $2, $3)",
        [(e.event.name, e.position.xid, e.position.id) for e in batch if isinstance(e.event, RoomAdded)],
    )


@pytest.fixture(scope="module")
async def recorder(pool: Pool, database_url: str) -> AsyncIterator[EventBus]:
    await pool.execute("CREATE TABLE query.seen (name text, xid bigint, id bigint)")
    async with running_host([Subscription("recorder", record, schema="query", batch_size=3)], pool, database_url) as host:
        yield host.bus


def room(name: str) -> RoomAdded:
    return RoomAdded(room_id=uuid.uuid4(), name=name, capacity=1, location=None)


async def seen(pool: Pool, prefix: str) -> list[str]:
    rows = await pool.fetch("SELECT name FROM query.seen WHERE name LIKE $1 ORDER BY xid, id", prefix + "%")
    return [r["name"] for r in rows]


async def test_late_commit_is_delivered_after_it_commits_and_exactly_once(
    pool: Pool, database_url: str, recorder: EventBus
) -> None:
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    try:
        tx_a = a.transaction()
        await tx_a.start()
        await outbox.append(a, [room("gap-A1"), room("gap-A2")])  # A now holds the lowest xid
        async with b.transaction():
            await outbox.append(b, [room("gap-B")])
        recorder.committed()
        await anyio.sleep(0.5)
        assert "gap-A1" not in await seen(pool, "gap-")
        assert "gap-A2" not in await seen(pool, "gap-")

        await tx_a.commit()
        recorder.committed()
        # Ordered by commit-safe position: A's xid is lower, so A comes first.
        await eventually(async_equals(lambda: seen(pool, "gap-"), ["gap-A1", "gap-A2", "gap-B"]))
        await anyio.sleep(0.3)
        assert await seen(pool, "gap-") == ["gap-A1", "gap-A2", "gap-B"]
    finally:
        await a.close()
        await b.close()


async def test_rolled_back_transaction_delivers_nothing(pool: Pool, database_url: str, recorder: EventBus) -> None:
    a = await asyncpg.connect(database_url)
    b = await asyncpg.connect(database_url)
    try:
        tx_a = a.transaction()
        await tx_a.start()
        await outbox.append(a, [room("rb-A")])
        async with b.transaction():
            await outbox.append(b, [room("rb-B")])
        recorder.committed()
        await tx_a.rollback()
        recorder.committed()
        await eventually(async_equals(lambda: seen(pool, "rb-"), ["rb-B"]))
        await anyio.sleep(0.3)
        assert await seen(pool, "rb-") == ["rb-B"]
    finally:
        await a.close()
        await b.close()


async def test_many_concurrent_writers_lose_nothing(pool: Pool, recorder: EventBus) -> None:
    names = [f"many-{i:04d}" for i in range(300)]

    async def write(chunk: list[str]) -> None:
        async with pool.acquire() as conn:
            for name in chunk:
                async with conn.transaction():
                    await outbox.append(conn, [room(name)])
                    await anyio.lowlevel.checkpoint()  # let commits interleave
                recorder.committed()

    async with anyio.create_task_group() as tg:
        for i in range(6):
            tg.start_soon(write, names[i::6])

    async def all_seen() -> bool:
        return len(await seen(pool, "many-")) >= len(names)

    await eventually(all_seen, timeout=10)
    await anyio.sleep(0.3)
    delivered = await seen(pool, "many-")
    assert sorted(delivered) == names  # every one, none twice
