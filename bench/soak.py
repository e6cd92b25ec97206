"""A soak (issue #22, item 5): the service under a steady load for --minutes, both businesses,
listeners (webhooks to receivers in this process; one receiver in five answers every 50th
request with a 500, so its listeners retry) and reads with
X-Min-Position, reported per --window minutes: requests/s, latency p50/p99, the app's RSS,
table and index sizes, dead tuples, subscription lag. Short retention settings make the
purger's plateau visible. At the end: every view equal to a rebuild from the log, every
matched event delivered (or, for the failing receiver, delivered or a dead letter).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python -m bench.soak --minutes 60

DATABASE_URL names a server: the run makes a database of its own there and drops it after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from app import modules
from app.infra.consistency import view_position
from app.infra.db import create_pool, embedded_server_url
from app.infra.outbox import committed_head
from app.infra.rebuild import build_shadow, shadow_name, shadow_schema
from harness.processes import ROOT, ServerProcess, fresh_database, metric_total
from harness.receiver import Receiver, receiving

ENV = {
    "AUTH_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
    "LISTENER_ALLOWED_HOSTS": "127.0.0.1",
    "LISTENER_RETRY_SCHEDULE": "1,2,5",
    "IDEMPOTENCY_KEY_TTL_S": "60",
    "LISTENER_ATTEMPTS_RETENTION_S": "120",
    "PURGE_EVERY_S": "10",
}
TABLES = ["command.outbox", "command.idempotency_keys", "command.listener_deliveries", "command.listener_queue",
          "command.orders", "command.reservations", "query.order_history", "query.user_reservations"]  # fmt: skip


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def run_load(base: str, rate: float, until: float, windows: list[Window], window_s: float, started: float) -> None:
    """Commands at `rate` / 2 a second, each read back with X-Min-Position (`rate` requests/s
    in all): 70% reservations, 30% orders, every command with an Idempotency-Key. A
    latency is a command's and its read's together."""
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=64)) as http:
        rooms = [(await http.post("/rooms", json={"name": f"soak-{i}", "capacity": 1})).json()["id"] for i in range(50)]
        consumers = [
            (await http.post("/consumers", json={"name": f"soak-{i}", "credit_limit": "99999999.00"})).json()["id"]
            for i in range(50)
        ]
        menu = [{"id": "m1", "name": "Margherita pizza", "price": "9.50"}, {"id": "m2", "name": "Curry", "price": "4.00"}]
        shops = [(await http.post("/restaurants", json={"name": f"soak-{i}", "address": "s", "lat": 48.8, "lon": 2.3,
                  "delivery_radius_km": 5, "opening_hours": [], "menu": menu})).json()["id"] for i in range(10)]  # fmt: skip

        async def one(kind: int) -> None:
            t0 = time.perf_counter()
            try:
                key = {"Idempotency-Key": uuid.uuid4().hex}
                if kind == 0:
                    n = random.randrange(10**9)
                    start = f"{2100 + n % 5000:04d}-01-{n % 28 + 1:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
                    end = start[:-3] + "30Z"
                    user = f"soak-{n % 500}"
                    r = await http.post("/reservations", headers=key,
                                        json={"room_id": random.choice(rooms), "user_id": user, "start": start, "end": end})  # fmt: skip
                    if r.status_code == 201:
                        r = await http.get(
                            f"/users/{user}/reservations?page_size=5", headers={"X-Min-Position": r.headers["X-Position"]}
                        )
                else:
                    body = {"consumer_id": random.choice(consumers), "restaurant_id": random.choice(shops),
                            "line_items": [{"menu_item_id": "m1", "quantity": 1}], "delivery_address": "s"}  # fmt: skip
                    r = await http.post("/orders", headers=key, json=body)
                    if r.status_code == 201:
                        r = await http.get(f"/orders/{r.json()['id']}", headers={"X-Min-Position": r.headers["X-Position"]})
                ok = r.status_code < 400 or r.status_code == 409
            except httpx.HTTPError:
                ok = False
            window = windows[min(int((time.monotonic() - started) / window_s), len(windows) - 1)]
            window.latencies.append((time.perf_counter() - t0) * 1000)
            window.errors += not ok

        tasks: set[asyncio.Task[None]] = set()
        interval = 2 / rate  # each task is a command and a read
        next_at = time.monotonic()
        while time.monotonic() < until:
            task = asyncio.create_task(one(0 if random.random() < 0.7 else 1))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*tasks)


async def sample(url: str, base: str, pid: int) -> dict[str, Any]:
    proc = psutil.Process(pid)
    rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    conn = await asyncpg.connect(url)
    try:
        sizes = {t: await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", t) / 2**20 for t in TABLES}
        dead = {f"{r['schemaname']}.{r['relname']}": r["n_dead_tup"] for r in await conn.fetch(
            "SELECT schemaname, relname, n_dead_tup FROM pg_stat_user_tables")}  # fmt: skip
        rows = {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("command.idempotency_keys", "command.listener_deliveries")
        }
    finally:
        await conn.close()
    async with httpx.AsyncClient(timeout=30) as http:
        metrics = (await http.get(f"{base}/metrics")).text
    return {"rss_mb": rss, "sizes": sizes, "dead": dead, "rows": rows, "lag": metric_total(metrics, "subscription_lag_events")}


async def register_listeners(base: str, good: Receiver, flaky: Receiver, count: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for i in range(count):
            on_orders = i % 2 == 0
            body = {
                "name": f"soak-{i}",
                "event_types": ["orders.order_placed" if on_orders else "reservations.reservation_registered"],
                "target": {"kind": "webhook", "url": (flaky if i % 5 == 4 else good).url},
                **({} if on_orders else {"filter": f'$.user_id like_regex "{i % 10}$"'}),
            }
            r = await http.post("/listeners", json=body)
            r.raise_for_status()


async def views_equal_rebuilds(url: str) -> list[str]:
    pool = await create_pool(url, min_size=1, max_size=3)
    differ = []
    try:
        for view in modules.VIEWS.values():
            await build_shadow(pool, view, until=await view_position(pool, view.name))
            for table in view.tables:
                live = await pool.fetch(
                    f'SELECT * FROM query."{table}" EXCEPT SELECT * FROM "{shadow_schema(view.name)}"."{table}"'
                )
                rebuilt = await pool.fetch(
                    f'SELECT * FROM "{shadow_schema(view.name)}"."{table}" EXCEPT SELECT * FROM query."{table}"'
                )
                if live or rebuilt:
                    differ.append(f"{view.name}.{table}")
            await pool.execute(f'DROP SCHEMA "{shadow_schema(view.name)}" CASCADE')
            await pool.execute("DELETE FROM command.subscriptions WHERE name = $1", shadow_name(view.name))
    finally:
        await pool.close()
    return differ


async def soak(url: str, args: argparse.Namespace) -> None:
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "server.log"
    server = ServerProcess(url, log, **ENV)
    window_s = args.window * 60
    count = max(1, int(args.minutes / args.window))
    windows = [Window() for _ in range(count)]
    samples: list[dict[str, Any]] = []
    try:
        await asyncio.to_thread(server.wait_live)
        async with receiving() as good, receiving(Receiver(answer=lambda n: 500 if n % 50 == 0 else 200)) as flaky:
            await register_listeners(server.url, good, flaky, args.listeners)
            started = time.monotonic()
            load = asyncio.create_task(run_load(server.url, args.rate, started + count * window_s, windows, window_s, started))
            for i in range(count):
                await asyncio.sleep(max(0.0, started + (i + 1) * window_s - time.monotonic()))
                samples.append(await sample(url, server.url, server.process.pid))
                w, s = windows[i], samples[-1]
                lat = sorted(w.latencies) or [0.0]
                print(
                    f"window {i + 1:>2}: {len(w.latencies) / window_s:7.1f} commands/s (each read back)  p50 {statistics.median(lat):6.1f} ms  "
                    f"p99 {lat[int(len(lat) * 0.99) - 1 if len(lat) > 1 else 0]:7.1f} ms  errors {w.errors}  RSS {s['rss_mb']:6.0f} MB  "
                    f"lag {s['lag']:.0f}  keys {s['rows']['command.idempotency_keys']}  attempts {s['rows']['command.listener_deliveries']}  "
                    f"outbox {s['sizes']['command.outbox']:.0f} MB",
                    flush=True,
                )
            await load
            # Everything applied and sent (retries done) before the checks.
            pool = await create_pool(url, min_size=1, max_size=2)
            head = await committed_head(pool)
            await pool.close()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                conn = await asyncpg.connect(url)
                behind = await conn.fetchval(
                    "SELECT count(*) FROM command.subscriptions WHERE name NOT LIKE '%@rebuild' AND (xid, id) < ($1, $2)",
                    head.xid,
                    head.id,
                )
                pending = await conn.fetchval("SELECT count(*) FROM command.listener_queue WHERE status = 'pending'")
                await conn.close()
                if not behind and not pending:
                    break
                await asyncio.sleep(1)
            differ = await views_equal_rebuilds(url)
            conn = await asyncpg.connect(url)
            stats = await conn.fetch(
                "SELECT name, delivered, (SELECT count(*) FROM command.listener_queue q WHERE q.listener_id = l.id AND q.status = 'dead') AS dead FROM command.listeners l"
            )
            await conn.close()
            sent = {r.headers["webhook-id"] for r in good.received} | {r.headers["webhook-id"] for r in flaky.received}
            print(f"\nviews equal to a rebuild: {'all' if not differ else 'NOT ' + ', '.join(differ)}")
            print(f"listeners: {sum(r['delivered'] for r in stats):,} delivered, {sum(r['dead'] for r in stats)} dead letters, "
                  f"{len(sent):,} distinct events received; pending after the run: {pending}")  # fmt: skip
            first, last = samples[min(1, len(samples) - 1)], samples[-1]
            print(
                f"RSS second window -> last: {first['rss_mb']:.0f} -> {last['rss_mb']:.0f} MB ({last['rss_mb'] / first['rss_mb']:.2f})"
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--window", type=float, default=5, help="minutes a reported window")
    parser.add_argument("--rate", type=float, default=300, help="requests/s in all (commands and their reads)")
    parser.add_argument("--listeners", type=int, default=20)
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or embedded_server_url(ROOT / ".data", "postgres")
    with fresh_database(server_url) as url:
        asyncio.run(soak(url, args))


if __name__ == "__main__":
    main()
