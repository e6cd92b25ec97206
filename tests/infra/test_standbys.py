"""Views read from a real hot standby (pg_basebackup -R of the tests' PostgreSQL): read
your writes through it, 412 while its replay is paused, the primary while it is down and
the standby again when it is back, and three processes behind one primary and standby."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import asyncpg
import httpx
import pytest

from app.http import create_app
from harness.processes import ServerProcess, metric_total
from harness.standby import Standby, StandbyUnavailable, standby_of
from tests.asgi import running_app
from tests.conftest import settings_for
from tests.helpers import add_room, eventually, reserve


@pytest.fixture(scope="module")
async def standby(server_url: str, database_url: str) -> AsyncIterator[Standby]:
    try:
        async with standby_of(server_url) as made:
            yield made
    except StandbyUnavailable as exc:
        pytest.skip(str(exc))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="module")
async def standby_url(standby: Standby, database_url: str) -> str:
    url = standby.url(database_of(database_url))

    async def reachable() -> bool:
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError):
            return False  # the module's database may not have been replayed yet
        await conn.close()
        return True

    await eventually(reachable, timeout=30)
    return url


@pytest.fixture(scope="module")
async def client(database_url: str, standby_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(database_url, query_database_urls=(standby_url,), query_max_lag_ms=5000)
    async with running_app(create_app(settings)) as c:
        yield c


async def metric(client: Any, name: str) -> float:
    return metric_total((await client.get("/metrics")).text, name)


async def test_read_your_writes_through_the_standby(client: Any) -> None:
    room = await add_room(client, "Standby room")
    before = await metric(client, "query_standby_reads_total")
    for hour in range(8, 18):
        made = await reserve(client, room["id"], "stan", 1, hour, hour + 1)
        assert made.status_code == 201
        r = await client.get("/users/stan/reservations?page_size=100", headers={"X-Min-Position": made.headers["X-Position"]})
        assert r.status_code == 200 and made.json()["id"] in [i["id"] for i in r.json()["items"]]
    assert await metric(client, "query_standby_reads_total") >= before + 10
    ready = (await client.get("/health/ready")).json()
    assert [s["state"] for s in ready["standbys"]] == ["up"]


async def test_a_paused_standby_answers_412_with_its_own_position(client: Any, standby_url: str) -> None:
    room = await add_room(client, "Paused room")
    conn = await asyncpg.connect(standby_url)
    try:
        await conn.execute("SELECT pg_wal_replay_pause()")
        made = await reserve(client, room["id"], "paula", 2, 9, 10)
        r = await client.get(
            "/users/paula/reservations", headers={"X-Min-Position": made.headers["X-Position"], "X-Wait-Ms": "300"}
        )
        assert r.status_code == 412, r.text
        body = r.json()
        assert body["view"] == "user_reservations"
        standby_position = await conn.fetchval(
            "SELECT xid || '.' || id FROM command.subscriptions WHERE name = 'user_reservations'"
        )
        assert body["view_position"] == standby_position  # the standby's, not the primary's
    finally:
        await conn.execute("SELECT pg_wal_replay_resume()")
        await conn.close()
    r = await client.get("/users/paula/reservations", headers={"X-Min-Position": made.headers["X-Position"]})
    assert r.status_code == 200 and len(r.json()["items"]) == 1


async def test_reads_go_to_the_primary_while_the_standby_is_down(client: Any, standby: Standby) -> None:
    room = await add_room(client, "Down room")
    await anyio.to_thread.run_sync(standby.stop)
    try:
        made = await reserve(client, room["id"], "dora", 3, 9, 10)
        r = await client.get("/users/dora/reservations", headers={"X-Min-Position": made.headers["X-Position"]})
        assert r.status_code == 200 and len(r.json()["items"]) == 1
        assert await metric(client, "query_primary_reads_total") >= 1
        ready = await client.get("/health/ready")
        assert ready.status_code == 200  # the primary serves: still ready
        await eventually(lambda: _standby_state(client, "down"))
    finally:
        await anyio.to_thread.run_sync(standby.start)
    await eventually(lambda: _standby_state(client, "up"), timeout=15)
    before = await metric(client, "query_standby_reads_total")
    assert (await client.get("/users/dora/reservations")).status_code == 200
    assert await metric(client, "query_standby_reads_total") == before + 1


async def _standby_state(client: Any, state: str) -> bool:
    return bool([s["state"] for s in (await client.get("/health/ready")).json()["standbys"]] == [state])


async def test_three_processes_behind_one_primary_and_one_standby(database_url: str, standby_url: str, tmp_path: Path) -> None:
    env = {"QUERY_DATABASE_URLS": standby_url}
    servers = [
        ServerProcess(database_url, tmp_path / "worker.log", **env),
        ServerProcess(database_url, tmp_path / "http-1.log", RUN_SUBSCRIPTIONS="false", **env),
        ServerProcess(database_url, tmp_path / "http-2.log", RUN_SUBSCRIPTIONS="false", **env),
    ]
    try:
        for server in servers:
            await anyio.to_thread.run_sync(server.wait_live)
        async with httpx.AsyncClient(timeout=15) as http:
            room = (await http.post(f"{servers[1].url}/rooms", json={"name": "Three", "capacity": 2})).json()
            for n, (writer, reader) in enumerate([(1, 2), (2, 1), (0, 2), (1, 0)]):
                made = await http.post(
                    f"{servers[writer].url}/reservations",
                    json={
                        "room_id": room["id"],
                        "user_id": "trio",
                        "start": f"2027-01-04T{8 + n:02d}:00:00Z",
                        "end": f"2027-01-04T{8 + n:02d}:30:00Z",
                    },
                )
                assert made.status_code == 201, made.text
                r = await http.get(
                    f"{servers[reader].url}/users/trio/reservations",
                    headers={"X-Min-Position": made.headers["X-Position"]},
                )
                assert r.status_code == 200 and len(r.json()["items"]) == n + 1, r.text
            served = []
            for server in servers:
                text = (await http.get(f"{server.url}/metrics")).text
                assert 'query_standby_up{standby="' in text
                served.append(metric_total(text, "query_standby_reads_total"))
            assert all(count >= 1 for count in served), served
    finally:
        for server in servers:
            server.stop()


async def test_a_standby_too_far_behind_is_skipped(database_url: str, standby_url: str) -> None:
    settings = settings_for(database_url, query_database_urls=(standby_url,), query_max_lag_ms=300)
    async with running_app(create_app(settings)) as client:
        room = await add_room(client, "Lagging room")
        conn = await asyncpg.connect(standby_url)
        try:
            await conn.execute("SELECT pg_wal_replay_pause()")
            await reserve(client, room["id"], "lena", 4, 9, 10)  # the primary moves on, the standby does not
            await eventually(lambda: _standby_state(client, "lagging"))
            before = await metric(client, "query_primary_reads_total")
            r = await client.get(
                "/users/lena/reservations",
                headers={"X-Min-Position": (await reserve(client, room["id"], "lena", 4, 11, 12)).headers["X-Position"]},
            )
            assert r.status_code == 200 and len(r.json()["items"]) == 2  # from the primary, not a 412
            assert await metric(client, "query_primary_reads_total") == before + 1
            lag = (await client.get("/health/ready")).json()["standbys"][0]["lag_ms"]
            assert lag > 300
        finally:
            await conn.execute("SELECT pg_wal_replay_resume()")
            await conn.close()
        await eventually(lambda: _standby_state(client, "up"), timeout=10)


async def test_a_streaming_standby_makes_view_commits_wait_for_the_local_flush(standby_url: str, database_url: str) -> None:
    """Unwaited, a view's commit would reach the standby only with the WAL writer's next
    flush (up to 200 ms); the subscription host sees the standby and asks for 'local'."""
    from app.infra.subscriptions.checkpoint import commit_waits
    from app.infra.subscriptions.host import STREAMING

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval(STREAMING) is True
    finally:
        await conn.close()
    assert commit_waits(durable=False, streamed=True) == "local"
    assert commit_waits(durable=False, streamed=False) == "off"
    assert commit_waits(durable=True, streamed=True) == "on"


async def test_view_commits_through_the_app_wait_for_the_local_flush_while_a_standby_streams(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the runner asks of each view commit it makes (the one-statement path and the
    transaction path alike), while the standby streams: 'local', never 'off'."""
    from app.infra.subscriptions import checkpoint, runner

    asked: list[str] = []
    decide = checkpoint.commit_waits

    def recorded(durable: bool, streamed: bool) -> str:
        asked.append(decide(durable, streamed))
        return asked[-1]

    monkeypatch.setattr(checkpoint, "commit_waits", recorded)
    monkeypatch.setattr(runner, "commit_waits", recorded)
    room = await add_room(client, "Flushed room")
    made = await reserve(client, room["id"], "flora", 4, 9, 10)
    r = await client.get("/users/flora/reservations", headers={"X-Min-Position": made.headers["X-Position"]})
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    assert "local" in asked and "off" not in asked, asked


async def test_a_promoted_standby_is_refused_and_reads_go_to_the_primary(server_url: str, database_url: str) -> None:
    try:
        async with standby_of(server_url) as promoted:
            url = promoted.url(database_of(database_url))
            settings = settings_for(database_url, query_database_urls=(url,), query_max_lag_ms=5000)
            async with running_app(create_app(settings)) as client:
                await eventually(lambda: _standby_state(client, "up"), timeout=30)
                await anyio.to_thread.run_sync(promoted.promote)
                await eventually(lambda: _standby_state(client, "down"), timeout=15)
                ready = (await client.get("/health/ready")).json()  # auth off: every caller is an admin
                assert "not in recovery" in ready["standbys"][0]["error"]
                before = await metric(client, "query_primary_reads_total")
                assert (await client.get("/rooms")).status_code == 200
                assert await metric(client, "query_primary_reads_total") == before + 1
    except StandbyUnavailable as exc:
        pytest.skip(str(exc))
