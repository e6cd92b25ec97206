"""Event listeners: commit -> webhook received at light load (one listener), and aggregate
deliveries per second to a local receiver with many listeners (order per listener checked).

    uv run python -m bench.listeners --orders 200 --listeners 50          # a fresh database on the test server
    DATABASE_URL=postgresql://... uv run python -m bench.listeners

Latency is the receiver's clock at arrival minus the event's commit time (the outbox row's
recorded_at, on the same machine's clock)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from app.infra.db import embedded_server_url
from harness.processes import server_on_a_fresh_database
from harness.receiver import Receiver, receiving

ROOT = Path(__file__).resolve().parents[1]

ENV = {"LISTENER_ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def world(http: httpx.AsyncClient, url: str) -> tuple[str, str]:
    consumer = (await http.post(f"{url}/consumers", json={"name": "Bench", "credit_limit": "9999999.00"})).json()["id"]
    menu = [{"id": "m1", "name": "Margherita", "price": "9.50"}]
    body = {"name": "Bench Pizza", "address": "x", "lat": 1, "lon": 1, "delivery_radius_km": 1, "menu": menu}
    shop = (await http.post(f"{url}/restaurants", json=body)).json()["id"]
    return consumer, shop


async def place(http: httpx.AsyncClient, url: str, consumer: str, shop: str, item: str = "m1") -> None:
    body = {
        "consumer_id": consumer,
        "restaurant_id": shop,
        "delivery_address": "x",
        "line_items": [{"menu_item_id": item, "quantity": 1}],
    }
    r = await http.post(f"{url}/orders", json=body)
    assert r.status_code == 201, r.text


async def register(http: httpx.AsyncClient, url: str, receiver: Receiver, name: str) -> str:
    body = {"name": name, "event_types": ["orders.order_placed"], "target": {"kind": "webhook", "url": receiver.url}}
    r = await http.post(f"{url}/listeners", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def latency(url: str, orders: int) -> None:
    arrivals: list[float] = []
    receiver = Receiver()
    received = receiver.received
    async with receiving(receiver), httpx.AsyncClient(timeout=10) as http:
        consumer, shop = await world(http, url)
        await register(http, url, receiver, "latency")
        for _ in range(orders):
            await place(http, url, consumer, shop)
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 30
        while len(received) < orders and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    for r in received:
        doc = json.loads(r.body)
        arrivals.append((r.at - datetime.fromisoformat(doc["occurred_at"])).total_seconds() * 1000)
    print(
        f"commit -> webhook received, one listener, an order every 50 ms: {len(arrivals)} deliveries, "
        f"p50 {percentile(arrivals, 50):.1f} ms, p99 {percentile(arrivals, 99):.1f} ms, max {max(arrivals):.1f} ms"
    )


async def throughput(url: str, orders: int, listeners: int) -> None:
    receiver = Receiver()
    async with receiving(receiver), httpx.AsyncClient(timeout=10) as http:
        consumer, shop = await world(http, url)
        ids = [await register(http, url, receiver, f"bench-{i:03d}") for i in range(listeners)]
        started = time.monotonic()

        async def burst(n: int) -> None:
            for _ in range(n):
                await place(http, url, consumer, shop)

        await asyncio.gather(*(burst(orders // 8) for _ in range(8)))
        placed = time.monotonic()
        expected = (orders // 8) * 8 * listeners
        deadline = time.monotonic() + 300
        while len(receiver.received) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        done = time.monotonic()
    first = min(r.at for r in receiver.received)
    last = max(r.at for r in receiver.received)
    span = (last - first).total_seconds()
    by_listener: dict[str, list[str]] = {i: [] for i in ids}
    for r in receiver.received:
        doc = json.loads(r.body)
        by_listener[doc["listener_id"]].append(doc["position"])
    in_order = all(
        [tuple(map(int, p.split("."))) for p in positions] == sorted(tuple(map(int, p.split("."))) for p in positions)
        for positions in by_listener.values()
    )
    print(
        f"{listeners} listeners x {(orders // 8) * 8} orders: {len(receiver.received)}/{expected} deliveries, "
        f"{len(receiver.received) / span:,.0f} deliveries/s (first to last arrival, {span:.1f} s; orders placed in "
        f"{placed - started:.1f} s, all received {done - started:.1f} s after the first order), in order per listener: {in_order}"
    )


async def command_path(url: str, listeners: int, seconds: float, clients: int, matching: bool = True, wrk: bool = False) -> float:
    """POST /orders per second for `seconds` with `clients` concurrent clients, after
    registering `listeners` listeners with distinct filters, each matching about one order
    in ten (two restaurants of twenty, and a total threshold of its own); `matching=False`:
    filters that no order meets (what matching alone costs, with nothing to deliver).
    `wrk`: the load comes from wrk (bench/order.lua, `clients` connections) in a process of
    its own, this process only receiving the deliveries."""
    receiver = Receiver()
    async with receiving(receiver), httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as http:
        consumer = (await http.post(f"{url}/consumers", json={"name": "Load", "credit_limit": "9999999.00"})).json()["id"]
        menu = [{"id": "m1", "name": "Margherita", "price": "9.50"}, {"id": "m2", "name": "Salad", "price": "4.00"}]
        shops = []
        for i in range(20):
            body = {"name": f"shop-{i}", "address": "x", "lat": 1, "lon": 1, "delivery_radius_km": 1, "menu": menu}
            shops.append((await http.post(f"{url}/restaurants", json=body)).json()["id"])
        for i in range(listeners):
            a, b = i % 20, (i * 7 + 3) % 20
            body = {
                "name": f"l-{i:04d}",
                "event_types": ["orders.order_placed"],
                "filter": f'($.restaurant_name == "shop-{a}" || $.restaurant_name == "shop-{b}") && $.total.double() > {(0 if matching else 1000) + i / 1000:.3f}',
                "target": {"kind": "webhook", "url": receiver.url},
            }
            r = await http.post(f"{url}/listeners", json=body)
            assert r.status_code == 201, r.text
        for shop in shops:  # the orders module knows every restaurant before the clock starts
            await place(http, url, consumer, shop)
        if wrk:
            return await _wrk(url, seconds, clients, {"CONSUMERS": consumer, "RESTAURANTS": ",".join(shops)})
        done = 0
        deadline = time.monotonic() + seconds

        async def client(n: int) -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await place(http, url, consumer, shops[(n + done) % 20])
                done += 1

        await asyncio.gather(*(client(n) for n in range(clients)))
    return done / seconds


async def _wrk(url: str, seconds: float, connections: int, env: dict[str, str]) -> float:
    """POST /orders/s from wrk (bench/order.lua) while this process receives the deliveries."""
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s", str(ROOT / "bench" / "order.lua"), url,
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    rate = next(line.split()[1] for line in out.decode().splitlines() if line.startswith("Requests/sec"))
    return float(rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument(
        "--command-path",
        type=int,
        metavar="N",
        help="instead: POST /orders/s with N listeners registered against none, alternated, two rounds",
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--none-match", action="store_true", help="with --command-path: filters no order meets")
    parser.add_argument("--wrk", action="store_true", help="with --command-path: load from wrk (32 connections)")
    args = parser.parse_args()
    if args.command_path:
        for _ in range(2):
            for n in (0, args.command_path):
                print(
                    f"{n} listeners: "
                    f"{with_server(lambda u, n=n: command_path(u, n, args.seconds, 32, not args.none_match, args.wrk)):,.0f}"
                    " POST /orders per second"
                )
        return
    with_server(lambda url: latency(url, args.orders))
    with_server(lambda url: throughput(url, args.orders, args.listeners))


def with_server(run: Any) -> Any:
    """`run(url)` against `app serve` on a fresh database."""
    server_url = os.environ.get("DATABASE_URL") or embedded_server_url(ROOT / ".data", "postgres")
    with server_on_a_fresh_database(server_url, Path(tempfile.mkdtemp()) / "server.log", **ENV) as server:
        return asyncio.run(run(server.url))


if __name__ == "__main__":
    main()
