"""End-to-end freshness: command commit -> visible in each view, alone or under load.

Starts `app serve` in a child process (DATABASE_URL, or the embedded PostgreSQL).

* Server side (every event): the app's `subscription_freshness_seconds` histogram, from
  an event's outbox row (written last in its command's transaction) to the commit of
  the view's transaction that applied it; read from /metrics before and after the run.
* Client side (a probe): one reservation every `--interval` seconds, then every
  reservation view is asked to wait for its X-Position; lag = the view's answer - the
  command's answer - the median cost of the same GET on an already-fresh view.

`--load-rps N` adds background load: wrk (bench/reserve.lua) sending POST /reservations
at about N requests/s over `--connections` connections, for the whole run.

    uv run python -m bench.lag --seconds 30 --interval 0.05 [--load-rps 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from harness.processes import ServerProcess

VIEWS = {
    "user_reservations": "/users/bench-lag/reservations?page_size=1",
    "reservation_history": "/users/bench-lag/reservation-history?page_size=1",
    "room_popularity": "/rooms/popularity?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z",
    "rooms": "/rooms?page_size=1",
}


FRESHNESS = re.compile(r'subscription_freshness_seconds_bucket\{subscription="([^"]+)",le="([^"]+)"\} (\d+)')


async def freshness_buckets(http: httpx.AsyncClient, metrics_url: str) -> dict[str, list[tuple[float, int]]]:
    """Cumulative (upper bound, count) per subscription from /metrics."""
    found: dict[str, list[tuple[float, int]]] = {}
    for name, le, count in FRESHNESS.findall((await http.get(f"{metrics_url}/metrics")).text):
        found.setdefault(name, []).append((float("inf") if le == "+Inf" else float(le), int(count)))
    return found


def bucket_quantile(before: list[tuple[float, int]], after: list[tuple[float, int]], q: float) -> tuple[float, int]:
    """The q-quantile (linear within a bucket, as Prometheus does) of the observations
    made between two snapshots of a cumulative histogram; and their number."""
    counts = [(bound, a - b) for (bound, a), (_, b) in zip(after, before, strict=True)]
    total = counts[-1][1]
    if total == 0:
        return float("nan"), 0
    rank, low, below = q * total, 0.0, 0
    for bound, cumulative in counts:
        if cumulative >= rank:
            if bound == float("inf"):
                return low, total
            inside = cumulative - below
            return low + (bound - low) * ((rank - below) / inside if inside else 1.0), total
        low, below = bound, cumulative
    return low, total


def start_load(url: str, rooms: list[str], rps: float, connections: int, seconds: float) -> subprocess.Popen[str]:
    if shutil.which("wrk") is None:
        subprocess.run("apt-get update -qq && apt-get install -y -qq wrk", shell=True, check=True)
    script = Path(__file__).with_name("reserve.lua")
    env = {**os.environ, "ROOMS": ",".join(rooms), "DELAY_MS": str(int(connections * 1000 / rps))}
    command = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "-s", str(script), url]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Result:
    def __init__(self) -> None:
        self.probe: dict[str, list[float]] = {v: [] for v in VIEWS}
        self.server: dict[str, tuple[float, float, int]] = {}
        self.load = ""


async def run(url: str, metrics_url: str, seconds: float, interval: float, load_rps: float, connections: int) -> Result:
    result = Result()
    lags = result.probe
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        room = (await http.post("/rooms", json={"name": "bench lag room", "capacity": 1})).json()
        load = None
        if load_rps > 0:
            rooms = [(await http.post("/rooms", json={"name": f"load {i}", "capacity": 1})).json()["id"] for i in range(20)]
            load = start_load(url, rooms, load_rps, connections, seconds + 4)
            await asyncio.sleep(2)  # the load settles before anything is measured
        before = await freshness_buckets(http, metrics_url)
        baseline = []
        for _ in range(50):
            t = time.perf_counter()
            await http.get(VIEWS["user_reservations"], headers={"X-Min-Position": room["position"]})
            baseline.append(time.perf_counter() - t)
        round_trip = statistics.median(baseline)
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            i += 1
            minute = i % 1440
            body = {
                "room_id": room["id"],
                "user_id": "bench-lag",
                "start": f"2030-01-{1 + i // 1440:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z",
                "end": f"2030-01-{1 + i // 1440:02d}T{minute // 60:02d}:{minute % 60:02d}:30Z",
            }
            r = await http.post("/reservations", json=body)
            committed = time.perf_counter()
            if r.status_code != 201:
                continue
            token = r.headers["X-Position"]

            async def wait(view: str, path: str, token: str = token, committed: float = committed) -> None:
                g = await http.get(path, headers={"X-Min-Position": token, "X-Wait-Ms": "5000"})
                assert g.status_code == 200, g.text
                lags[view].append(max(0.0, time.perf_counter() - committed - round_trip))

            await asyncio.gather(*(wait(v, p) for v, p in VIEWS.items()))
            await asyncio.sleep(interval)
        after = await freshness_buckets(http, metrics_url)
        for view in VIEWS:
            if view in before and view in after:
                p50, n = bucket_quantile(before[view], after[view], 0.5)
                p99, _ = bucket_quantile(before[view], after[view], 0.99)
                result.server[view] = (p50, p99, n)
        if load is not None:
            out, _ = load.communicate()
            rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
            result.load = f"background load: {rate[1] if rate else '?'} POST /reservations per second (wrk)"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--load-rps", type=float, default=0, help="background POST /reservations per second")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the background load")
    parser.add_argument(
        "--split",
        action="store_true",
        help="HTTP in one process (RUN_SUBSCRIPTIONS=false), the subscriptions in a second one",
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if database_url is None:
        from app.infra.db import embedded_server_url

        database_url = embedded_server_url(Path(".data"), "bench_lag")
    log = Path(tempfile.gettempdir()) / "bench-lag-server.log"
    server = ServerProcess(database_url, log, LOG_LEVEL="WARNING", RUN_SUBSCRIPTIONS=str(not args.split).lower())
    subscriber = ServerProcess(database_url, log, LOG_LEVEL="WARNING") if args.split else None
    try:
        server.wait_live()
        if subscriber is not None:
            subscriber.wait_live()
        metrics_url = (subscriber or server).url
        result = asyncio.run(run(server.url, metrics_url, args.seconds, args.interval, args.load_rps, args.connections))
    finally:
        server.stop()
        if subscriber is not None:
            subscriber.stop()
    version = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    topology = "HTTP and subscriptions in two processes" if args.split else "one process"
    print(f"commit {version}; {args.seconds:.0f}s, a probe command every {args.interval * 1000:.0f} ms; {topology}")
    if result.load:
        print(result.load)
    print("server side, every event applied (subscription_freshness_seconds):")
    print(f"{'view':<22} {'events':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for view, (p50, p99, n) in result.server.items():
        print(f"{view:<22} {n:>8} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f}")
    print("client side, the probe (HTTP answer of the view - answer of the command - a GET's round trip):")
    print(f"{'view':<22} {'n':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for view, values in result.probe.items():
        ms = [v * 1000 for v in values]
        print(f"{view:<22} {len(ms):>8} {pct(ms, 0.5):>8.2f} {pct(ms, 0.99):>8.2f} {max(ms):>8.2f}")


if __name__ == "__main__":
    main()
