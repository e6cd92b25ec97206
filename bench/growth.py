"""The log's cost (issue #22, item 4): the same measurements on an empty database and after
the outbox has grown to --events events, in one run.

1. An empty database: POST /reservations and POST /orders throughput (wrk, bench/reserve.lua
   and bench/order.lua), a read's p99 (GET /consumers/{id}/orders with keywords and status,
   bench/reads.lua), and the catch-up of a new view (user_reservations built into a shadow
   from the log, events/s).
2. The log grows to --events: the events of step 1 (a realistic mix of both businesses,
   with the saga's steps) copied over and over with new event ids, every subscription's
   checkpoint then moved to the head (as if applied: the copies' business rows exist once).
3. The same measurements again, plus: bytes per event on disk (the outbox with its
   indexes), and the registration of a listener with a past `starts_at` (it matches the
   whole log inside its transaction; its filter here matches nothing, so the figure is the
   scan alone).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python -m bench.growth --events 20000000

DATABASE_URL names a server (any database on it): the run makes a database of its own there
and drops it after. Without it, the embedded server under .data is used. Needs wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app import modules
from app.infra.db import create_pool, embedded_server_url
from app.infra.outbox import Position, committed_head
from app.infra.rebuild import build_shadow, shadow_name, shadow_schema
from harness.processes import ROOT, ServerProcess, fresh_database

ENV = {"AUTH_DISABLED": "true", "LOG_LEVEL": "WARNING", "RUN_SUBSCRIPTIONS": "true", "DB_POOL_MAX_SIZE": "8"}
COPY_AT_ONCE = 1_000_000


def wrk(url: str, script: str, seconds: int, connections: int, env: dict[str, str]) -> tuple[float, float]:
    """(requests/s, p99 ms) of a wrk run."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / script), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def seed(server: ServerProcess) -> dict[str, str]:
    """Rooms, consumers and restaurants for the load scripts (their ids, as the scripts take them)."""
    with httpx.Client(base_url=server.url, timeout=30) as http:

        def post(path: str, body: dict[str, Any]) -> str:
            r = http.post(path, json=body)
            r.raise_for_status()
            return str(r.json()["id"])

        rooms = [post("/rooms", {"name": f"g-{i}", "capacity": 1}) for i in range(100)]
        consumers = [post("/consumers", {"name": f"g-{i}", "credit_limit": "99999999.00"}) for i in range(100)]
        menu = [{"id": "m1", "name": "Margherita pizza", "price": "9.50"}, {"id": "m2", "name": "Curry", "price": "4.00"}]
        body = {"address": "g", "lat": 48.85, "lon": 2.35, "delivery_radius_km": 5, "opening_hours": [], "menu": menu}
        restaurants = [post("/restaurants", {"name": f"g-{i}", **body}) for i in range(20)]
    listing = Path(tempfile.mkstemp(prefix="growth-consumers-")[1])
    listing.write_text("\n".join(consumers) + "\n")
    return {
        "ROOMS": ",".join(rooms),
        "CONSUMERS": ",".join(consumers),
        "RESTAURANTS": ",".join(restaurants),
        "LIST": str(listing),
    }


