"""A subscriber that keeps failing stops at that event, visibly, without blocking the
others, and resumes from that very event once it can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.events.reservations import RoomAdded
from app.infra.db import Connection, Pool
from app.infra.outbox import Envelope
from app.infra.subscriptions import State, Subscription
from tests.helpers import add_room, async_equals, eventually, running_host

broken = {"on": True}


async def fragile(conn: Connection, batch: Sequence[Envelope]) -> None:
    for e in batch:
        if isinstance(e.event, RoomAdded):
            if e.event.name == "poison" and broken["on"]:
                raise RuntimeError("cannot handle poison yet")
            await conn.execute("INSERT INTO fragile_seen (name) VALUES ($1)", e.event.name)


async def sturdy(conn: Connection, batch: Sequence[Envelope]) -> None:
    for e in batch:
        if isinstance(e.event, RoomAdded):
            await conn.execute("INSERT INTO sturdy_seen (name) VALUES ($1)", e.event.name)


async def names(pool: Pool, table: str) -> list[str]:
    return [r["name"] for r in await pool.fetch(f"SELECT name FROM query.{table} ORDER BY ctid")]


async def test_failing_subscriber_stalls_visibly_and_resumes_without_skipping(client: Any, pool: Pool, database_url: str) -> None:
    await pool.execute("CREATE TABLE query.fragile_seen (name text); CREATE TABLE query.sturdy_seen (name text)")
    subscriptions = [Subscription("fragile", fragile, schema="query"), Subscription("sturdy", sturdy, schema="query")]
    async with running_host(subscriptions, pool, database_url) as host:
        await eventually(lambda: len(host.runners) == 2)
        for runner in host.runners.values():
            runner.retry_base_s, runner.stall_after = 0.01, 3
        for name in ("before", "poison", "after"):
            await add_room(client, name)
            host.bus.committed()
        await eventually(lambda: host.runners["fragile"].stats.state is State.STALLED)
        # The other subscriber is not held back by the stalled one.
        await eventually(async_equals(lambda: names(pool, "sturdy_seen"), ["before", "poison", "after"]))
        assert await names(pool, "fragile_seen") == ["before"]

        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert [s["name"] for s in ready.json()["stalled_subscriptions"]] == ["fragile"]
        assert "cannot handle poison" in ready.json()["stalled_subscriptions"][0]["last_error"]
        metrics = (await client.get("/metrics")).text
        assert 'subscription_stalled{subscription="rooms"} 0' in metrics

        broken["on"] = False
        await eventually(async_equals(lambda: names(pool, "fragile_seen"), ["before", "poison", "after"]), timeout=10)
        assert host.runners["fragile"].stats.state is State.RUNNING
        assert (await client.get("/health/ready")).status_code == 200
