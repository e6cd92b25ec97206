"""alembic upgrade head and downgrade base both work, and upgrade again after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import asyncpg
import httpx

from app.infra.migrations import downgrade, head_revision, upgrade
from harness.processes import ROOT, ServerProcess
from tests.conftest import _admin, new_database, with_database


async def test_upgrade_downgrade_upgrade(server_url: str, template_database: str) -> None:
    name = await new_database(server_url, "template0")
    url = with_database(server_url, name)
    try:
        await anyio.to_thread.run_sync(upgrade, url)
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
            await conn.close()
            await anyio.to_thread.run_sync(downgrade, url)
            conn = await asyncpg.connect(url)
            left = await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname IN ('command', 'query')")
            assert left == 0
        finally:
            await conn.close()
        await anyio.to_thread.run_sync(upgrade, url)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_not_ready_while_migrations_are_behind(server_url: str, template_database: str) -> None:
    from app.http import create_app
    from tests.asgi import running_app
    from tests.conftest import settings_for

    name = await new_database(server_url, "template0")
    url = with_database(server_url, name)
    try:
        await anyio.to_thread.run_sync(upgrade, url, "0002")
        async with running_app(create_app(settings_for(url, run_subscriptions=False))) as client:
            ready = await client.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["migrations"] == {"current": "0002", "head": head_revision()}
            assert (await client.get("/health/live")).status_code == 200
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_head_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from app.infra.migrations import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def test_serve_skips_alembic_on_a_database_at_head(server_url: str, template_database: str) -> None:
    """`app serve` migrates a database that is behind, and at head does not even load
    alembic (a third of its start-up time)."""
    name = await new_database(server_url, "template0")
    url = with_database(server_url, name)
    check = (
        "import sys; from app.infra.migrations import upgrade_if_behind; "
        f"upgrade_if_behind({url!r}); print('alembic' in sys.modules)"
    )
    try:
        for expected in ("True", "False"):  # behind: migrated with alembic; then at head: not loaded
            done = await anyio.run_process([sys.executable, "-c", check], check=False)
            assert done.returncode == 0, done.stderr.decode()
            assert done.stdout.decode().strip() == expected
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
        finally:
            await conn.close()
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_first_deploy_of_several_containers_cannot_race(server_url: str, tmp_path: Path) -> None:
    """Four `app migrate` and three `app serve` started together on an empty database: the
    migrators take turns (an advisory lock), so every one succeeds and every server serves."""
    name = await new_database(server_url, "template0")
    url = with_database(server_url, name)
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "app", "migrate"]
    # Started together on purpose, and waited for below.
    migrators = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(4)]  # noqa: ASYNC220
    servers = [ServerProcess(url, tmp_path / f"serve-{i}.log") for i in range(3)]
    try:
        outputs = [(m.wait(60), m.stdout.read().decode() if m.stdout else "") for m in migrators]
        assert [code for code, _ in outputs] == [0, 0, 0, 0], outputs
        said = sorted(out.strip().splitlines()[-1] for _, out in outputs)
        assert said[-1].startswith("migrated from an empty database to "), said  # one of them did it
        for server in servers:
            await anyio.to_thread.run_sync(server.wait_live)
        async with httpx.AsyncClient(timeout=10) as http:
            for server in servers:
                assert (await http.get(f"{server.url}/rooms")).status_code == 200
    finally:
        for server in servers:
            server.stop()
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
