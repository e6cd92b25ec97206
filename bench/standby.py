"""Reads through a hot standby (issue 15), on this machine: a standby of the test server
made with pg_basebackup -R (tests/standby.py), so it shares the two cores with the primary
and no speed-up is claimed. Measured, at light load (one write at a time):

* commit -> visible: from a POST /reservations answer until the view's checkpoint has
  reached its position, on the primary and on the standby (each polled every 0.2 ms);
* a read that must wait: GET /users/{id}/reservations with X-Min-Position sent right after
  the POST, through an HTTP-only process reading the primary and one reading the standby;
  and the same GET without X-Min-Position (a read that does not wait), for comparison.

    uv run python -m bench.standby --writes 300        # on the tests' server (embedded PostgreSQL when unset)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python -m bench.standby
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

from app.infra.db import embedded_server_url
from app.infra.outbox import Position
from harness.processes import ServerProcess, fresh_database, metric_total
from harness.standby import standby_of

ROOT = Path(__file__).resolve().parents[1]

CHECKPOINT = "SELECT xid, id FROM command.subscriptions WHERE name = 'user_reservations'"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def line(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return f"{name:<52} p50 {percentile(ms, 50):7.2f} ms   p99 {percentile(ms, 99):7.2f} ms   (n={len(ms)})"


async def visible_at(conn: asyncpg.Connection, target: Position, started: float) -> float:
    while True:
        row = await conn.fetchrow(CHECKPOINT)
        if row is not None and Position(row["xid"], row["id"]) >= target:
            return time.perf_counter() - started
        await asyncio.sleep(0.0002)


async def measure(server_url: str, database_url: str, writes: int) -> None:
    database = urlsplit(database_url).path.lstrip("/")
    async with standby_of(server_url) as standby:
        standby_url = standby.url(database)
        logs = Path(tempfile.mkdtemp())
        quiet = {"LOG_LEVEL": "WARNING"}
        writer = ServerProcess(database_url, logs / "writer.log", **quiet)
        on_primary = ServerProcess(database_url, logs / "primary.log", RUN_SUBSCRIPTIONS="false", **quiet)
        on_standby = ServerProcess(
            database_url, logs / "standby.log", RUN_SUBSCRIPTIONS="false", QUERY_DATABASE_URLS=standby_url, **quiet
        )
        servers = [writer, on_primary, on_standby]
        try:
            for server in servers:
                await asyncio.to_thread(server.wait_live)
            primary_conn = await asyncpg.connect(database_url)
            standby_conn = await asyncpg.connect(standby_url)
            results: dict[str, list[float]] = {k: [] for k in ("vis_p", "vis_s", "wait_p", "wait_s", "plain_p", "plain_s")}
            async with httpx.AsyncClient(timeout=15) as http:
                room = (await http.post(f"{writer.url}/rooms", json={"name": "bench", "capacity": 1})).json()

                async def post(n: int) -> tuple[str, float]:
                    day, minute = divmod(n, 1440)
                    start = f"2030-{1 + day // 28:02d}-{1 + day % 28:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
                    end = f"2030-{1 + day // 28:02d}-{1 + day % 28:02d}T{minute // 60:02d}:{minute % 60:02d}:30Z"
                    r = await http.post(
                        f"{writer.url}/reservations",
                        json={"room_id": room["id"], "user_id": f"u{n % 50}", "start": start, "end": end},
                    )
                    assert r.status_code == 201, r.text
                    return r.headers["X-Position"], time.perf_counter()

                async def get(server: ServerProcess, n: int, token: str | None) -> float:
                    headers = {"X-Min-Position": token} if token else {}
                    started = time.perf_counter()
                    r = await http.get(f"{server.url}/users/u{n % 50}/reservations", headers=headers)
                    assert r.status_code == 200, r.text
                    return time.perf_counter() - started

                for n in range(writes):
                    # commit -> visible on each
                    token, answered = await post(4 * n)
                    target = Position.parse(token)
                    vis_p, vis_s = await asyncio.gather(
                        visible_at(primary_conn, target, answered), visible_at(standby_conn, target, answered)
                    )
                    results["vis_p"].append(vis_p)
                    results["vis_s"].append(vis_s)
                    # a read that must wait, on each (a write of its own each)
                    token, _ = await post(4 * n + 1)
                    results["wait_p"].append(await get(on_primary, n, token))
                    token, _ = await post(4 * n + 2)
                    results["wait_s"].append(await get(on_standby, n, token))
                    # a read that does not wait
                    results["plain_p"].append(await get(on_primary, n, None))
                    results["plain_s"].append(await get(on_standby, n, None))
                metrics = (await http.get(f"{on_standby.url}/metrics")).text
            standby_reads = metric_total(metrics, "query_standby_reads_total")
            await primary_conn.close()
            await standby_conn.close()
        finally:
            for server in servers:
                server.stop()
    print(f"{writes} writes, one at a time; the standby process served {standby_reads:.0f} reads from the standby")
    print(line("commit -> visible, primary", results["vis_p"]))
    print(line("commit -> visible, standby", results["vis_s"]))
    print(line("GET with X-Min-Position right after, primary", results["wait_p"]))
    print(line("GET with X-Min-Position right after, standby", results["wait_s"]))
    print(line("GET without X-Min-Position, primary", results["plain_p"]))
    print(line("GET without X-Min-Position, standby", results["plain_s"]))
    extra = [s - p for p, s in zip(results["vis_p"], results["vis_s"], strict=True)]
    print(line("standby - primary, commit -> visible (same write)", extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or embedded_server_url(ROOT / ".data" / "test", "postgres")
    with fresh_database(server_url) as database_url:
        asyncio.run(measure(server_url, database_url, args.writes))


if __name__ == "__main__":
    main()
