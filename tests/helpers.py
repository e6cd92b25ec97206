"""Small helpers the tests share: rooms and reservations over HTTP, reading views, waiting for a
condition, running a subscription host."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import anyio

from app.infra.bus import EventBus
from app.infra.consistency import ViewPositions, view_position
from app.infra.db import Pool
from app.infra.outbox import Position
from app.infra.rebuild import build_shadow, shadow_schema
from app.infra.subscriptions import Subscription, SubscriptionHost


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


async def eventually(condition: Callable[[], Any], timeout: float = 5.0, every: float = 0.02) -> Any:
    """Polls `condition` (a function, plain or async) until it returns something true, and
    returns that; fails the test with what it last returned after `timeout` seconds."""
    last: Any = None
    try:
        with anyio.fail_after(timeout):
            while True:
                last = condition()
                if inspect.isawaitable(last):
                    last = await last
                if last:
                    break
                await anyio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"not within {timeout} s; last seen: {last!r}") from None
    return last


def async_equals(read: Callable[[], Any], expected: Any) -> Callable[[], Any]:
    """A condition for `eventually`: `await read() == expected`."""

    async def check() -> bool:
        return bool(await read() == expected)

    return check


@contextlib.asynccontextmanager
async def running_host(
    subscriptions: Sequence[Subscription], pool: Pool, database_url: str, bus: EventBus | None = None
) -> AsyncIterator[SubscriptionHost]:
    """A subscription host running `subscriptions` for the duration of the block."""
    host = SubscriptionHost(subscriptions, pool, database_url, bus or EventBus(), ViewPositions(), standby_retry_s=0.1)
    async with background(host.run()):
        yield host


async def wait_for_subscriptions(pool: Pool, target: Position, names: list[str], timeout: float = 15.0) -> None:
    """Until every named subscription's checkpoint has reached `target`."""

    async def all_there() -> bool:
        rows = await pool.fetch("SELECT name, xid, id FROM command.subscriptions WHERE name = ANY($1::text[])", names)
        return {r["name"] for r in rows if Position(r["xid"], r["id"]) >= target} >= set(names)

    await eventually(all_there, timeout)
