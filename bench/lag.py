"""End-to-end freshness at light load: command commit -> visible in each view.

Starts `app serve` in a child process (DATABASE_URL, or the embedded PostgreSQL),
sends one reservation every `--interval` seconds, and for each one asks every
reservation view to wait for its X-Position. The lag of a view is the time from
the command's response (its commit) to the view's answer, minus the median cost of
the same GET on an already-fresh view (the HTTP round trip), so it is the time the
view took to apply the event.

    uv run python bench/lag.py --seconds 30 --interval 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.processes import ServerProcess

VIEWS = {
    "user_reservations": "/users/bench-lag/reservations?page_size=1",
    "reservation_history": "/users/bench-lag/reservation-history?page_size=1",
    "room_popularity": "/rooms/popularity?from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z",
    "rooms": "/rooms?page_size=1",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str, seconds: float, interval: float) -> dict[str, list[float]]:
    lags: dict[str, list[float]] = {v: [] for v in VIEWS}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        room = (await http.post("/rooms", json={"name": "bench lag room", "capacity": 1})).json()
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
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=0.05)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if database_url is None:
        from app.infra.db import embedded_server_url

        database_url = embedded_server_url(Path(".data"), "bench_lag")
    log = Path(tempfile.gettempdir()) / "bench-lag-server.log"
    server = ServerProcess(database_url, log, LOG_LEVEL="WARNING")
    try:
        server.wait_live()
        lags = asyncio.run(run(server.url, args.seconds, args.interval))
    finally:
        server.stop()
    version = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"commit {version}; {args.seconds:.0f}s at one command every {args.interval * 1000:.0f} ms")
    print(f"{'view':<22} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for view, values in lags.items():
        ms = [v * 1000 for v in values]
        print(f"{view:<22} {len(ms):>6} {pct(ms, 0.5):>8.2f} {pct(ms, 0.99):>8.2f} {max(ms):>8.2f}")


if __name__ == "__main__":
    main()
