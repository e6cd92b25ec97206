"""A crash loses nothing that was acknowledged: SIGKILL a serving process mid-load,
restart it, and find every acknowledged command in the views, once, with every view
equal to a rebuild of it from zero."""

from __future__ import annotations

import random
from pathlib import Path

import anyio
import httpx

from app import modules
from app.infra.db import Pool
from app.infra.outbox import committed_head
from harness.processes import ServerProcess
from tests.helpers import assert_view_equals_rebuild, wait_for_subscriptions


async def test_sigkill_mid_load_loses_no_acknowledged_command(database_url: str, pool: Pool, tmp_path: Path) -> None:
    server = ServerProcess(database_url, tmp_path / "first.log")
    await anyio.to_thread.run_sync(server.wait_live)
    acknowledged: dict[str, dict[str, str]] = {}
    rooms: list[str] = []
    killed = anyio.Event()

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for i in range(5):
            rooms.append((await http.post("/rooms", json={"name": f"crash-{i}", "capacity": 2})).json()["id"])

        async def writer(n: int) -> None:
            rng = random.Random(n)
            i = 0
            while not killed.is_set():
                i += 1
                day, hour = rng.randrange(1, 28), rng.randrange(0, 23)
                body = {
                    "room_id": rng.choice(rooms),
                    "user_id": f"crash-user-{n}",
                    "start": f"2027-03-{day:02d}T{hour:02d}:00:00Z",
                    "end": f"2027-03-{day:02d}T{hour + 1:02d}:00:00Z",
                }
                try:
                    r = await http.post("/reservations", json=body)
                except httpx.HTTPError:
                    return  # the server died under this request: not acknowledged
                if r.status_code == 201:
                    acknowledged[r.json()["id"]] = r.json()
                    if i % 3 == 0:  # some cancellations too
                        try:
                            c = await http.post(f"/reservations/{r.json()['id']}/cancel")
                        except httpx.HTTPError:
                            return
                        if c.status_code == 200:
                            acknowledged[r.json()["id"]]["status"] = "cancelled"

        async with anyio.create_task_group() as tg:
            for n in range(8):
                tg.start_soon(writer, n)
            await anyio.sleep(2.0)
            server.kill()
            killed.set()

    assert len(acknowledged) > 20, "the load did not get going before the kill"

    restarted = ServerProcess(database_url, tmp_path / "second.log")
    try:
        await anyio.to_thread.run_sync(restarted.wait_live)
        async with pool.acquire() as conn:
            head = await committed_head(conn)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=15) as http:
            for n in range(8):
                r = await http.get(
                    f"/users/crash-user-{n}/reservations?page_size=100",
                    headers={"X-Min-Position": head.token(), "X-Wait-Ms": "10000"},
                )
                assert r.status_code == 200, r.text
        await wait_for_subscriptions(pool, head, [*modules.VIEWS])
    finally:
        restarted.stop()

    in_view = {
        str(r["id"]): r["status"]
        for r in await pool.fetch("SELECT id, status FROM query.user_reservations WHERE user_id LIKE 'crash-user-%'")
    }
    for reservation_id, reply in acknowledged.items():
        assert reservation_id in in_view, f"acknowledged reservation {reservation_id} is lost"
        if reply["status"] == "cancelled":
            assert in_view[reservation_id] == "cancelled"
    written = await pool.fetchval("SELECT count(*) FROM command.reservations")
    assert len(in_view) == written
    registered_twice = await pool.fetchval(
        "SELECT count(*) FROM (SELECT reservation_id FROM query.reservation_history "
        "WHERE action = 'registered' GROUP BY reservation_id HAVING count(*) > 1) d"
    )
    assert registered_twice == 0
    for view in modules.VIEWS.values():
        await assert_view_equals_rebuild(pool, view)
