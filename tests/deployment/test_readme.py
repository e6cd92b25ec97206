"""The README as a user runs it: the real `app` program in a subprocess, with none of the
app's variables set but those the README sets, called over HTTP. (Tests that build the app
in-process cannot see what broke the first command for every new user.)"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from app.config import _ENV
from harness.processes import ROOT, AppProcess

README = (ROOT / "README.md").read_text()
APP = Path(sys.executable).parent / "app"  # the console script `uv run app` runs


def scrubbed(**env: str) -> dict[str, str]:
    """This machine's environment without any variable the app reads, plus `env`."""
    app_variables = {*_ENV, "TEST_DATABASE_URL"}
    return {**{k: v for k, v in os.environ.items() if k not in app_variables}, **env}


def run(*args: str, cwd: Path, env: dict[str, str], app: Path = APP) -> subprocess.CompletedProcess[str]:
    return subprocess.run([app, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def serving(args: list[str], cwd: Path, env: dict[str, str], app: Path = APP) -> Iterator[AppProcess]:
    """`app serve ...` as a user starts it (from `cwd`), until /health/ready answers."""
    program = AppProcess([str(app)], env, cwd / f"serve-{uuid.uuid4().hex[:8]}.log", cwd=cwd, args=args)
    try:
        try:
            program.wait_for("/health/ready", timeout=90, every=0.2)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(str(exc))
        yield program
    finally:
        program.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of a user's own: the embedded PostgreSQL goes to its ./.data, as on a fresh
    clone; stopped at the end (PostgreSQL's fast shutdown)."""
    folder = tmp_path_factory.mktemp("user")
    yield folder
    pid_file = folder / ".data" / "pg" / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)


def sh_blocks_after(heading: str) -> list[str]:
    """The ```sh blocks of the README section that starts at `heading`."""
    section = README[README.index(heading) :]
    section = section[: section.index("\n### ", 1)] if "\n### " in section[1:] else section
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_quick_start_serves_the_embedded_database_with_auth_off_and_the_walk_through_runs(home: Path) -> None:
    assert "uv run app serve " in README[: README.index("## Configuration")]
    with serving([], home, scrubbed()) as server:
        assert "auth is OFF" in server.log()
        blocks = sh_blocks_after("### A walk through the API with curl")
        assert len(blocks) == 2
        script = "\n".join(blocks).replace("API=http://localhost:8000", f"API={server.url}")
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"room_name":"Blue room"' in done.stdout
    assert '"state":"DELIVERED"' in done.stdout and '"payment":{"status":"settled"}' in done.stdout


def test_two_workers_serve_the_embedded_database_and_read_their_writes(home: Path) -> None:
    with serving(["--workers", "2"], home, scrubbed()) as server:
        pids: set[str] = set()
        for _ in range(200):
            room = httpx.post(f"{server.url}/rooms", json={"name": f"Worker room {len(pids)}", "capacity": 2}, timeout=10)
            assert room.status_code == 201, room.text
            rooms = httpx.get(
                f"{server.url}/rooms?page_size=100", headers={"X-Min-Position": room.headers["X-Position"]}, timeout=10
            )
            assert rooms.status_code == 200 and room.json()["id"] in {r["id"] for r in rooms.json()["items"]}, rooms.text
            metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
            pids |= set(re.findall(r'app_process\{pid="(\d+)"\}', metrics))
            if len(pids) == 2:
                break
        assert len(pids) == 2, "both workers answer"
        assert server.log().count("auth is OFF") == 2


def test_the_auth_example_a_token_from_app_token_and_a_call_without_it(home: Path) -> None:
    example = README[README.index("### With auth on") :]
    assert "export AUTH_JWT_SECRET=$(openssl rand -hex 32)" in example
    assert "TOKEN=$(uv run app token --sub alice --role user)" in example
    env = scrubbed(AUTH_JWT_SECRET=secrets.token_hex(32))
    with serving([], home, env) as server:
        token = run("token", "--sub", "alice", "--role", "user", cwd=home, env=env)
        assert token.returncode == 0, token.stderr
        mine = f"{server.url}/users/alice/reservations"
        assert httpx.get(mine, headers={"Authorization": f"Bearer {token.stdout.strip()}"}).status_code == 200
        anonymous = httpx.get(mine)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        assert "auth is OFF" not in server.log()


def test_migrate_projections_status_and_version_as_a_user_runs_them(home: Path) -> None:
    migrated = run("migrate", cwd=home, env=scrubbed())
    assert migrated.returncode == 0 and migrated.stdout.startswith(("already at ", "migrated from ")), migrated
    status = run("projections", "status", cwd=home, env=scrubbed())
    assert status.returncode == 0, status.stderr
    assert all(name in status.stdout for name in ("rooms", "user_reservations", "order_details", "listeners"))
    version = run("--version", cwd=home, env=scrubbed())
    assert re.fullmatch(r"app \d+\.\d+\.\d+\n", version.stdout)


# -- the container's documented environment ------------------------------------------------


def dockerfile_environment() -> dict[str, str]:
    """The app's variables among the Dockerfile's ENV (HOST, PORT, LOG_FORMAT)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = dict(p.split("=", 1) for line in re.findall(r"^ENV (.+)$", text, re.M) for p in line.split())
    return {k: v for k, v in pairs.items() if k in _ENV}


def docker_run_environment() -> dict[str, str]:
    """The `-e NAME=VALUE` of the README's `docker run` line, as a shell expands them (a
    `docker` function that prints its arguments stands in for Docker)."""
    (line,) = re.findall(r"^docker run .*$", README, re.M)
    args = subprocess.run(
        ["bash", "-c", "docker() { shift; printf '%s\\0' \"$@\"; }\n" + line], capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return dict(args[i + 1].split("=", 1) for i, arg in enumerate(args) if arg == "-e")


def compose_app_environment(secret: str) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {"app", "postgres", "nats"} <= set(compose["services"]) and {"pgdata", "natsdata"} <= set(compose["volumes"])
    assert all("healthcheck" in compose["services"][s] for s in ("app", "postgres"))
    values = {k: str(v) for k, v in compose["services"]["app"]["environment"].items()}
    assert values["AUTH_JWT_SECRET"].startswith("${AUTH_JWT_SECRET:?")  # compose refuses to start without it
    return {**values, "AUTH_JWT_SECRET": secret}


def pointed_at(env: dict[str, str], database_url: str, nats_url: str) -> dict[str, str]:
    """The documented environment with the hosts it names (db, postgres, nats) replaced by
    this machine's, and a free port: nothing else changed."""
    assert urlsplit(env["DATABASE_URL"]).scheme == "postgresql"
    return {**env, "DATABASE_URL": database_url, **({"NATS_URL": nats_url} if "NATS_URL" in env else {})}


@pytest.mark.parametrize("source", ["docker run", "compose.yaml"])
def test_the_containers_documented_environment_starts_and_serves(
    source: str, production_env: Path, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    documented = docker_run_environment() if source == "docker run" else compose_app_environment(secrets.token_hex(32))
    assert {"DATABASE_URL", "AUTH_JWT_SECRET"} <= set(documented)
    assert len(documented["AUTH_JWT_SECRET"]) >= 32
    env = scrubbed(**dockerfile_environment(), **pointed_at(documented, database_url, nats_url))
    app = production_env / "bin" / "app"
    with serving([], tmp_path, env, app) as server:
        assert '"auth is OFF' not in server.log() and "Traceback" not in server.log()
        token = run("token", "--sub", "ops", "--role", "admin", cwd=tmp_path, env=env, app=app)
        assert token.returncode == 0, token.stderr
        room = httpx.post(
            f"{server.url}/rooms",
            json={"name": "Container room", "capacity": 3},
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
        )
        assert room.status_code == 201, room.text
        assert httpx.post(f"{server.url}/rooms", json={"name": "Anonymous", "capacity": 3}).status_code == 401