def measure(server: ServerProcess, url: str, ids: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    """The commands' throughput, then (every subscription caught up with them) a read's p99."""
    reservations, _ = wrk(server.url, "reserve.lua", seconds, connections, {"ROOMS": ids["ROOMS"]})
    orders, _ = wrk(server.url, "order.lua", seconds, connections, ids)
    asyncio.run(caught_up(url))
    _, read_p99 = wrk(server.url, "reads.lua", seconds, connections, {"READ": "history", "CONSUMERS": ids["LIST"]})
    return {"reservations": reservations, "orders": orders, "read_p99_ms": read_p99}


async def caught_up(url: str, timeout: float = 600) -> None:
    """Until every subscription has applied the committed head (the load's saga included)."""
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        head = await committed_head(pool)
        names = [s.name for s in modules.SUBSCRIPTIONS]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = await pool.fetch("SELECT xid, id FROM command.subscriptions WHERE name = ANY($1::text[])", names)
            if len(rows) == len(names) and all((r["xid"], r["id"]) >= (head.xid, head.id) for r in rows):
                return
            await asyncio.sleep(0.5)
        raise TimeoutError("the subscriptions did not catch up")
    finally:
        await pool.close()


async def new_view_catch_up(url: str, events: int) -> float:
    """Events/s of user_reservations built from the start of the log into a shadow, over
    its first `events` events (all of them if fewer)."""
    view = modules.VIEWS["user_reservations"]
    pool = await create_pool(url, min_size=1, max_size=3)
    try:
        until = await pool.fetchrow(
            "SELECT xid, id FROM (SELECT xid, id FROM command.outbox ORDER BY xid, id LIMIT $1) AS first ORDER BY xid DESC, id DESC LIMIT 1",
            events,
        )
        done = [0]
        started = time.perf_counter()
        await build_shadow(
            pool, view, until=Position(until["xid"], until["id"]), on_progress=lambda p: done.__setitem__(0, p.done)
        )
        return done[0] / (time.perf_counter() - started)
    finally:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{shadow_schema(view.name)}" CASCADE')
        await pool.execute("DELETE FROM command.subscriptions WHERE name = $1", shadow_name(view.name))
        await pool.close()


async def grow(url: str, target: int) -> int:
    """Copies the log's events (new ids) until it holds `target`; moves every checkpoint to the head."""
    conn = await asyncpg.connect(url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM command.outbox")
        originals = count
        while count < target:
            batch = min(COPY_AT_ONCE, target - count, originals * max(1, count // originals))
            await conn.execute(
                """INSERT INTO command.outbox (event_id, type, version, stream_id, payload, metadata)
                   SELECT gen_random_uuid(), type, version, stream_id, payload, metadata
                   FROM command.outbox ORDER BY xid, id LIMIT $1""",
                batch,
            )
            count += batch
            print(f"  the log holds {count:,} events", flush=True)
        await conn.execute(
            """UPDATE command.subscriptions s SET xid = h.xid, id = h.id, stalled = false
               FROM (SELECT xid, id FROM command.outbox ORDER BY xid DESC, id DESC LIMIT 1) AS h"""
        )
        await conn.execute("VACUUM (ANALYZE) command.outbox")
        return int(count)
    finally:
        await conn.close()


async def bytes_per_event(url: str) -> float:
    conn = await asyncpg.connect(url)
    try:
        size = await conn.fetchval("SELECT pg_total_relation_size('command.outbox')")
        return float(size) / float(await conn.fetchval("SELECT count(*) FROM command.outbox"))
    finally:
        await conn.close()


def register_backfilling_listener(server: ServerProcess, url: str) -> tuple[float, int, float]:
    """(seconds to answer, status, seconds until the dispatcher has matched the whole past) of
    registering a listener with a past starts_at (its filter matches nothing: the scan alone)."""
    body = {
        "name": "backfill",
        "event_types": ["orders.order_placed"],
        "filter": "$.total.double() > 1000000000000",
        "target": {"kind": "nats", "subject": "growth.orders"},
        "starts_at": "2000-01-01T00:00:00Z",
    }
    started = time.perf_counter()
    r = httpx.post(f"{server.url}/listeners", json=body, timeout=120)
    answered = time.perf_counter() - started
    asyncio.run(_matched_the_past(url, r.json().get("id")))
    return answered, r.status_code, time.perf_counter() - started


async def _matched_the_past(url: str, listener_id: str | None, timeout: float = 1800) -> None:
    if listener_id is None:
        return
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while await conn.fetchval("SELECT rematch_xid IS NOT NULL FROM command.listeners WHERE id = $1::uuid", listener_id):
            if time.monotonic() > deadline:
                raise TimeoutError("the backfill did not finish")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000_000, help="the log's size for the second measurement")
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--catch-up-events", type=int, default=1_000_000, help="events a new view is built over")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    server_url = os.environ.get("DATABASE_URL") or embedded_server_url(ROOT / ".data", "postgres")
    log = Path(tempfile.mkdtemp(prefix="growth-")) / "server.log"
    with fresh_database(server_url) as url:
        server = ServerProcess(url, log, **ENV)
        try:
            server.wait_live()
            ids = seed(server)
            empty = measure(server, url, ids, args.seconds, args.connections)
            empty_bytes = asyncio.run(bytes_per_event(url))
            empty_backfill = register_backfilling_listener(server, url)
        finally:
            server.stop()
        empty["catch_up"] = asyncio.run(new_view_catch_up(url, args.catch_up_events))
        started = time.perf_counter()
        size = asyncio.run(grow(url, args.events))
        print(f"grew the log to {size:,} events in {time.perf_counter() - started:.0f} s", flush=True)
        server = ServerProcess(url, log, **ENV)
        try:
            server.wait_live()
            full = measure(server, url, ids, args.seconds, args.connections)
            full_backfill = register_backfilling_listener(server, url)
        finally:
            server.stop()
        full["catch_up"] = asyncio.run(new_view_catch_up(url, args.catch_up_events))
        full_bytes = asyncio.run(bytes_per_event(url))
    rows = [
        ("POST /reservations req/s", empty["reservations"], full["reservations"]),
        ("POST /orders req/s", empty["orders"], full["orders"]),
        ("GET /consumers/{id}/orders p99 ms", empty["read_p99_ms"], full["read_p99_ms"]),
        ("new view's catch-up, events/s", empty["catch_up"], full["catch_up"]),
        ("listener with a past starts_at: registration s", empty_backfill[0], full_backfill[0]),
        ("listener with a past starts_at: whole past matched, s", empty_backfill[2], full_backfill[2]),
        ("outbox bytes per event (with indexes)", empty_bytes, full_bytes),
    ]
    print(f"\n{'figure':<48} {'empty':>12} {f'{size:,} events':>16} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<48} {a:>12,.1f} {b:>16,.1f} {b / a if a else 0:>7.3f}")
    print(f"registration statuses: empty {empty_backfill[1]}, full {full_backfill[1]}")
    print(json.dumps({"events": size, "empty": empty, "full": full}))


if __name__ == "__main__":
    main()
