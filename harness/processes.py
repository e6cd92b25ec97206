"""Real `app serve` processes, for the tests that kill, restart or run several of them and for
the benchmarks; fresh databases on a server; reading /metrics."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "json",
            "STANDBY_RETRY_S": "0.5",
            "AUTH_DISABLED": "true",  # tests/infra/web/test_access.py turns it on
            **env,
        }
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_live(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server not live: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database created (and migrated) on `server_url`'s server, dropped afterwards."""
    import asyncio
    import uuid

    import asyncpg

    from app.infra.migrations import upgrade

    maintenance = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    name = f"bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(maintenance)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
        upgrade(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def server_on_a_fresh_database(server_url: str, log_path: Path, **env: str) -> Iterator[ServerProcess]:
    """`app serve` on a fresh database: what the bench scripts that fill a database run against."""
    with fresh_database(server_url) as url:
        server = ServerProcess(url, log_path, **env)
        try:
            server.wait_live()
            yield server
        finally:
            server.stop()


def metric_total(metrics_text: str, name: str) -> float:
    """The sum of a Prometheus metric's samples over all its labels."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics_text.splitlines() if line.startswith(name))
