"""The `app` command as an operator meets it: bad arguments and an unreachable database are
one line each, and it says what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import httpx

from app.modules import PURGES, VIEWS
from harness.processes import ROOT, ServerProcess


def app(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_port_out_of_range_is_refused() -> None:
    done = app("serve", "--port", "99999")
    assert done.returncode == 2
    assert "--port: 99999 is not in 1-65535" in done.stderr


def test_an_unreachable_database_is_one_line() -> None:
    for command in (["serve"], ["migrate"], ["projections", "status"]):
        done = app(
            *command, DATABASE_URL="postgresql://postgres:secret@127.0.0.1:1/nowhere", LOG_FORMAT="json", AUTH_DISABLED="true"
        )
        assert done.returncode == 1, done
        errors = [line for line in done.stderr.splitlines() if not line.startswith("{")]
        assert len(errors) == 1 and errors[0].startswith("database error: cannot connect to"), done.stderr
        assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_serving_a_configured_database_without_auth_is_refused_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "configuration error: DATABASE_URL is set but no auth is configured: set AUTH_JWT_SECRET or AUTH_JWKS_URL "
        "(or AUTH_DISABLED=true to serve without auth)"
    ]


def test_a_short_secret_is_refused_and_app_token_mints_what_the_service_accepts() -> None:
    import jwt

    done = app("token", "--sub", "alice", "--role", "user", AUTH_JWT_SECRET="too short")
    assert done.returncode == 1 and done.stderr.strip() == "configuration error: AUTH_JWT_SECRET must be at least 32 bytes"
    secret = "s" * 32
    done = app("token", "--sub", "alice", "--role", "user", "--role", "consumer", "--ttl", "60", AUTH_JWT_SECRET=secret)
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["roles"] == ["user", "consumer"]
    assert 55 <= claims["exp"] - claims["iat"] <= 60


def test_version_and_the_views_a_rebuild_takes() -> None:
    assert app("--version").stdout.strip().startswith("app ")
    usage = app("projections", "rebuild", "--help").stdout
    assert all(name in usage for name in VIEWS)
    assert app("projections", "rebuild", "nothing").returncode == 2


def test_migrate_says_where_it_started_and_ended(database_url: str) -> None:
    done = app("migrate", DATABASE_URL=database_url, LOG_FORMAT="json")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("already at ")


def test_status_says_stopped_when_nobody_runs_a_subscription(database_url: str) -> None:
    done = app("projections", "status", DATABASE_URL=database_url, LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    subscriptions, purges = done.stdout.split("\n\n")
    rows = [line.split() for line in subscriptions.splitlines()[1:]]
    assert rows and all(row[1] == "stopped" for row in rows), done.stdout
    assert {line.split()[0] for line in purges.splitlines()[1:]} == {p.name for p in PURGES}


async def test_json_logs_are_json_lines_and_text_logs_keep_the_request_id(database_url: str, tmp_path: Path) -> None:
    for fmt in ("json", "text"):
        log = tmp_path / f"{fmt}.log"
        server = ServerProcess(database_url, log, LOG_FORMAT=fmt, RUN_SUBSCRIPTIONS="false")
        try:
            await anyio.to_thread.run_sync(server.wait_live)
            async with httpx.AsyncClient(timeout=10) as http:
                await http.get(f"{server.url}/rooms", headers={"X-Request-Id": "trace-me-1"})
                await http.delete(f"{server.url}/rooms", headers={"X-Request-Id": "trace-me-2"})
        finally:
            server.stop()
        lines = log.read_text().splitlines()
        if fmt == "json":
            records = [json.loads(line) for line in lines]  # every line, or this fails
            assert not any("color_message" in r for r in records)
            access = [r for r in records if r["logger"] == "app.access"]
            assert {r["request_id"] for r in access} >= {"trace-me-1", "trace-me-2"}
        else:
            assert any("trace-me-1" in line and "/rooms" in line for line in lines)
            assert any("trace-me-2" in line and "405" in line for line in lines)  # a routing error is logged too


async def test_metrics_say_their_content_type_once(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert f'app_process{{pid="{os.getpid()}"}} 1' in response.text
