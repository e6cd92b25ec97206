"""Listeners across real processes: a SIGKILL with deliveries in flight loses none (a
delivery whose outcome was not recorded is made again, with the same webhook-id), and two
processes never make the same delivery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx

from app.infra.db import Pool
from harness.processes import ServerProcess
from harness.receiver import Receiver, receiving
from tests.helpers import eventually

ENV = {"LISTENER_ALLOWED_HOSTS": "127.0.0.1", "LISTENER_RETRY_SCHEDULE": "0.05,0.1,0.2", "LOG_LEVEL": "WARNING"}


async def _world(http: httpx.AsyncClient, url: str, receiver: Receiver) -> tuple[str, str, str]:
    hook = await http.post(
        f"{url}/listeners",
        json={"name": "crash", "event_types": ["orders.order_placed"], "target": {"kind": "webhook", "url": receiver.url}},
    )
    assert hook.status_code == 201, hook.text
    consumer = (await http.post(f"{url}/consumers", json={"name": "Crash Ada", "credit_limit": "100000.00"})).json()
    menu = [{"id": "marg", "name": "Margherita", "price": "9.50"}]
    shop = await http.post(
        f"{url}/restaurants",
        json={"name": "Crash Pizza", "address": "x", "lat": 1, "lon": 1, "delivery_radius_km": 1, "menu": menu},
    )
    return hook.json()["id"], consumer["id"], shop.json()["id"]


async def _place(http: httpx.AsyncClient, url: str, consumer: str, shop: str) -> str:
    body = {
        "consumer_id": consumer,
        "restaurant_id": shop,
        "delivery_address": "x",
        "line_items": [{"menu_item_id": "marg", "quantity": 1}],
    }
    r = await http.post(f"{url}/orders", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _event_ids(pool: Pool, orders: list[str]) -> set[str]:
    rows = await pool.fetch(
        "SELECT event_id FROM command.outbox WHERE type = 'orders.order_placed' AND payload->>'order_id' = ANY($1::text[])",
        orders,
    )
    return {str(r["event_id"]) for r in rows}


async def test_sigkill_with_deliveries_in_flight_loses_none(database_url: str, pool: Pool, tmp_path: Path) -> None:
    async with receiving(Receiver(delay=0.05)) as receiver, httpx.AsyncClient(timeout=10) as http:
        first = ServerProcess(database_url, tmp_path / "first.log", **ENV)
        await anyio.to_thread.run_sync(first.wait_live)
        _, consumer, shop = await _world(http, first.url, receiver)
        orders = [await _place(http, first.url, consumer, shop) for _ in range(30)]
        await eventually(lambda: len(receiver.received) >= 3, timeout=15)
        first.kill()  # some deliveries sent, their outcome maybe not recorded
        second = ServerProcess(database_url, tmp_path / "second.log", **ENV)
        try:
            await anyio.to_thread.run_sync(second.wait_live)
            expected = await _event_ids(pool, orders)
            await eventually(lambda: expected <= {r.headers["webhook-id"] for r in receiver.received}, timeout=30)
        finally:
            second.stop()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert set(ids) == expected  # none missing, nothing else
    for r in receiver.received:  # a repeat is the same event, the same webhook-id
        assert json.loads(r.body)["id"] == r.headers["webhook-id"]


async def test_two_processes_make_each_delivery_once(database_url: str, pool: Pool, tmp_path: Path) -> None:
    servers = [ServerProcess(database_url, tmp_path / f"s{i}.log", **ENV) for i in range(2)]
    try:
        async with receiving() as receiver, httpx.AsyncClient(timeout=10) as http:
            for server in servers:
                await anyio.to_thread.run_sync(server.wait_live)
            _, consumer, shop = await _world(http, servers[0].url, receiver)
            orders = [await _place(http, servers[i % 2].url, consumer, shop) for i in range(20)]
            expected = await _event_ids(pool, orders)
            await eventually(lambda: expected <= {r.headers["webhook-id"] for r in receiver.received}, timeout=30)
            await anyio.sleep(0.5)
            received: list[Any] = [r.headers["webhook-id"] for r in receiver.received]
    finally:
        for server in servers:
            server.stop()
    assert sorted(received) == sorted(expected)  # each once
