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


class AppProcess:
    """`app serve` in a process of its own, on a free port, its output in `log_path`."""

    def __init__(
        self, command: list[str], env: dict[str, str], log_path: Path, *, cwd: Path = ROOT, args: list[str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [*command, "serve", "--port", str(self.port), *(args or [])],
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, path: str = "/health/live", timeout: float = 30.0, every: float = 0.1) -> None:
        """Until `path` answers 200; RuntimeError if the process exits, TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app serve exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{path}", timeout=2).status_code == 200:
                    return
            time.sleep(every)
        raise TimeoutError(f"{path} did not answer in {timeout} s:\n{self.log()[-3000:]}")

    def wait_live(self, timeout: float = 30.0) -> None:
        self.wait_for("/health/live", timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class ServerProcess(AppProcess):
    """This checkout's `app serve` on `database_url`, with the tests' defaults and `env`."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "json",
            "STANDBY_RETRY_S": "0.5",
            "AUTH_DISABLED": "true",  # tests/infra/web/test_access.py turns it on
            **env,
        }
        super().__init__([sys.executable, "-m", "app"], environment, log_path)


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
