"""Two app processes on one database: each subscription runs in exactly one of them,
every event is handled once per subscription, and the survivor takes over a dead
owner's subscriptions within seconds."""

from __future__ import annotations

import re
import time
from pathlib import Path
from uuid import UUID

import anyio
import httpx

from app import modules
from app.infra.db import Pool
from app.infra.outbox import Position
from harness.processes import ServerProcess
from tests.helpers import eventually


def subscription_metric(text: str, metric: str) -> dict[str, float]:
    pattern = re.compile(rf'^{metric}{{subscription="([^"]+)"}} (\S+)$', re.M)
    return {name: float(value) for name, value in pattern.findall(text)}


async def metrics_of(http: httpx.AsyncClient, server: ServerProcess) -> str:
    return (await http.get(f"{server.url}/metrics")).text


async def test_two_processes_share_the_work_and_take_over(database_url: str, pool: Pool, tmp_path: Path) -> None:
    first = ServerProcess(database_url, tmp_path / "a.log")
    await anyio.to_thread.run_sync(first.wait_live)
    second = ServerProcess(database_url, tmp_path / "b.log")
    await anyio.to_thread.run_sync(second.wait_live)
    servers = [first, second]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            last = ""
            for i in range(30):
                server = servers[i % 2]  # commands through both processes
                r = await http.post(f"{server.url}/rooms", json={"name": f"replica-{i}", "capacity": 1})
                assert r.status_code == 201
                last = r.json()["position"]
            # Both processes can read their own writes, whichever of them runs the view.
            for server in servers:
                r = await http.get(f"{server.url}/rooms?page_size=100", headers={"X-Min-Position": last, "X-Wait-Ms": "5000"})
                assert r.status_code == 200 and len(r.json()["items"]) == 30

            # A view that ignores room events still reaches their positions promptly on
            # either replica: the waiter pokes the view's runner, wherever it runs, instead
            # of waiting for its 1 s idle poll. The best of three tries (a fresh write each)
            # must beat that poll, so a slow moment on a slow machine does not decide.
            for server in servers:
                took = []
                for attempt in range(3):
                    other = servers[(servers.index(server) + 1) % 2]
                    w = await http.post(f"{other.url}/rooms", json={"name": f"poke-{attempt}", "capacity": 1})
                    started = time.monotonic()
                    r = await http.get(
                        f"{server.url}/consumers/{UUID(int=1)}/orders",
                        headers={"X-Min-Position": w.json()["position"], "X-Wait-Ms": "3000"},
                    )
                    took.append(time.monotonic() - started)
                    assert r.status_code == 404, r.text  # nobody's orders: the view has applied the write, though
                    assert Position.parse(r.headers["X-View-Position"]) >= Position.parse(w.json()["position"])
                assert min(took) < 1.0, took
            last = w.json()["position"]
            views = ("/rooms", "/users/nobody/reservations", "/users/nobody/reservation-history")
            for path in (*views, "/rooms/popularity?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"):
                r = await http.get(f"{first.url}{path}", headers={"X-Min-Position": last, "X-Wait-Ms": "5000"})
                assert r.status_code == 200, (path, r.text)

            events = await pool.fetchval("SELECT count(*) FROM command.outbox")
            owned = [subscription_metric(await metrics_of(http, s), "subscription_owned") for s in servers]
            applied = [subscription_metric(await metrics_of(http, s), "subscription_events_applied_total") for s in servers]
            for name in modules.VIEWS:
                assert owned[0][name] + owned[1][name] == 1, f"{name} must have exactly one owner"
                if name in ("rooms", "user_reservations", "reservation_history", "room_popularity"):
                    assert applied[0][name] + applied[1][name] == events, f"{name}: each event once"
                else:  # not woken by room events: passes over them later, still at most once
                    assert applied[0][name] + applied[1][name] <= events, f"{name}: never twice"

            # Kill whoever owns the rooms view; the other must take everything over.
            owner = first if owned[0]["rooms"] == 1 else second
            survivor = second if owner is first else first
            owner.kill()

            async def survivor_owns_every_view() -> bool:
                now_owned = subscription_metric(await metrics_of(http, survivor), "subscription_owned")
                return all(now_owned.get(name) == 1 for name in modules.VIEWS)

            await eventually(survivor_owns_every_view, timeout=15)  # STANDBY_RETRY_S is 0.5 s: generous

            r = await http.post(f"{survivor.url}/rooms", json={"name": "after-takeover", "capacity": 1})
            r = await http.get(
                f"{survivor.url}/rooms?page_size=100",
                headers={"X-Min-Position": r.json()["position"], "X-Wait-Ms": "5000"},
            )
            assert r.status_code == 200
            assert "after-takeover" in [room["name"] for room in r.json()["items"]]
    finally:
        for s in servers:
            s.stop()


async def test_workers_serve_one_port_and_read_their_writes(database_url: str, tmp_path: Path) -> None:
    """`app serve --workers 2` (WORKERS=2): two replicas behind one port; every view has
    one owner among them, and a client reads its own writes whichever worker answers."""
    server = ServerProcess(database_url, tmp_path / "workers.log", WORKERS="2")
    try:
        await anyio.to_thread.run_sync(server.wait_live)
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{server.url}/rooms", json={"name": "worker-room", "capacity": 1})
            assert r.status_code == 201
            room_id = r.json()["id"]
            for i in range(20):  # many connections: both workers answer some
                body = {
                    "room_id": room_id,
                    "user_id": "workers",
                    "start": f"2031-01-01T{i:02d}:00:00Z",
                    "end": f"2031-01-01T{i:02d}:30:00Z",
                }
                async with httpx.AsyncClient(timeout=10) as fresh:
                    r = await fresh.post(f"{server.url}/reservations", json=body)
                    assert r.status_code == 201, r.text
                    seen = await fresh.get(
                        f"{server.url}/users/workers/reservations?page_size=100",
                        headers={"X-Min-Position": r.headers["X-Position"], "X-Wait-Ms": "5000"},
                    )
                assert seen.status_code == 200
                assert len(seen.json()["items"]) == i + 1

            async def ready() -> bool:  # once both workers hold their locks, each view has one owner
                return (await http.get(f"{server.url}/health/ready")).status_code == 200

            await eventually(ready, timeout=10)
    finally:
        server.stop()
    log = (tmp_path / "workers.log").read_text()
    assert log.count('"msg":"Started server process') == 2
    for sub in modules.SUBSCRIPTIONS:  # one owner each, never both workers
        assert log.count(f"subscription {sub.name} running from") == 1, sub.name
