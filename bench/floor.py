"""The framework's floor: what one request costs in a Litestar app that does nothing else.

Issue #4's targets leave each request a CPU budget on the machine's two cores (the ratio
against pgbench, or the throughput a p99 at 64 clients needs). Part of it goes to
PostgreSQL; this measures the part no handler of ours can go below: uvicorn (uvloop,
httptools, as `app serve` runs it) and Litestar decoding a body or query parameters into
typed values and encoding the answer, with no database and no middleware of ours.

Three apps, the same server settings, wrk at the given concurrency:
* `asgi`: a bare ASGI callable answering 201 with a fixed body (the server alone);
* `post`: Litestar, POST /reservations with the body of bench/reserve.lua into a struct;
* `get`: Litestar, GET /restaurants/available?lat&lon&at into typed query parameters.

    uv run python -m bench.floor [--seconds 15] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID, uuid4

import msgspec

BENCH = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")


async def asgi(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # type: ignore[operator]
        pass
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b'{"id":"0192f0c2-7a3e-7c4b-9c1e-1234567890ab"}'})  # type: ignore[operator]


class Reserve(msgspec.Struct):
    room_id: UUID
    user_id: str
    start: datetime
    end: datetime


class Created(msgspec.Struct):
    id: UUID


class Nearby(msgspec.Struct):
    items: list[str]


def litestar_app() -> object:
    from litestar import Litestar, get, post

    @post("/reservations", status_code=201)
    async def reserve(data: Reserve) -> Created:
        return Created(id=uuid4())

    @get("/restaurants/available")
    async def available(lat: float, lon: float, at: datetime) -> Nearby:
        return Nearby(items=[])

    return Litestar([reserve, available], openapi_config=None)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def machine_ticks() -> int:
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in Path("/proc/stat").read_text().split()[1:8])
    return user + nice + system + irq + softirq


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(app: str, script: Path, env: dict[str, str], seconds: int, connections: int) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
         "--no-access-log", "--log-level", "warning", "--app-dir", str(BENCH.parent)],
        **({"env": {**os.environ, "PYTHONPATH": str(BENCH.parent)}}),
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        wrk = ["wrk", "-t2", f"-c{connections}", "-s", str(script), f"http://127.0.0.1:{port}"]
        subprocess.run([*wrk[:3], "-d3s", *wrk[3:]], env=env, capture_output=True, check=True)  # warm-up
        app0, all0 = cpu_ticks(server.pid), machine_ticks()
        out = subprocess.run(
            [*wrk[:3], f"-d{seconds}s", "--latency", *wrk[3:]], env=env, capture_output=True, text=True, check=True
        )
        app_ms, all_ms = ((cpu_ticks(server.pid) - app0) * 1000 / TICKS, (machine_ticks() - all0) * 1000 / TICKS)
    finally:
        server.terminate()
        server.wait()
    done = int(re.search(r"(\d+) requests in", out.stdout)[1])  # type: ignore[index]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)[1])  # type: ignore[index]
    p99 = re.search(r"99%\s+(\S+)", out.stdout)[1]  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    print(
        f"{app.partition(':')[2]:<14} {rate:>9,.0f} req/s  p99 {p99:>8}  CPU per request: server {app_ms / done:.3f} ms, "
        f"whole machine {all_ms / done:.3f} ms" + (f"  ({non2xx[1]} non-2xx!)" if non2xx else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as get_script:
        get_script.write(
            'request = function() return wrk.format("GET", string.format('
            '"/restaurants/available?lat=%.4f&lon=%.4f&at=2027-03-01T19:00:00Z", 36 + math.random() * 24, '
            "-9 + math.random() * 33)) end\n"
        )
    post_env = {**os.environ, "ROOMS": "0192f0c2-7a3e-7c4b-9c1e-1234567890ab"}
    print(f"{args.connections} connections, {args.seconds} s each (wrk on the same machine)")
    measure("bench.floor:asgi", BENCH / "reserve.lua", post_env, args.seconds, args.connections)
    measure("bench.floor:litestar_post", BENCH / "reserve.lua", post_env, args.seconds, args.connections)
    measure("bench.floor:litestar_get", Path(get_script.name), dict(os.environ), args.seconds, args.connections)


def __getattr__(name: str) -> object:
    # uvicorn imports `bench.floor:litestar_post` / `:litestar_get`: one app, built on demand.
    if name in ("litestar_post", "litestar_get"):
        return litestar_app()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
