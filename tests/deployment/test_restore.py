"""A backup is a `pg_dump` of the database, and a restore serves at once: restored into a new
database, the service resumes with every view equal to a rebuild from the restored log, the
listeners carrying on from where they were, and no webhook sent twice."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import asyncpg
import httpx

from app import modules
from app.infra.db import create_pool
from app.infra.outbox import committed_head
from harness.processes import ServerProcess
from harness.receiver import Receiver, receiving
from tests.helpers import assert_view_equals_rebuild, eventually, wait_for_subscriptions

ENV = {"LISTENER_ALLOWED_HOSTS": "127.0.0.1", "LISTENER_RETRY_SCHEDULE": "0.05,0.1"}


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def bindir(url: str) -> Path:
    conn = await asyncpg.connect(url)
    try:
        return Path(await conn.fetchval("SELECT setting FROM pg_config WHERE name = 'BINDIR'"))
    finally:
        await conn.close()


async def busy_day(http: httpx.AsyncClient, server: ServerProcess, receiver: Receiver) -> str:
    """A listener, rooms and reservations, consumers and orders; every match delivered."""
    r = await http.post(
        f"{server.url}/listeners",
        json={"name": "backup", "event_types": ["orders.order_placed"], "target": {"kind": "webhook", "url": receiver.url}},
    )
    assert r.status_code == 201, r.text
    room = (await http.post(f"{server.url}/rooms", json={"name": "Backup room", "capacity": 2})).json()
    body = {"room_id": room["id"], "user_id": "bea", "start": "2027-05-01T09:00:00Z", "end": "2027-05-01T10:00:00Z"}
    assert (await http.post(f"{server.url}/reservations", json=body)).status_code == 201
    await place_orders(http, server, 3)
    await eventually(lambda: len(receiver.received) >= 3, timeout=15)
    return str(r.json()["id"])


async def place_orders(http: httpx.AsyncClient, server: ServerProcess, count: int) -> None:
    consumer = (await http.post(f"{server.url}/consumers", json={"name": f"Bea {uuid.uuid4().hex[:6]}"})).json()["id"]
    menu = [{"id": "marg", "name": "Margherita", "price": "9.00"}]
    shop = (
        await http.post(
            f"{server.url}/restaurants",
            json={"name": "Backup Pizza", "address": "1 St", "lat": 48.8, "lon": 2.3, "delivery_radius_km": 5,
                  "opening_hours": [], "menu": menu},
        )
    ).json()["id"]  # fmt: skip
    for _ in range(count):
        order = {"consumer_id": consumer, "restaurant_id": shop, "line_items": [{"menu_item_id": "marg", "quantity": 1}],
                 "delivery_address": "2 St"}  # fmt: skip
        assert (await http.post(f"{server.url}/orders", json=order)).status_code == 201


async def test_a_dump_restored_into_a_new_database_serves_with_every_view_consistent_and_no_webhook_twice(
    database_url: str, server_url: str, tmp_path: Path
) -> None:
    bin_ = await bindir(server_url)
    async with receiving() as receiver, httpx.AsyncClient(timeout=15) as http:
        first = ServerProcess(database_url, tmp_path / "first.log", **ENV)
        try:
            await anyio.to_thread.run_sync(first.wait_live)
            listener_id = await busy_day(http, first, receiver)
            conn = await asyncpg.connect(database_url)
            head = await committed_head(conn)
            await conn.close()
            pool = await create_pool(database_url, min_size=1, max_size=2)
            await wait_for_subscriptions(pool, head, [s.name for s in modules.SUBSCRIPTIONS], timeout=30)
            await pool.close()
            await eventually(lambda: _pending_is_zero(http, first, listener_id), timeout=15)
        finally:
            first.stop()

        dump = tmp_path / "backup.dump"
        done = await anyio.run_process([bin_ / "pg_dump", "-Fc", "-f", str(dump), f"--dbname={database_url}"], check=False)
        assert done.returncode == 0, done.stderr.decode()
        restored_name = f"restored_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'CREATE DATABASE "{restored_name}"')
        await admin.close()
        restored = with_database(database_url, restored_name)
        try:
            done = await anyio.run_process([bin_ / "pg_restore", "--no-owner", f"--dbname={restored}", str(dump)], check=False)
            assert done.returncode == 0, done.stderr.decode()

            delivered_before = len(receiver.received)
            second = ServerProcess(restored, tmp_path / "second.log", **ENV)
            try:
                await anyio.to_thread.run_sync(second.wait_live)
                await place_orders(http, second, 2)
                await eventually(lambda: len(receiver.received) >= delivered_before + 2, timeout=15)
                await anyio.sleep(0.5)  # anything sent twice would have arrived by now
                ids = [r.headers["webhook-id"] for r in receiver.received]
                assert len(ids) == len(set(ids)) == delivered_before + 2, "no webhook sent twice, none lost"
                assert all(json.loads(r.body)["listener_id"] == listener_id for r in receiver.received)
                pool = await create_pool(restored, min_size=1, max_size=4)
                try:
                    head = await committed_head(pool)
                    await wait_for_subscriptions(pool, head, list(modules.VIEWS), timeout=30)
                    for view in modules.VIEWS.values():
                        await assert_view_equals_rebuild(pool, view)
                finally:
                    await pool.close()
            finally:
                second.stop()
        finally:
            admin = await asyncpg.connect(server_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
            await admin.close()


async def _pending_is_zero(http: httpx.AsyncClient, server: ServerProcess, listener_id: str) -> bool:
    r = await http.get(f"{server.url}/listeners/{listener_id}")
    return bool(r.json()["stats"]["pending"] == 0)
