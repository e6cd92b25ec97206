"""Small helpers the tests share: making rooms and reservations over HTTP, reading views."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from app.infra.consistency import view_position
from app.infra.db import Pool
from app.infra.outbox import Position
from app.infra.rebuild import build_shadow, shadow_schema
from app.infra.subscriptions import Subscription


async def add_room(client: Any, name: str = "Room", capacity: int = 4) -> dict[str, Any]:
    response = await client.post("/rooms", json={"name": name, "capacity": capacity})
    assert response.status_code == 201, response.text
    return dict(response.json())


def slot(day: int, start_hour: int, end_hour: int) -> tuple[str, str]:
    return (
        f"2027-01-{day:02d}T{start_hour:02d}:00:00Z",
        f"2027-01-{day:02d}T{end_hour:02d}:00:00Z",
    )


async def reserve(client: Any, room_id: str, user: str, day: int, start: int, end: int) -> Any:
    s, e = slot(day, start, end)
    return await client.post("/reservations", json={"room_id": room_id, "user_id": user, "start": s, "end": e})


async def table_rows(pool: Pool, schema: str, table: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(f'SELECT * FROM "{schema}"."{table}"')
    return sorted((tuple(r) for r in rows), key=repr)


async def assert_view_equals_rebuild(pool: Pool, sub: Subscription) -> None:
    """Project the view again from zero into a shadow schema, up to the live position,
    and compare every table row for row."""
    live_position = await view_position(pool, sub.name)
    await build_shadow(pool, sub, until=live_position)
    for table in sub.tables:
        live = await table_rows(pool, "query", table)
        rebuilt = await table_rows(pool, shadow_schema(sub.name), table)
        assert live == rebuilt, f"{sub.name}.{table}: live view differs from a rebuild"
    await pool.execute(f'DROP SCHEMA "{shadow_schema(sub.name)}" CASCADE')
    await pool.execute("DELETE FROM command.subscriptions WHERE name = $1", f"{sub.name}@rebuild")


async def wait_for_views(client: Any, position: str, wait_ms: int = 5000) -> None:
    """Wait until every reservation view has applied `position`."""
    for path in (
        "/rooms",
        "/users/nobody/reservations",
        "/users/nobody/reservation-history",
        "/rooms/popularity?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
    ):
        r = await client.get(path, headers={"X-Min-Position": position, "X-Wait-Ms": str(wait_ms)})
        assert r.status_code == 200, (path, r.text)


@contextlib.asynccontextmanager
async def background(work: Coroutine[Any, Any, Any]) -> AsyncIterator[asyncio.Task[Any]]:
    """Run `work` as a task for the duration of the block (fixtures set up and tear down in
    different tasks, so an anyio task group cannot span them)."""
    task = asyncio.create_task(work)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for_subscriptions(pool: Pool, target: Position, names: list[str], timeout: float = 15.0) -> None:
    """Until every named subscription's checkpoint has reached `target`."""
    import anyio

    with anyio.fail_after(timeout):
        while True:
            rows = await pool.fetch("SELECT name, xid, id FROM command.subscriptions WHERE name = ANY($1::text[])", names)
            done = {r["name"] for r in rows if Position(r["xid"], r["id"]) >= target}
            if done >= set(names):
                return
            await anyio.sleep(0.02)
