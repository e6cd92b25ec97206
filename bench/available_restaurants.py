"""Available restaurants among 10,000 (issue #3's index claim, issue #4 item 4).

Writes 10,000 RestaurantRegistered events straight into the outbox (the restaurants
module's format; spread over Europe, radii 2-15 km, various time zones and hours,
some past midnight), projects them with the real projector, shows the plan, and
measures GET /restaurants/available over HTTP from `--clients` concurrent clients.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders uv run python -m bench.available_restaurants
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

from app.infra.migrations import upgrade
from app.queries.available_restaurants.store import AVAILABLE
from bench.catchup import catch_up_live
from harness.processes import ServerProcess

GENERATE = """
INSERT INTO command.outbox (event_id, type, version, stream_id, payload)
SELECT gen_random_uuid(), 'restaurants.restaurant_registered', 1, rid::text, jsonb_build_object(
    'type', 'restaurants.restaurant_registered', 'restaurant_id', rid, 'name', 'Bench Restaurant ' || g,
    'address', g || ' Bench Street', 'lat', 36 + (abs(hashint8(g)) % 2400) / 100.0,
    'lon', -9 + (abs(hashint8(-g)) % 3300) / 100.0, 'delivery_radius_km', 2 + abs(hashint8(g + 1)) % 14,
    'timezone', (ARRAY['Europe/Paris','Europe/London','Europe/Lisbon','Europe/Berlin','Europe/Athens'])[1 + g % 5],
    'opening_hours', (SELECT jsonb_agg(jsonb_build_object('day', d, 'open', CASE WHEN g % 4 = 0 THEN '18:00' ELSE '11:00' END,
                                                           'close', CASE WHEN g % 4 = 0 THEN '02:00' ELSE '22:00' END))
                      FROM generate_series(0, 6) d),
    'menu', jsonb_build_array(jsonb_build_object('id', 'a', 'name', 'Soup', 'price', '5.00')),
    'menu_revision', 1)
FROM (SELECT g, md5('bench-restaurant-' || g)::uuid AS rid FROM generate_series(1, $1::int) g) AS r
WHERE NOT EXISTS (SELECT 1 FROM query.available_restaurants a WHERE a.id = r.rid)
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def prepare(url: str, restaurants: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM query.available_restaurants")
        if have < restaurants:
            await conn.execute(GENERATE, restaurants)
    finally:
        await conn.close()
    await catch_up_live(url, "available_restaurants")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE query.available_restaurants; ANALYZE query.available_restaurant_hours")
        plan = await conn.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {AVAILABLE}",
            48.85,
            2.35,
            await conn.fetchval("SELECT timestamptz '2027-03-01 19:00Z'"),
        )
        print("\n".join(r[0] for r in plan))
    finally:
        await conn.close()


async def measure(base: str, clients: int, requests: int) -> list[float]:
    rng = random.Random(3)
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(requests // clients):
                lat, lon = 36 + rng.random() * 24, -9 + rng.random() * 33
                t = time.perf_counter()
                r = await http.get(f"/restaurants/available?lat={lat:.4f}&lon={lon:.4f}&at=2027-03-01T19:00:00Z")
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restaurants", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    upgrade(url)
    asyncio.run(prepare(url, args.restaurants))
    server = ServerProcess(
        url, Path(tempfile.gettempdir()) / "bench-available.log", RUN_SUBSCRIPTIONS="false", LOG_LEVEL="WARNING"
    )
    try:
        server.wait_live()
        asyncio.run(measure(server.url, args.clients, 200))
        ms = [v * 1000 for v in asyncio.run(measure(server.url, args.clients, args.requests))]
    finally:
        server.stop()
    print(
        f"GET /restaurants/available among {args.restaurants:,} restaurants, {args.clients} clients, {len(ms)} requests: "
        f"p50 {pct(ms, 0.5):.2f} ms, p99 {pct(ms, 0.99):.2f} ms"
    )


if __name__ == "__main__":
    main()
