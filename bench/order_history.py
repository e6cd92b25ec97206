"""Order history on 1,000,000 orders over 10,000 consumers: projection rate, the plan of
every filter combination, and GET latency with a keyword and a status filter.

1. Writes OrderPlaced events straight into the outbox, in the very format the orders
   module appends (generated in SQL, 100,000 per transaction), unless already there.
2. Projects them into the order_history view with the real projector and checkpoint
   (events/s). Only that view runs: the other subscribers are not the subject here.
3. ANALYZE, then EXPLAIN every filter combination and checks each uses an index.
4. Serves the app (subscriptions off) and measures GET /consumers/{id}/orders with
   `keywords` + `status` from `--clients` concurrent clients.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders uv run python -m bench.order_history
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from app.infra.db import create_pool, embedded_server_url
from app.infra.migrations import upgrade
from app.infra.outbox import read_committed
from app.infra.subscriptions import apply_batch, ensure_checkpoint
from app.modules import VIEWS
from app.queries.order_history.store import Filters, build
from harness.processes import ServerProcess

CONSUMERS = 10_000
GENERATE = """
INSERT INTO command.outbox (event_id, type, version, stream_id, payload)
SELECT gen_random_uuid(), 'orders.order_placed', 1, order_id::text, jsonb_build_object(
    'type', 'orders.order_placed', 'order_id', order_id, 'consumer_id', consumer_id,
    'restaurant_id', md5('r' || r)::uuid,
    'restaurant_name', (ARRAY['Golden','Spicy','Happy','Blue','Royal','Little','Green','Lucky'])[1 + r % 8]
        || ' ' || (ARRAY['Dragon','Pizza','Curry','Sushi','Taco','Burger','Noodle','Kebab','Bistro','Grill'])[1 + r % 10]
        || ' ' || r,
    'line_items', jsonb_build_array(
        jsonb_build_object('menu_item_id', 'i' || i1, 'name', items[1 + i1], 'price', '9.50', 'quantity', 1),
        jsonb_build_object('menu_item_id', 'i' || i2, 'name', items[1 + i2], 'price', '4.00', 'quantity', 2)),
    'total', '17.50', 'delivery_address', 'somewhere', 'version', 1,
    'at', to_char((timestamptz '2026-01-01' + g * interval '25 seconds') AT TIME ZONE 'UTC',
                  'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
FROM (
    SELECT g, md5('o' || g)::uuid AS order_id, md5('c' || (g % $3))::uuid AS consumer_id,
           abs(hashint8(g)) % 1000 AS r, abs(hashint8(-g)) % 10 AS i1, abs(hashint8(g + 7777777)) % 10 AS i2,
           ARRAY['Margherita Pizza','Garlic Bread','Pad Thai','Salmon Maki','Beef Taco','Cheese Burger',
                 'Green Curry','Falafel Wrap','Caesar Salad','Ramen Bowl'] AS items
    FROM generate_series($1::bigint, $2::bigint) AS g
) AS o
"""
COMBINATIONS = {
    "none": Filters(),
    "since+until": Filters(since=None, until=None),
    "status": Filters(status="APPROVAL_PENDING"),
    "keywords": Filters(keywords=["pizza", "curry"]),
    "keywords+status": Filters(status="APPROVAL_PENDING", keywords=["pizza"]),
    "since+until+status+keywords": Filters(status="APPROVAL_PENDING", keywords=["sushi"]),
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def generate(url: str, orders: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM command.outbox WHERE type = 'orders.order_placed'")
        started = time.perf_counter()
        for low in range(have + 1, orders + 1, 100_000):
            await conn.execute(GENERATE, low, min(low + 99_999, orders), CONSUMERS)
        if orders > have:
            print(f"generated {orders - have:,} OrderPlaced events in {time.perf_counter() - started:.1f}s")
    finally:
        await conn.close()


async def project(url: str) -> None:
    view = VIEWS["order_history"]
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        position = await ensure_checkpoint(pool, view.name)
        done, started = 0, time.perf_counter()
        while True:
            async with pool.acquire() as conn:
                batch = await read_committed(conn, position, 5000)
            if not batch:
                break
            position = await apply_batch(pool, view.name, view.schema, view.projection(), position, batch)
            done += len(batch)
        if done:
            elapsed = time.perf_counter() - started
            print(f"projected {done:,} events into order_history in {elapsed:.1f}s: {done / elapsed:,.0f} events/s")
        await pool.execute("ANALYZE query.order_history")
    finally:
        await pool.close()


async def explain(url: str) -> None:
    conn = await asyncpg.connect(url)
    consumer = await conn.fetchval("SELECT md5('c42')::uuid")
    since = await conn.fetchval("SELECT timestamptz '2026-03-01'")
    until = await conn.fetchval("SELECT timestamptz '2026-06-01'")
    try:
        for name, filters in COMBINATIONS.items():
            if "since" in name:
                filters = Filters(since=since, until=until, status=filters.status, keywords=filters.keywords)
            sql, args = build(consumer, filters, None, 21)
            plan = [r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}", *args)]
            uses_index = any("Index" in line for line in plan)
            print(f"\n### {name} ({'index' if uses_index else 'NO INDEX'})\n```\n" + "\n".join(plan) + "\n```")
    finally:
        await conn.close()


async def measure(base: str, clients: int, requests: int) -> list[float]:
    rng = random.Random(7)
    latencies: list[float] = []

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(requests // clients):
                consumer = f"c{rng.randrange(CONSUMERS)}"
                path = f"/consumers/{md5_uuid(consumer)}/orders?keywords=pizza,curry&status=APPROVAL_PENDING"
                t = time.perf_counter()
                r = await http.get(path)
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def md5_uuid(text: str) -> str:
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or embedded_server_url(Path(".data"), "bench_orders")
    upgrade(url)
    asyncio.run(generate(url, args.orders))
    asyncio.run(project(url))
    asyncio.run(explain(url))
    server = ServerProcess(url, Path(tempfile.gettempdir()) / "bench-orders.log", RUN_SUBSCRIPTIONS="false", LOG_LEVEL="WARNING")
    try:
        server.wait_live()
        asyncio.run(measure(server.url, args.clients, 200))  # warm-up
        ms = [v * 1000 for v in asyncio.run(measure(server.url, args.clients, args.requests))]
    finally:
        server.stop()
    print(
        f"\nGET /consumers/{{id}}/orders?keywords=pizza,curry&status=APPROVAL_PENDING, {args.clients} clients, "
        f"{len(ms)} requests: p50 {pct(ms, 0.5):.2f} ms, p99 {pct(ms, 0.99):.2f} ms"
    )


if __name__ == "__main__":
    main()
