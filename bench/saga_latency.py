"""Light load: time from `POST /orders` answering to the order showing `APPROVED` in
the order details view (accounting, kitchen and orders steps of the saga, each its
own transaction, plus the projection).

Starts `app serve` (DATABASE_URL, or the embedded PostgreSQL), places one order every
`--interval` seconds and polls `GET /orders/{id}` every `--poll` seconds until APPROVED
(polling faster steals the CPU the saga needs on a small machine).

    uv run python -m bench.saga_latency --orders 200 --interval 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from harness.processes import ServerProcess


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str, orders: int, interval: float, poll: float) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        consumer = (await http.post("/consumers", json={"name": "bench", "credit_limit": "99999999.00"})).json()["id"]
        shop = (
            await http.post(
                "/restaurants",
                json={
                    "name": "Bench Bistro",
                    "address": "x",
                    "lat": 0,
                    "lon": 0,
                    "delivery_radius_km": 1,
                    "menu": [{"id": "a", "name": "Soup", "price": "1.00"}],
                },
            )
        ).json()["id"]
        times = []
        for _ in range(orders):
            r = await http.post(
                "/orders",
                json={
                    "consumer_id": consumer,
                    "restaurant_id": shop,
                    "delivery_address": "x",
                    "line_items": [{"menu_item_id": "a", "quantity": 1}],
                },
            )
            assert r.status_code == 201, r.text
            placed, order_id = time.perf_counter(), r.json()["id"]
            while True:
                d = await http.get(f"/orders/{order_id}")
                if d.status_code == 200 and d.json()["state"] == "APPROVED":
                    break
                await asyncio.sleep(poll)
            times.append(time.perf_counter() - placed)
            await asyncio.sleep(interval)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--poll", type=float, default=0.005, help="seconds between GETs of the details")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if url is None:
        from app.infra.db import embedded_server_url

        url = embedded_server_url(Path(".data"), "bench_saga")
    server = ServerProcess(url, Path(tempfile.gettempdir()) / "bench-saga.log", LOG_LEVEL="WARNING")
    try:
        server.wait_live()
        ms = [t * 1000 for t in asyncio.run(run(server.url, args.orders, args.interval, args.poll))]
    finally:
        server.stop()
    print(
        f"POST /orders -> APPROVED in GET /orders/{{id}}: n={len(ms)} p50 {pct(ms, 0.5):.1f} ms, "
        f"p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )


if __name__ == "__main__":
    main()
