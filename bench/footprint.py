"""Footprint: time for `app serve` to be ready on a migrated database, and the process's
RSS idle and under a `POST /reservations` load from wrk (issue #4, item 5).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_tp uv run python -m bench.footprint --seconds 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from app.infra.migrations import upgrade
from harness.processes import ServerProcess

LUA = """
request = function()
  local n = math.random(1, 1000000000)
  local body = string.format('{"room_id":"%s","user_id":"fp","start":"%04d-0%d-01T00:%02d:00Z","end":"%04d-0%d-01T00:%02d:30Z"}',
    ROOM, 2100 + n % 7000, 1 + n % 9, n % 60, 2100 + n % 7000, 1 + n % 9, n % 60)
  return wrk.format("POST", "/reservations", {["Content-Type"] = "application/json"}, body)
end
"""


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    upgrade(url)  # "ready on a migrated database": migration time is not counted
    started = time.perf_counter()
    server = ServerProcess(url, Path(tempfile.gettempdir()) / "bench-footprint.log", LOG_LEVEL="WARNING")
    try:
        server.wait_for("/health/ready", timeout=120, every=0.02)
        ready_s = time.perf_counter() - started
        pid = server.process.pid
        idle = rss_mb(pid)
        room = httpx.post(f"{server.url}/rooms", json={"name": "fp", "capacity": 1}).json()["id"]
        peak = idle
        if shutil.which("wrk"):
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(LUA.replace("ROOM", f'"{room}"'))
            load = subprocess.Popen(
                ["wrk", "-t2", "-c32", f"-d{args.seconds}s", "-s", script.name, server.url], stdout=subprocess.PIPE, text=True
            )
            while load.poll() is None:
                peak = max(peak, rss_mb(pid))
                time.sleep(0.2)
            print([line for line in (load.stdout.read() if load.stdout else "").splitlines() if "Requests/sec" in line])
        else:
            print("wrk not installed (apt-get install wrk): RSS under load not measured")
    finally:
        server.stop()
    print(f"ready in {ready_s:.2f} s (target <= 3 s); RSS idle {idle:.0f} MB, peak under load {peak:.0f} MB (target <= 250 MB)")


if __name__ == "__main__":
    main()
