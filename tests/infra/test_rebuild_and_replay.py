"""Views are rebuildable: blue/green while writes go on, and replay from zero changes nothing."""

from __future__ import annotations

from typing import Any

import anyio

from app import modules
from app.http import create_app
from app.infra.db import Pool
from app.infra.outbox import ORIGIN, committed_head
from app.infra.rebuild import Progress, rebuild
from tests.asgi import running_app
from tests.conftest import settings_for
from tests.helpers import add_room, assert_view_equals_rebuild, reserve, table_rows, wait_for_views


async def make_history(client: Any, prefix: str, n: int) -> str:
    room = await add_room(client, f"{prefix} room")
    last = room["position"]
    for i in range(n):
        r = await reserve(client, room["id"], f"{prefix}-user-{i % 4}", 1 + i % 27, i % 20, i % 20 + 2)
        if r.status_code == 201:
            last = r.json()["position"]
            if i % 5 == 0:
                last = (await client.post(f"/reservations/{r.json()['id']}/cancel")).json()["position"]
    return last


async def index_definitions(pool: Pool) -> list[str]:
    rows = await pool.fetch("SELECT indexdef FROM pg_indexes WHERE schemaname = 'query' ORDER BY indexname")
    return [r["indexdef"] for r in rows]


async def test_rebuild_while_writes_continue_swaps_in_an_equal_view(client: Any, pool: Pool) -> None:
    await make_history(client, "before", 120)
    indexes_before = await index_definitions(pool)
    stop = anyio.Event()
    progress: list[Progress] = []

    async def keep_writing() -> None:
        room = await add_room(client, "during rebuild")
        i = 0
        while not stop.is_set():
            i += 1
            await reserve(client, room["id"], f"during-{i % 3}", 1 + i % 28, i % 22, i % 22 + 1)

    async with anyio.create_task_group() as tg:
        tg.start_soon(keep_writing)
        for view in modules.VIEWS.values():
            await rebuild(pool, view, on_progress=progress.append)
        stop.set()

    assert progress and progress[-1].done >= 120
    assert await index_definitions(pool) == indexes_before  # same names, same definitions
    async with pool.acquire() as conn:
        head = await committed_head(conn)
    await wait_for_views(client, head.token())
    for view in modules.VIEWS.values():
        await assert_view_equals_rebuild(pool, view)
    # The swapped-in view keeps serving and advancing.
    room = await add_room(client, "after rebuild")
    listed = await client.get("/rooms?page_size=100", headers={"X-Min-Position": room["position"]})
    assert room["id"] in [r["id"] for r in listed.json()["items"]]
    schemas = await pool.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'")
    assert schemas == 0


async def test_replay_from_zero_leaves_identical_read_tables(client: Any, pool: Pool, database_url: str) -> None:
    last = await make_history(client, "replay", 60)
    await wait_for_views(client, last)
    before = {
        (view.name, table): await table_rows(pool, "query", table) for view in modules.VIEWS.values() for table in view.tables
    }
    # Reset every view's checkpoint to the origin; a fresh process replays everything
    # over the existing rows.
    async with running_app(create_app(settings_for(database_url))) as fresh:
        await pool.execute(
            "UPDATE command.subscriptions SET xid = $2, id = $3 WHERE name = ANY($1::text[])",
            list(modules.VIEWS),
            *ORIGIN,
        )
        marker = await add_room(fresh, "replay marker")
        await wait_for_views(fresh, marker["position"], wait_ms=10_000)
    after = {key: [row for row in await table_rows(pool, "query", key[1]) if "replay marker" not in repr(row)] for key in before}
    marker_id = marker["id"]
    after = {k: [row for row in rows if marker_id not in repr(row)] for k, rows in after.items()}
    assert after == before
